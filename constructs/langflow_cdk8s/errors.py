"""The one error type bad input raises, so the CLI can print it in two lines instead of a stack trace."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad input: names the prop or file, the offending value, and what to do about it."""

    def __init__(self, where: str, problem: str, fix: str) -> None:
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(f"{where}: {problem}\n  fix: {fix}")
