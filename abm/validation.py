"""What each configuration field allows, and the one error raised when a value breaks it.

The typed configuration (:mod:`abm.config`, :mod:`abm.policies`) checks its fields here, and the
scenario-file reader (``experiments/scenario.py``) turns the same :class:`ConfigError` into a
message naming the file and the dotted key, so the allowed values are written down once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


class ConfigError(ValueError):
    """A configuration value is not allowed: names the field, the value and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str, problem: str = "") -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.problem = problem or f"{value!r} out of range"
        super().__init__(f"{field}: {self.reason}")

    @property
    def reason(self) -> str:
        """The message without the field name: what is wrong and what is allowed."""
        return f"{self.problem}; expected {self.allowed}"


def _fmt(number: float) -> str:
    """A bound written without a spurious trailing '.0'."""
    return f"{number:g}"


@dataclass(frozen=True, slots=True)
class Range:
    """What a numeric field accepts: integer or number, with optional (inclusive) bounds."""

    integer: bool
    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def describe(self) -> str:
        """The allowed values in words, for error messages."""
        kind = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            return f"{kind} in {left}{_fmt(self.low)}, {_fmt(self.high)}]"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {_fmt(self.low)}"
        if self.high is not None:
            return f"{kind} <= {_fmt(self.high)}"
        return kind

    def contains(self, value: float) -> bool:
        """Whether a finite value lies within the bounds."""
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high

    def check(self, field: str, value: float) -> None:
        """Raise :class:`ConfigError` unless ``value`` is finite and within the bounds."""
        if not math.isfinite(value) or not self.contains(value):
            raise ConfigError(field, value, self.describe())


def check_choice(field: str, value: object, allowed: Sequence[object], words: str) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``allowed`` (``words`` says which)."""
    if value not in allowed:
        raise ConfigError(field, value, words, problem=f"{value!r} not allowed")
