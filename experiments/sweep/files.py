"""The files of a sweep directory: their names, the manifest, and removing killed writes' debris."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from abm.rng import design_seed
from experiments.experiment import (
    Experiment,
)
from experiments.results import (
    fingerprint,
    new_manifest,
    run_id_for,
    stable_config,
)
from experiments.store import STORE_FILE

RUNS_FILE = "runs.parquet"
MANIFEST_FILE = "manifest.json"
ADEQUACY_CSV = "replicate_adequacy.csv"
ADEQUACY_PNG = "replicate_adequacy.png"
EXTRA_PACKAGES: tuple[str, ...] = ("dask", "distributed", "tqdm")


@dataclass
class _Counts:
    total: int = 0
    unique: int = 0
    reused: int = 0
    new: int = 0
    failed_new: int = 0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(
    exp: Experiment,
    X: np.ndarray,
    seeds: Sequence[int],
    code: Mapping[str, str],
    counts: _Counts,
    *,
    backend_info: Mapping[str, Any],
    design: Mapping[str, Any],
    wall_s: float,
    command: str | None,
    files: Sequence[str],
    failed: int,
) -> dict[str, Any]:
    """Provenance of a sweep: inputs, design, seeds, code and package versions, counts."""
    scenario = exp.scenario_path
    inputs = {
        "experiment_sha256": _sha256(exp.path),
        "base": stable_config(exp.base),
        "seeds": [int(s) for s in seeds],
        "design_sha256": hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest(),
    }
    info = new_manifest(
        "sweep",
        run_id_for("sweep", fingerprint(inputs)),
        command=command or "",
        configs=[exp.base],
        seeds=seeds,
        experiment=exp.name,
        experiment_file=str(exp.path),
        experiment_sha256=_sha256(exp.path),
        experiment_toml=exp.path.read_text(encoding="utf-8"),
        base_scenario_file=str(scenario) if scenario else None,
        base_scenario_sha256=_sha256(scenario) if scenario else None,
        base_config=exp.base.as_dict(),
        factors=[dataclasses.asdict(f) for f in exp.factors],
        packages={name: list(levers) for name, levers in exp.packages.items()},
        lever_start_years=dict(exp.start_years),
        posterior_factor=dict(exp.posterior_info) or None,  # [posterior] table (issue 13)
        outcomes=list(exp.outcomes),
        design={
            **design,
            "design_seed": design_seed(exp.seed) if design["method"] != "given" else None,
            "points": len(X),
            "factors": exp.factor_names,
        },
        master_seed=exp.seed,
        replicates=exp.replicates,
        runs={
            "rows": counts.total,
            "distinct": counts.unique,
            "reused": counts.reused,
            "simulated": counts.new,
            "failed_now": counts.failed_new,
            "failed": failed,
        },
        backend=dict(backend_info),
        wall_time_s=round(wall_s, 3),
        model_sha256=code["model_sha256"],
        store=STORE_FILE,
        files=list(files),
    )
    info["code_version"] = code["git"]  # the version the run keys were made with
    for name in EXTRA_PACKAGES:
        try:
            info["package_versions"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info["package_versions"][name] = "not installed"
    return info


def clear_debris(directory: Path, names: Iterable[str]) -> None:
    """Remove the temporaries a killed write of ``names`` left in ``directory``.

    A command killed while writing (even ``kill -9``) can leave the temporary sibling of
    :func:`experiments.results.atomic_file` (``.<name>.*``) or the staging directory of
    :func:`experiments.results.staged_files` (``.staged.*``); a rerun into the same directory
    removes them before it writes, so nothing of an interrupted write is kept.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return
    patterns = [".staged.*", *(f".{name}.*" for name in names)]
    for pattern in patterns:
        for stale in directory.glob(pattern):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
