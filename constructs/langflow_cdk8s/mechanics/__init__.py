"""What the public constructs compose: cdk8s-plus workloads, hardening, networking, labels, shared values."""
