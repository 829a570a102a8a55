"""A study as a whole: sample the design, evaluate each distinct point once, analyse outcomes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.rng import point_seeds as make_point_seeds
from experiments.errors import BadInput
from experiments.sensitivity.analysis import DEFAULT_BOOTSTRAP, OutcomeResult, analyse_outcome
from experiments.sensitivity.design import Study
from experiments.sensitivity.emulator import EmulatorOptions, analyse_emulator
from experiments.sensitivity.evaluate import Evaluator


@dataclass(frozen=True, slots=True)
class StudyResult:
    """Everything a study produced: design, raw outputs and the per-outcome analyses."""

    study: Study
    design: np.ndarray
    unique_points: int
    seeds: tuple[int, ...]
    outputs: dict[str, np.ndarray]  # outcome -> (design rows, replicates)
    results: tuple[OutcomeResult, ...]
    evaluation_s: float
    analysis_s: float
    point_seeds: np.ndarray | None = None  # (design rows, R) under independent seeding

    def indices(self) -> pd.DataFrame:
        """All outcomes' indices in one table."""
        frames = [r.indices for r in self.results if not r.skipped]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def convergence(self) -> pd.DataFrame:
        """All outcomes' convergence rows in one table."""
        frames = [r.convergence for r in self.results if not r.skipped]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def noise(self) -> pd.DataFrame:
        """One row per outcome: the noise summary (and why an outcome was skipped)."""
        return pd.DataFrame(
            [{"outcome": r.outcome, **r.noise, "skipped": r.skipped} for r in self.results]
        )


def run_study(
    study: Study,
    evaluate: Evaluator,
    outcomes: Sequence[str] | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    replicates: int = 1,
    emulator: EmulatorOptions | None = None,
) -> StudyResult:
    """Sample the design, evaluate each distinct model point once, analyse every outcome.

    ``evaluate(points, point_seeds)`` gets the distinct rows of the design without the dummy
    column and returns ({outcome: array (points, replicates)}, seeds used). Under
    ``seeding = "independent"`` every design row is a point of its own with ``replicates``
    seeds from :func:`abm.rng.point_seeds` (``point_seeds`` is then that array).
    ``emulator`` sets the GP of an emulator study (restarts, kernel reuse, input encodings).
    """
    design = study.design()
    seeds_array: np.ndarray | None = None
    if study.seeding == "independent":
        points = design[:, :-1]
        inverse = np.arange(len(design))
        seeds_array = make_point_seeds(study.seed, len(design), replicates)
    else:
        points, inverse = np.unique(design[:, :-1], axis=0, return_inverse=True)
    started = time.perf_counter()
    raw, seeds = evaluate(points, seeds_array)
    evaluation_s = time.perf_counter() - started
    names = list(outcomes) if outcomes is not None else list(raw)
    missing = [n for n in names if n not in raw]
    if missing:
        raise BadInput(f"the model did not return outcomes {', '.join(missing)}")
    outputs = {name: raw[name][inverse.ravel()] for name in names}
    started = time.perf_counter()
    if study.method == "emulator":
        results = tuple(
            analyse_emulator(study, design, outputs[n], n, bootstrap, emulator) for n in names
        )
    else:
        if emulator is not None:
            raise BadInput(f"GP options are for --method emulator, not {study.method}")
        results = tuple(analyse_outcome(study, design, outputs[n], n, bootstrap) for n in names)
    return StudyResult(
        study=study,
        design=design,
        unique_points=len(points),
        seeds=tuple(seeds),
        outputs=outputs,
        results=results,
        evaluation_s=evaluation_s,
        analysis_s=time.perf_counter() - started,
        point_seeds=seeds_array,
    )
