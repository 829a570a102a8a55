"""The inputs of ``govsim discover``: the goal, the sweep's runs and manifest, the input columns."""

from __future__ import annotations

import argparse
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.discovery.prim import BoolArray
from experiments.errors import BadInput
from experiments.results import read_manifest

# the results kinds whose directories hold a runs.parquet that discover reads
SWEEP_KINDS: tuple[str, ...] = ("sweep",)

# comparison operators of a goal, longest first so '>=' is not read as '>'
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class Goal:
    """``outcome op value``, e.g. ``emissions_reduction_2050_pct >= 50``."""

    outcome: str
    op: str
    value: float

    def test(self, values: pd.Series) -> BoolArray:
        """Which values meet the goal."""
        return np.asarray(_OPERATORS[self.op](values.to_numpy(dtype=float), self.value))

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.value:g}"


def parse_goal(text: str) -> Goal:
    """Read ``'COL >= V'`` (operators >=, >, <=, <)."""
    match = re.fullmatch(r"\s*([A-Za-z_][\w.=\-]*)\s*(>=|<=|>|<)\s*(\S+)\s*", text)
    if match is None:
        raise BadInput(f"--goal {text!r}: expected 'COLUMN OP VALUE' with OP one of >=, >, <=, <")
    try:
        value = float(match.group(3))
    except ValueError:
        raise BadInput(f"--goal {text!r}: {match.group(3)!r} is not a number") from None
    return Goal(match.group(1), match.group(2), value)


def goal_from_args(args: argparse.Namespace) -> Goal:
    """The goal: ``--goal``, or ``--outcome`` with ``--above`` or ``--below``."""
    if args.goal is not None:
        goal = parse_goal(args.goal)
        if args.outcome is not None and args.outcome != goal.outcome:
            raise BadInput(
                f"--outcome {args.outcome} and --goal {args.goal!r} name different columns"
            )
        return goal
    if args.outcome is None:
        raise BadInput("--above and --below need --outcome COLUMN")
    return Goal(args.outcome, ">" if args.above is not None else "<", args.threshold)


def read_sweep_manifest(path: Path) -> dict[str, Any] | None:
    """The sweep manifest at ``path`` (beside ``runs.parquet``), or None if there is none.

    A manifest that is there is read by :func:`experiments.results.read_manifest` and must be
    of kind ``sweep``; without one, the input columns are named with ``--inputs``.
    """
    if not path.is_file():
        return None
    return read_manifest(path.parent, SWEEP_KINDS).data


def manifest_factors(manifest: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The factors a sweep manifest lists (dicts with at least a ``name``)."""
    factors = (manifest or {}).get("factors")
    if not isinstance(factors, list):
        return []
    return [f for f in factors if isinstance(f, dict) and "name" in f]


def manifest_outcomes(manifest: Mapping[str, Any] | None) -> list[str]:
    """The outcome names a sweep manifest lists."""
    outcomes = (manifest or {}).get("outcomes")
    if not isinstance(outcomes, list):
        return []
    return [str(o["name"]) if isinstance(o, dict) else str(o) for o in outcomes]


def load_runs(path: Path) -> tuple[pd.DataFrame, int]:
    """The successful runs of a sweep's ``runs.parquet`` and the number of failed runs."""
    if not path.is_file():
        raise BadInput(f"runs file {path} not found")
    try:
        runs = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise BadInput(f"cannot read {path} as Parquet: {exc}") from exc
    n_failed = 0
    if "status" in runs.columns:
        ok = runs["status"] == "ok"
        n_failed = int((~ok).sum())
        runs = runs[ok].reset_index(drop=True)
    if runs.empty:
        raise BadInput(f"{path} has no successful runs (status 'ok'); {n_failed} failed")
    return runs, n_failed


def choose_inputs(
    runs: pd.DataFrame, path: Path, manifest_path: Path, args_inputs: str | None, outcome: str
) -> list[str]:
    """The input columns: ``--inputs`` if given, else the factors of the sweep's manifest."""
    if args_inputs:
        inputs = [name.strip() for name in args_inputs.split(",") if name.strip()]
        source = "--inputs"
    else:
        factors = manifest_factors(read_sweep_manifest(manifest_path))
        if not factors:
            raise BadInput(
                f"{manifest_path} is missing or lists no 'factors'; name the input columns of "
                f"{path} with --inputs a,b,c"
            )
        inputs = [str(f["name"]) for f in factors]
        source = str(manifest_path)
    unknown = [name for name in inputs if name not in runs.columns]
    if unknown:
        raise BadInput(
            f"{source}: no column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)} in {path} "
            f"(columns: {', '.join(map(str, runs.columns))})"
        )
    if outcome in inputs:
        raise BadInput(f"{source}: the outcome {outcome!r} cannot also be an input")
    return inputs
