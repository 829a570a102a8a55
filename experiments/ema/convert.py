"""Results both ways: a govsim sweep as EMA's ``(experiments, outcomes)``, and back.

A govsim sweep (or sensitivity study) has one row per run (design point x replicate seed) in
``runs.parquet``. As EMA results it becomes one experiment per successful run: the
experiments table holds the factor columns, the govsim bookkeeping columns ``replicate`` and
``seed``, and EMA's ``scenario``, ``policy`` (both the design point: a govsim point sets
uncertainties and levers together) and ``model`` (the experiment's name); each outcome is a
scalar outcome, one value per experiment. :func:`write_archive` saves that with
``ema_workbench.save_results``. The other way, :func:`ema_to_sweep` turns what
``load_results`` returns (from this export or from ``perform_experiments``) into a runs
table in the sweep's format, and :func:`write_sweep_dir` writes it as a govsim results
directory of kind ``sweep`` that ``govsim report`` and ``govsim discover`` open.
"""

from __future__ import annotations

import hashlib
import math
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.config import PARAMETER_META
from abm.policies import LEVER_NAMES
from experiments.ema.workbench import ema
from experiments.errors import BadInput
from experiments.experiment import RESERVED_COLUMNS
from experiments.results import (
    atomic_dir,
    atomic_file,
    fingerprint,
    new_manifest,
    read_manifest,
    run_id_for,
    write_manifest,
)
from experiments.sweep import ADEQUACY_CSV, RUNS_FILE, replicate_adequacy

# EMA's own columns of an experiments table
EMA_COLUMNS: tuple[str, ...] = ("scenario", "policy", "model")
# govsim columns this export adds to the experiments table (one experiment per run)
BOOKKEEPING: tuple[str, ...] = ("replicate", "seed")
EXPORT_KINDS: tuple[str, ...] = ("sweep", "sensitivity")
UNKNOWN_SEED = -1


class ArchiveError(BadInput):
    """An EMA results archive cannot be read or turned into a govsim results directory."""


@dataclass
class EmaResults:
    """EMA's ``(experiments, outcomes)`` with where they came from."""

    experiments: pd.DataFrame
    outcomes: dict[str, np.ndarray]
    source: Path
    left_out: dict[str, str] = field(default_factory=dict)  # what was not carried over, why

    @property
    def results(self) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """The pair ``save_results`` and EMA's analysis functions take."""
        return self.experiments, self.outcomes


def _factor_names(data: Mapping[str, Any], path: Path) -> list[str]:
    """The factor names of a sweep manifest (``factors``) or sensitivity one (``study``)."""
    factors = data.get("factors")
    if not isinstance(factors, list):
        study = data.get("study")
        factors = study.get("factors") if isinstance(study, dict) else None
    names = [str(f["name"]) for f in factors or [] if isinstance(f, dict) and "name" in f]
    if not names:
        raise BadInput(f"{path}: no 'factors' (or 'study.factors') with names; nothing to export")
    return names


def sweep_to_ema(results_dir: str | Path) -> EmaResults:
    """A sweep's or sensitivity study's runs as EMA results (successful runs only)."""
    folder = Path(results_dir)
    manifest = read_manifest(folder, EXPORT_KINDS)
    path = folder / RUNS_FILE
    if not path.is_file():
        raise BadInput(f"{path} not found; a {manifest.kind} directory has a {RUNS_FILE}")
    try:
        runs = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise BadInput(f"cannot read {path} as Parquet: {exc}") from exc
    factors = _factor_names(manifest.data, manifest.path)
    outcomes = [str(o) for o in manifest.data.get("outcomes") or []]
    needed = ["point", "replicate", "seed", "status", *factors, *outcomes]
    missing = [c for c in needed if c not in runs.columns]
    if missing:
        raise BadInput(
            f"{path}: no column {', '.join(repr(c) for c in missing)} (named by "
            f"{manifest.path}); columns: {', '.join(map(str, runs.columns))}"
        )
    ok = runs[runs["status"] == "ok"].reset_index(drop=True)
    failed = len(runs) - len(ok)
    name = str(manifest.data.get("experiment") or manifest.kind)
    experiments = ok[factors].copy()
    experiments["replicate"] = ok["replicate"].astype("int64")
    experiments["seed"] = ok["seed"].astype("int64")
    experiments["scenario"] = ok["point"].astype("int64")
    experiments["policy"] = ok["point"].astype("int64")
    experiments["model"] = pd.Series([name] * len(ok), dtype="category")
    values = {o: ok[o].to_numpy(dtype=float) for o in outcomes}
    left_out = {"failed runs": str(failed)} if failed else {}
    return EmaResults(experiments, values, folder, left_out)


def _register(outcomes: Mapping[str, np.ndarray], where: Path) -> None:
    """Declare each outcome to EMA (``save_results`` looks its kind up by name)."""
    for name, values in outcomes.items():
        kind = ema.ScalarOutcome if np.ndim(values) == 1 else ema.ArrayOutcome
        try:
            kind(name)
        except ValueError as exc:  # EMA's registry holds the name with another outcome class
            raise ArchiveError(f"{where}: outcome {name!r}: {exc}") from exc


def write_archive(results: EmaResults, path: str | Path) -> Path:
    """Save ``results`` with ``ema_workbench.save_results`` to ``path`` (atomically)."""
    out = Path(path)
    if out.exists() and out.is_dir():
        raise BadInput(f"--out {out} is a directory; expected a file name such as results.tar.gz")
    _register(results.outcomes, out)
    with atomic_file(out) as tmp:
        ema.save_results(results.results, str(tmp))
    return out


def read_archive(path: str | Path) -> EmaResults:
    """``ema_workbench.load_results`` of ``path``; ArchiveError naming the file if it fails."""
    file = Path(path)
    if not file.is_file():
        what = "is a directory" if file.is_dir() else "not found"
        raise ArchiveError(f"EMA results archive {file} {what}; expected a .tar.gz file")
    if not tarfile.is_tarfile(file):
        raise ArchiveError(
            f"{file} is not a tar archive; expected an EMA results archive (save_results)"
        )
    try:
        experiments, outcomes = ema.load_results(str(file))
    except (KeyError, ValueError, OSError, tarfile.TarError, TypeError) as exc:
        raise ArchiveError(
            f"{file} is not an EMA results archive ({type(exc).__name__}: {exc}); expected "
            "experiments.csv, metadata.json and one file per outcome, as save_results writes"
        ) from exc
    return EmaResults(experiments, dict(outcomes), file)


@dataclass
class SweepTable:
    """An EMA archive as a govsim sweep: runs table, factors, outcomes, seeds."""

    runs: pd.DataFrame
    factors: list[dict[str, Any]]
    outcomes: list[str]
    seeds: list[int]
    replicates: int
    points: int
    name: str
    left_out: dict[str, str]


def _factor(name: str, column: pd.Series) -> dict[str, Any]:
    """A factor of the manifest: kind from govsim's tables, range from the values."""
    kind = "parameter" if name in PARAMETER_META else "lever" if name in LEVER_NAMES else ""
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    low = float(column.min()) if numeric and len(column) else None
    high = float(column.max()) if numeric and len(column) else None
    return {"name": name, "kind": kind or "uncertainty", "low": low, "high": high, "group": name}


def ema_to_sweep(results: EmaResults) -> SweepTable:
    """EMA results as a runs table in the sweep's format (one row per experiment).

    Experiments written by :func:`sweep_to_ema` keep their design point (``scenario``),
    replicate and seed; other archives get one design point per experiment, replicate 0 and
    seed -1 (unknown). Outcomes that are not one number per experiment (time series, arrays)
    are left out and listed; masked (failed) experiments get status ``failed``.
    """
    source, experiments = results.source, results.experiments
    n = len(experiments)
    left_out = dict(results.left_out)
    scalars: dict[str, np.ndarray] = {}
    for name, values in results.outcomes.items():
        if np.shape(values) != (n,):
            left_out[name] = f"shape {np.shape(values)}, not one number per experiment"
        else:
            scalars[str(name)] = np.asarray(values)
    if not scalars:
        raise ArchiveError(
            f"{source}: no outcome with one number per experiment ({n} experiments); "
            f"outcomes: {', '.join(f'{k} {v}' for k, v in left_out.items()) or 'none'}"
        )
    ours = all(c in experiments.columns for c in (*BOOKKEEPING, "scenario"))
    skip = {*EMA_COLUMNS, *(BOOKKEEPING if ours else ())}
    factor_names = [str(c) for c in experiments.columns if c not in skip]
    clash = sorted({*factor_names, *scalars} & {*RESERVED_COLUMNS, "point"})
    clash += sorted(set(factor_names) & set(scalars))
    if clash:
        raise ArchiveError(
            f"{source}: column(s) {', '.join(clash)} clash with the runs table's own columns "
            f"({', '.join(RESERVED_COLUMNS)}, point) or with an outcome; rename them in EMA"
        )
    if not factor_names:
        raise ArchiveError(f"{source}: experiments.csv has no factor columns")
    masked = np.zeros(n, dtype=bool)
    for values in scalars.values():
        masked |= np.ma.getmaskarray(values)
    if ours:
        point = experiments["scenario"].astype("int64").to_numpy()
        replicate = experiments["replicate"].astype("int64").to_numpy()
        seed = experiments["seed"].astype("int64").to_numpy()
    else:
        point, replicate = np.arange(n), np.zeros(n, dtype="int64")
        seed = np.full(n, UNKNOWN_SEED, dtype="int64")
    frame = pd.DataFrame(
        {
            "point": point.astype("int64"),
            "replicate": replicate.astype("int64"),
            "seed": seed.astype("int64"),
            "run_key": [f"ema:{source.name}:{i}" for i in range(n)],
            "status": np.where(masked, "failed", "ok"),
            "error": [("no outcome in the EMA archive" if m else None) for m in masked],
        }
    )
    for name in factor_names:
        column = experiments[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(str)
        frame[name] = column.to_numpy()
    for name, values in scalars.items():
        frame[name] = np.ma.filled(np.ma.asarray(values, dtype=float), math.nan)
    by_replicate = frame.groupby("replicate")["seed"].first()
    seeds = [int(s) for s in by_replicate] if ours else []
    model = experiments["model"].astype(str).iloc[0] if "model" in experiments and n else ""
    return SweepTable(
        runs=frame,
        factors=[_factor(name, frame[name]) for name in factor_names],
        outcomes=list(scalars),
        seeds=seeds,
        replicates=int(frame["replicate"].max()) + 1 if n else 0,
        points=int(frame["point"].nunique()),
        name=model or source.name.split(".")[0],
        left_out=left_out,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sweep_dir(
    table: SweepTable,
    archive: Path,
    out_dir: str | Path,
    *,
    command: str,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``table`` as a govsim sweep directory (runs, adequacy, manifest), atomically."""
    digest = _sha256(archive)
    files = [RUNS_FILE, ADEQUACY_CSV, "manifest.json"]
    manifest = new_manifest(
        "sweep",
        run_id_for("sweep", fingerprint({"ema_archive_sha256": digest})),
        command=command,
        seeds=table.seeds,
        experiment=table.name,
        origin="ema_workbench results archive (govsim export --format govsim)",
        source_archive=str(archive),
        source_archive_sha256=digest,
        factors=table.factors,
        outcomes=table.outcomes,
        left_out=table.left_out,
        design={
            "method": "ema",
            "points": table.points,
            "factors": [f["name"] for f in table.factors],
        },
        master_seed=None,
        replicates=table.replicates,
        runs={"rows": len(table.runs), "failed": int((table.runs["status"] != "ok").sum())},
        files=files,
    )
    with atomic_dir(Path(out_dir), overwrite) as tmp:
        table.runs.to_parquet(tmp / RUNS_FILE, index=False)
        replicate_adequacy(table.runs, table.outcomes).to_csv(tmp / ADEQUACY_CSV, index=False)
        write_manifest(tmp, manifest)
    return manifest
