"""Plain words for PRIM boxes: factor labels, numbers, goals and the one-sentence description.

:func:`describe` turns a box into one sentence, using the parameter registry
(:data:`abm.config.PARAMETER_META`) and the lever descriptions (:data:`abm.policies.LEVERS`)
for the labels of the inputs (:func:`factor_label`) and :mod:`abm.outcomes` (through
:func:`experiments.figures.describe_outcome`) for the goal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from abm.config import PARAMETER_META
from abm.policies import LEVERS
from experiments import figures
from experiments.discovery.prim import PrimBox

# units not worth printing after a number in a sentence
_UNITLESS = {"", "-", "share", "probability", "weight", "authority", "index 0-1"}
_OPERATOR_WORDS = {">=": "at least", "<=": "at most", ">": "above", "<": "below"}


def format_number(value: float, digits: int = 2) -> str:
    """A number for a sentence: ``digits`` significant digits, no exponent, thousands commas."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    if abs(rounded) >= 10 ** (digits - 1) or rounded == int(rounded):
        return f"{rounded:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(abs(rounded)))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def percent(share: float) -> str:
    """A share as a whole percentage for text, ``n/a`` when it is undefined (NaN)."""
    return "n/a" if share != share else f"{share:.0%}"


def _human(name: str) -> str:
    return name.replace("_", " ")


# unit endings of registry names, left out of a label because the unit follows the number
_UNIT_SUFFIXES = (
    "_eur_per_capita_per_year",
    "_person_months",
    "_eur_per_t",
    "_months",
    "_years",
    "_pp",
)


def _strip_doc(doc: str) -> str:
    """A registry doc without its symbol prefix ('b3: burden ...' -> 'burden ...')."""
    return re.sub(r"^[\w ]{1,12}:\s*", "", doc)


def _readable(doc: str) -> bool:
    """Does a registry doc read as a noun phrase that names the parameter on its own?"""
    words = doc.split()
    return (
        len(words) >= 3
        and not any(mark in doc for mark in ("->", "~", "_", "^"))
        and len(words[0]) > 1
        and len(words[-1]) > 1
        and words[-1] not in {"after", "than", "of", "to", "by", "for", "per"}
    )


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
_DOC_COUNTS: dict[str, int] = {}
for _meta in PARAMETER_META.values():
    _doc = _strip_doc(str(_meta["doc"]))
    _DOC_COUNTS[_doc] = _DOC_COUNTS.get(_doc, 0) + 1


def factor_label(name: str, kind: str = "") -> tuple[str, str]:
    """A readable label and unit for an input: registry doc for parameters, brief for levers.

    A parameter's doc is used when it reads as a name on its own (three words or more, no
    symbols, unique in the registry); otherwise the parameter's name with underscores as
    spaces and its unit ending dropped. ``kind`` is the factor kind from the sweep manifest
    (``lever``, ``package``, ...), if known.
    """
    base = name.split("=", 1)[0]
    if base in PARAMETER_META:
        meta = PARAMETER_META[base]
        doc = _strip_doc(str(meta["doc"]))
        unit = str(meta["unit"])
        if _readable(doc) and _DOC_COUNTS.get(doc, 0) == 1:
            return doc, unit
        stem = base
        for suffix in _UNIT_SUFFIXES:
            if stem.endswith(suffix) and len(stem) > len(suffix):
                stem = stem.removesuffix(suffix)
                break
        return _human(stem), unit
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
