"""The committed calibrated posterior: export from a calibration run, load, sample, summarise.

``calibration/posterior/`` holds ``draws.csv`` (equally weighted draws, one column per
calibrated parameter), ``particles.csv`` (the last ABC generation with weights),
``summary.csv`` (per parameter: unit, prior range, mean, median, 5% and 95% quantiles) and
``manifest.json`` (calibration run id, spec, code version, target-file hashes, simulations and
wall time). ``govsim run/compare --posterior`` sample parameter sets from ``draws.csv``; the
model's default parameters are the posterior medians (``scripts/apply_posterior.py`` writes
them into the registry and ``tests/test_posterior.py`` checks they agree).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.config import PARAMETER_META, Parameters
from abm.rng import generator

POSTERIOR_DIR = Path(__file__).resolve().parent / "posterior"
FILES = ("draws.csv", "particles.csv", "summary.csv", "manifest.json")


class PosteriorError(ValueError):
    """A posterior directory is missing or inconsistent; the message names file and key."""


@dataclass(frozen=True)
class Posterior:
    """Posterior draws of the calibrated parameters with their provenance."""

    directory: Path
    draws: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def names(self) -> tuple[str, ...]:
        """The calibrated parameters."""
        return tuple(str(c) for c in self.draws.columns)

    @property
    def run_id(self) -> str:
        """The calibration run the posterior comes from."""
        return str(self.manifest.get("run_id", "unknown"))

    def point_estimate(self) -> dict[str, float]:
        """Posterior median of each calibrated parameter."""
        return {str(r["name"]): float(r["median"]) for r in self.summary.to_dict("records")}

    def sample(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets drawn (with replacement) from the draws, reproducibly."""
        rng = generator(seed, "posterior_draws")
        idx = rng.integers(0, len(self.draws), size=n)
        return [
            {name: float(self.draws.iloc[i][name]) for name in self.names} for i in idx.tolist()
        ]

    def describe(self) -> dict[str, Any]:
        """Provenance for manifests of runs that use this posterior."""
        return {
            "directory": str(self.directory),
            "run_id": self.run_id,
            "parameters": list(self.names),
            "n_draws": len(self.draws),
        }


def load_posterior(directory: Path | None = None) -> Posterior:
    """Read and check a posterior directory (default: the committed one)."""
    folder = Path(directory) if directory is not None else POSTERIOR_DIR
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise PosteriorError(
            f"{folder}: not a posterior directory; missing {', '.join(missing)} "
            f"(expected files: {', '.join(FILES)}; `govsim calibrate --export` writes them)"
        )
    draws = pd.read_csv(folder / "draws.csv")
    summary = pd.read_csv(folder / "summary.csv")
    manifest = json.loads((folder / "manifest.json").read_text())
    problems = []
    for name in draws.columns:
        if name not in PARAMETER_META:
            problems.append(f"{folder / 'draws.csv'}: column {name!r}: not a model parameter")
            continue
        lo, hi = PARAMETER_META[name]["low"], PARAMETER_META[name]["high"]
        values = draws[name].to_numpy(dtype=float)
        if not np.all(np.isfinite(values)) or values.min() < lo or values.max() > hi:
            problems.append(
                f"{folder / 'draws.csv'}: column {name!r}: values must be finite and within "
                f"the registry range [{lo}, {hi}]"
            )
    if len(draws) == 0:
        problems.append(f"{folder / 'draws.csv'}: no draws")
    if set(summary.get("name", [])) != set(draws.columns):
        problems.append(
            f"{folder / 'summary.csv'}: column 'name' must list exactly the draws' parameters"
        )
    if problems:
        raise PosteriorError("\n".join(problems))
    return Posterior(folder, draws, summary, manifest)


def summarise(particles: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: unit, prior range, weighted mean, median and 90% interval."""
    from calibration.smc import weighted_quantiles

    w = particles["weight"].to_numpy(dtype=float)
    rows = []
    for name in particles.columns:
        if name == "weight":
            continue
        v = particles[name].to_numpy(dtype=float)
        q05, q50, q95 = weighted_quantiles(v, w, [0.05, 0.5, 0.95])
        meta = PARAMETER_META[name]
        rows.append(
            {
                "name": name,
                "unit": meta["unit"],
                "prior_low": meta["low"],
                "prior_high": meta["high"],
                "mean": float(np.average(v, weights=w)),
                "median": float(q50),
                "q05": float(q05),
                "q95": float(q95),
                "default": float(getattr(Parameters(), name)),
            }
        )
    return pd.DataFrame(rows)


def write_posterior(
    folder: Path, particles: pd.DataFrame, draws: pd.DataFrame, manifest: Mapping[str, Any]
) -> None:
    """Write the four posterior files into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    draws.to_csv(folder / "draws.csv", index=False, float_format="%.6g")
    particles.to_csv(folder / "particles.csv", index=False, float_format="%.6g")
    summarise(particles).to_csv(folder / "summary.csv", index=False, float_format="%.6g")
    (folder / "manifest.json").write_text(json.dumps(dict(manifest), indent=2, default=str) + "\n")


def rounded(value: float) -> float:
    """A posterior median as written into the registry: 3 significant digits."""
    return float(f"{value:.3g}")
