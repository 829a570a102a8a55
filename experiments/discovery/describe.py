"""Plain words for PRIM boxes: factor labels, numbers, goals and the one-sentence description.

:func:`describe` turns a box into one sentence, using the parameter registry
(:data:`abm.config.PARAMETER_META`) and the lever descriptions (:data:`abm.policies.LEVERS`)
for the labels of the inputs (:func:`factor_label`) and :mod:`abm.outcomes` (through
:func:`experiments.figures.describe_outcome`) for the goal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from abm.config import PARAMETER_META, parameter_label
from abm.policies import LEVERS
from experiments import figures
from experiments.discovery.prim import PrimBox
from experiments.text import format_number

# units not worth printing after a number in a sentence
_UNITLESS = {"", "-", "share", "probability", "weight", "authority", "index 0-1"}
_OPERATOR_WORDS = {">=": "at least", "<=": "at most", ">": "above", "<": "below"}


def percent(share: float) -> str:
    """A share as a whole percentage for text, ``n/a`` when it is undefined (NaN)."""
    return "n/a" if share != share else f"{share:.0%}"


def _human(name: str) -> str:
    return name.replace("_", " ")


def _short_brief(text: str, max_chars: int = 60) -> str:
    """The first clause of a lever's brief text, about ``max_chars`` long, in sentence case."""
    text = re.split(r"[;:]|,? incl\.", text)[0].strip()
    if len(text) > max_chars:
        cuts = [
            m.start() for m in re.finditer(r", | with | for | such as ", text) if m.start() > 15
        ]
        fitting = [c for c in cuts if c <= max_chars]
        if fitting or cuts:
            text = text[: max(fitting) if fitting else min(cuts)]
    words = text.split()
    if len(words) > 1 and words[1][:1].islower():
        text = text[:1].lower() + text[1:]
    return text


_LEVER_TEXT = {info.name: _short_brief(info.brief) for info in LEVERS}


def factor_label(name: str, kind: str = "") -> tuple[str, str]:
    """A readable label and unit for an input: registry doc for parameters, brief for levers.

    A parameter's label is :func:`abm.config.parameter_label`'s. ``kind`` is the factor kind
    from the sweep manifest (``lever``, ``package``, ...), if known.
    """
    base = name.split("=", 1)[0]
    if base in PARAMETER_META:
        return parameter_label(base), str(PARAMETER_META[base]["unit"])
    if base in _LEVER_TEXT:
        return _LEVER_TEXT[base], "intensity"
    if kind == "package":
        return f"the {_human(base)}" + ("" if "package" in base else " package"), "intensity"
    return _human(base), ""


def _condition(row: Mapping[str, Any], name: str, kind_hint: str = "") -> str:
    """One restriction of a box as words, e.g. 'staff time for a bid is below 2.5 person-months'."""
    label, unit = factor_label(name, kind_hint)
    low, high = float(row["low"]), float(row["high"])  # NaN for a text input
    has_low = low > float(row["data_low"])
    has_high = high < float(row["data_high"])
    if row["kind"] == "category":
        categories = str(row["categories"]).split("|")
        words = categories[0] if len(categories) == 1 else f"one of {_join(categories)}"
        return f"{label} is {words}"
    if row["kind"] == "binary":
        on = low >= 1
        if name in _LEVER_TEXT:
            return f"the lever {label} is {'on' if on else 'off'}"
        if kind_hint == "package":
            return f"{label} is {'used' if on else 'not used'}"
        return f"{label} is {'on' if on else 'off'}"
    subject = f"the intensity of {label}" if unit == "intensity" else label
    shown = "" if unit in _UNITLESS or unit == "intensity" else unit
    suffix = shown if shown == "%" else f" {shown}".rstrip()
    a, b = format_number(low) + suffix, format_number(high) + suffix
    if has_low and has_high:
        return f"{subject} is between {a} and {b}"
    return f"{subject} is above {a}" if has_low else f"{subject} is below {b}"


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def goal_text(outcome: str, op: str, value: float) -> str:
    """The goal in words, e.g. 'the EU emissions cut by 2050 (vs start year) is at least 50%'."""
    info = figures.describe_outcome(outcome)
    unit = info.unit if info.unit != "model units" else ""
    number = format_number(value * info.scale, 3)
    shown = f"{number}{unit}" if unit == "%" else f"{number} {unit}".strip()
    return f"{info.label} is {_OPERATOR_WORDS.get(op, op)} {shown}"


def describe(
    box: PrimBox,
    outcome: str,
    goal_text: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> str:
    """The box in one plain sentence: goal, share of runs meeting it, conditions, statistics.

    ``goal_text`` says what was asked (e.g. 'the full package halves city emissions by
    2040'); without it the outcome's label is used. ``kinds`` maps input names to the factor
    kinds of the sweep manifest (``lever``, ``package``, ...) to word on/off inputs.
    """
    goal = goal_text or f"{figures.describe_outcome(outcome).label} meets the goal"
    goal = goal[:1].upper() + goal[1:]
    stats = (
        f"coverage {percent(box.coverage)}, density {percent(box.density)}, "
        f"{percent(box.mass)} of runs"
    )
    hints = kinds or {}
    conditions = [
        _condition(box.limit(name), name, hints.get(name.split("=", 1)[0], ""))
        for name in box.restricted
    ]
    if not conditions:
        return (
            f"{goal} in {percent(box.density)} of all runs, and no range of the inputs "
            f"singles out where it is met more often ({stats})."
        )
    return f"{goal} in {percent(box.density)} of runs when {_join(conditions)} ({stats})."
