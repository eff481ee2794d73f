"""The value types the public constructs take: plain, validated, frozen dataclasses (no cdk8s)."""
