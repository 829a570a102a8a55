"""Calibration targets: survey distributions with provenance, loaded and checked from TOML.

Each file in ``calibration/targets/`` holds the items of one survey instrument as an array of
``[[targets]]`` tables (written by ``scripts/transcribe_targets.py`` from
``calibration/survey_targets.json``). An entry gives the item's ``kind`` (likert, categorical or
multi_select), its sample size ``n``, its ``categories`` and either ``counts`` or ``shares``
(fractions), plus where it comes from: document, question, population, source unit, how it
was transcribed and the essential caveat. Loading is strict: every problem in every file is
collected and reported together, each line naming the file, the entry id, the key and what is
allowed.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

TARGETS_DIR = Path(__file__).resolve().parent / "targets"
# dynamic patterns (hand-written, not transcribed from the survey JSON)
DYNAMICS_DIR = Path(__file__).resolve().parent / "dynamics"

Kind = Literal["likert", "categorical", "multi_select"]
KINDS: tuple[Kind, ...] = ("likert", "categorical", "multi_select")
# likert items are ordinal; a categorical item is nominal unless its classes are ordered;
# a multi_select item has no scale (each category is its own yes/no question).
SCALES: Mapping[str, tuple[str, ...]] = {
    "likert": ("ordinal",),
    "categorical": ("nominal", "ordinal"),
    "multi_select": (),
}
SHARE_SUM_TOLERANCE = 0.02
TEXT_KEYS: tuple[str, ...] = (
    "source_unit",
    "transcription",
    "document",
    "question",
    "population",
    "caveat",
)
ENTRY_KEYS: tuple[str, ...] = (
    "id",
    "instrument",
    "kind",
    "scale",
    "n",
    "categories",
    "counts",
    "shares",
    *TEXT_KEYS,
)
FILE_KEYS: tuple[str, ...] = ("targets",)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class TargetError(ValueError):
    """Target files could not be loaded; the message lists every problem, one per line."""


@dataclass(frozen=True, eq=False)
class Target:
    """One survey item as a calibration target: its observed distribution and provenance.

    ``shares`` are fractions: for likert and categorical items the distribution over
    ``categories`` (as transcribed; sums to 1 within ``SHARE_SUM_TOLERANCE``), for multi_select
    items the independent share of respondents choosing each category. ``counts`` are the
    respondent counts when the source gives them, else None.
    """

    id: str
    instrument: str
    kind: Kind
    scale: str | None
    n: int
    categories: tuple[str, ...]
    shares: FloatArray
    counts: IntArray | None
    source_unit: str
    transcription: str
    document: str
    question: str
    population: str
    caveat: str
    file: Path

    def expected_counts(self) -> FloatArray:
        """Respondents per category implied by the shares and n (``n * shares``)."""
        return self.n * self.shares

    def share_variances(self) -> FloatArray:
        """Sampling variance of each share, ``p(1-p)/n``: the MSM weights' denominators."""
        return self.shares * (1.0 - self.shares) / self.n


@dataclass(frozen=True, eq=False)
class TargetSet(Mapping[str, Target]):
    """Targets by id, in file order (files sorted by name)."""

    targets: Mapping[str, Target]

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))

    def __getitem__(self, target_id: str) -> Target:
        return self.targets[target_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def ids(self) -> tuple[str, ...]:
        """The target ids in order."""
        return tuple(self.targets)

    def by_instrument(self) -> dict[str, TargetSet]:
        """The targets split by survey instrument."""
        groups: dict[str, dict[str, Target]] = {}
        for target in self.targets.values():
            groups.setdefault(target.instrument, {})[target.id] = target
        return {name: TargetSet(group) for name, group in groups.items()}

    def select(self, ids: Iterable[str]) -> TargetSet:
        """The targets with the given ids, in the order given; unknown ids are an error."""
        wanted = list(ids)
        unknown = [i for i in wanted if i not in self.targets]
        if unknown:
            raise TargetError(
                f"unknown target id(s): {', '.join(unknown)}; allowed: {', '.join(self.ids)}"
            )
        return TargetSet({i: self.targets[i] for i in wanted})


def load_targets(
    directory: Path | None = None, *, known_items: Collection[str] | None = None
) -> TargetSet:
    """Load and check every ``*.toml`` target file in ``directory`` (default: ``TARGETS_DIR``).

    ``known_items``, if given, are the item ids the caller can simulate; any other id is an
    error. All problems in all files are reported together in one ``TargetError``.
    """
    folder = TARGETS_DIR if directory is None else Path(directory)
    files = sorted(folder.glob("*.toml"))
    problems: list[str] = []
    if not files:
        problems.append(f"{folder}: no target files (*.toml)")
    targets: dict[str, Target] = {}
    for file in files:
        for target in _EntryReader(file, problems, known_items).read():
            if target.id in targets:
                problems.append(
                    f"{file}: target '{target.id}': id: duplicate; also in "
                    f"{targets[target.id].file}; ids must be unique across files"
                )
            else:
                targets[target.id] = target
    if problems:
        raise TargetError(f"{len(problems)} problem(s) in target files:\n" + "\n".join(problems))
    return TargetSet(targets)


class _EntryReader:
    """Checks the entries of one target file, recording each problem with file, id and key."""

    def __init__(
        self, file: Path, problems: list[str], known_items: Collection[str] | None
    ) -> None:
        self.file = file
        self.problems = problems
        self.known_items = known_items
        self.where = ""

    def error(self, key: str | None, message: str) -> None:
        """Record a problem at ``key`` of the current entry (None: the file as a whole)."""
        place = ": ".join(part for part in (self.where, key) if part)
        self.problems.append(
            f"{self.file}: {place}: {message}" if place else f"{self.file}: {message}"
        )

    def read(self) -> list[Target]:
        """The file's valid targets; problems are recorded, not raised."""
        try:
            doc = tomllib.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.error(None, f"cannot read the file as UTF-8 TOML: {exc}")
            return []
        for key in sorted(doc.keys() - set(FILE_KEYS)):
            self.error(key, f"unknown top-level key; allowed: {', '.join(FILE_KEYS)}")
        entries = doc.get("targets")
        if not isinstance(entries, list) or not entries:
            self.error("targets", "expected a non-empty array of [[targets]] tables")
            return []
        seen: set[str] = set()
        valid = []
        for index, entry in enumerate(entries):
            self.where = f"targets[{index}]"
            if not isinstance(entry, dict):
                self.error(None, "expected a table")
                continue
            target = self._entry(entry, seen)
            if target is not None:
                valid.append(target)
        return valid

    def _entry(self, entry: dict[str, Any], seen: set[str]) -> Target | None:
        """One checked entry, or None after recording its problems."""
        before = len(self.problems)
        target_id = self._id(entry.get("id"), seen)
        for key in sorted(entry.keys() - set(ENTRY_KEYS)):
            close = difflib.get_close_matches(key, ENTRY_KEYS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.error(key, f"unknown key; allowed: {', '.join(ENTRY_KEYS)}{hint}")
        for key in ("instrument", "kind", "n", "categories", *TEXT_KEYS):
            if key not in entry:
                self.error(key, "missing; every target needs it")
        texts = {key: self._text(key, entry.get(key)) for key in TEXT_KEYS}
        if entry.get("instrument", self.file.stem) != self.file.stem:
            self.error("instrument", f"{entry['instrument']!r}; must be the file's stem")
        kind = self._kind(entry.get("kind"))
        scale = self._scale(kind, entry.get("scale"))
        n = self._n(entry.get("n"))
        categories = self._categories(entry.get("categories"))
        counts, shares = self._values(entry, kind, n, categories)
        if len(self.problems) > before or target_id is None or kind is None or n is None:
            return None
        assert categories is not None and shares is not None
        return Target(
            id=target_id,
            instrument=self.file.stem,
            kind=kind,
            scale=scale,
            n=n,
            categories=categories,
            shares=_frozen(np.asarray(shares, dtype=np.float64)),
            counts=None if counts is None else _frozen(np.asarray(counts, dtype=np.int64)),
            file=self.file,
            **{key: cast(str, value) for key, value in texts.items()},
        )

    def _id(self, value: object, seen: set[str]) -> str | None:
        if not isinstance(value, str) or not value:
            self.error("id", f"expected a non-empty string, got {value!r}")
            return None
        self.where = f"target '{value}'"
        if value in seen:
            self.error("id", "duplicate in this file; ids must be unique")
            return None
        seen.add(value)
        if self.known_items is not None and value not in self.known_items:
            close = difflib.get_close_matches(value, sorted(self.known_items), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            known = ", ".join(sorted(self.known_items))
            self.error("id", f"not a known survey item; allowed: {known}{hint}")
        return value

    def _text(self, key: str, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(key, f"expected a non-empty string, got {value!r}")
            return None
        return value

    def _kind(self, value: object) -> Kind | None:
        if value is None:
            return None
        if value not in KINDS:
            self.error("kind", f"unknown kind {value!r}; allowed: {', '.join(KINDS)}")
            return None
        return value

    def _scale(self, kind: Kind | None, value: object) -> str | None:
        if kind is None:
            return None
        allowed = SCALES[kind]
        if value is None and allowed:
            self.error("scale", f"missing; a {kind} item needs one of: {', '.join(allowed)}")
        elif value is not None and value not in allowed:
            expected = f"one of: {', '.join(allowed)}" if allowed else "no scale key"
            self.error("scale", f"{value!r} not allowed for a {kind} item; expected {expected}")
        return value if isinstance(value, str) else None

    def _n(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.error("n", f"expected a positive integer (respondents), got {value!r}")
            return None
        return value

    def _categories(self, value: object) -> tuple[str, ...] | None:
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(c, str) and c for c in value)
        ):
            self.error("categories", "expected a non-empty array of non-empty strings")
            return None
        if len(set(value)) != len(value):
            self.error("categories", "duplicate category labels; labels must be unique")
            return None
        return tuple(value)

    def _values(
        self,
        entry: Mapping[str, Any],
        kind: Kind | None,
        n: int | None,
        categories: tuple[str, ...] | None,
    ) -> tuple[list[int] | None, list[float] | None]:
        """The counts (or None) and the shares, checked against kind, n and categories."""
        present = [key for key in ("counts", "shares") if key in entry]
        if len(present) != 1:
            self.error("counts", "give exactly one of 'counts' (integers) or 'shares' (fractions)")
            return None, None
        key = present[0]
        values = entry[key]
        integer = key == "counts"
        if not isinstance(values, list) or not all(_is_number(v, integer) for v in values):
            expected = "non-negative integers" if integer else "numbers in [0, 1]"
            self.error(key, f"expected an array of {expected}, got {values!r}")
            return None, None
        if categories is not None and len(values) != len(categories):
            self.error(
                key, f"{len(values)} values for {len(categories)} categories; lengths must match"
            )
            return None, None
        if any(v < 0 for v in values) or (not integer and any(v > 1 for v in values)):
            allowed = "integers >= 0" if integer else "fractions in [0, 1]"
            self.error(key, f"values {values} out of range; allowed: {allowed}")
            return None, None
        if kind is None or n is None:
            return None, None
        total = sum(values)
        one_answer = kind != "multi_select"
        if integer and one_answer and total != n:
            self.error(key, f"counts sum to {total}, not n = {n}; they must sum to n")
        elif integer and not one_answer and max(values) > n:
            self.error(key, f"a count exceeds n = {n}; each must be at most n")
        elif not integer and one_answer and abs(total - 1.0) > SHARE_SUM_TOLERANCE:
            self.error(
                key,
                f"shares sum to {total:.4f}; a {kind} item's shares must sum to 1 "
                f"(tolerance {SHARE_SUM_TOLERANCE}); keep a remainder as its own category",
            )
        if integer:
            return values, [v / n for v in values]
        return None, [float(v) for v in values]


def _is_number(value: object, integer: bool) -> bool:
    """Whether ``value`` is a finite number (an int when ``integer``), booleans excluded."""
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, int)
    return isinstance(value, int | float) and math.isfinite(value)


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The array made read-only, so a frozen Target cannot be changed through it."""
    array.setflags(write=False)
    return array


def load_all_targets() -> TargetSet:
    """The survey targets and the dynamic patterns (``DYNAMICS_DIR``) in one set."""
    survey = load_targets()
    dynamic = load_targets(DYNAMICS_DIR)
    return TargetSet({**survey.targets, **dynamic.targets})
