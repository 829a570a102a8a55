"""Writing a study's results directory: indices, convergence, noise, design, charts, manifest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from abm.config import ScenarioConfig
from experiments.results import (
    MANIFEST,
    fingerprint,
    new_manifest,
    run_id_for,
    staged_files,
    write_manifest,
)
from experiments.sensitivity.design import DUMMY
from experiments.sensitivity.figures import _file_stem, plot_convergence, plot_indices
from experiments.sensitivity.study import StudyResult
from experiments.sweep.files import clear_debris

STUDY_FILE = "study.json"  # the study and its context, written first: a rerun resumes by it


VALIDATION_FILE = "validation.csv"  # emulator vs a brute-force reference study


def output_names(result: StudyResult, validation: bool = False) -> list[str]:
    """The files :func:`write_outputs` writes, in the order they are moved in (manifest last)."""
    names: list[str] = []
    for r in result.results:
        if not r.skipped:
            stem = _file_stem(r.outcome)
            names += [f"indices_{stem}.csv", f"indices_{stem}.png"]
            if result.study.method == "emulator":
                names.append(f"convergence_{stem}.png")
    extra = [VALIDATION_FILE] if validation else []
    return [*names, "convergence.csv", "noise.csv", "design.csv", *extra, MANIFEST]


def write_outputs(
    result: StudyResult,
    out_dir: Path,
    info: Mapping[str, Any],
    *,
    command: str = "",
    configs: Iterable[ScenarioConfig] = (),
    validation: pd.DataFrame | None = None,
) -> list[str]:
    """Write indices, convergence, noise, design, charts and manifest into ``out_dir``.

    The files are staged (:func:`experiments.results.staged_files`) and moved in together,
    the manifest last, so a finished manifest means a complete set of files; temporaries a
    killed earlier write left in ``out_dir`` are removed first. The manifest
    (:func:`experiments.results.new_manifest`, kind ``sensitivity``) carries ``info``,
    ``command`` and the data-file hashes of ``configs`` (the scenarios the model ran; none
    for a Python function).
    """
    out_dir = Path(out_dir)
    study = result.study
    names = output_names(result, validation is not None)
    clear_debris(out_dir, [*names, STUDY_FILE])
    note = (
        f"N = {study.samples}, {len(result.seeds) or 1} replicate(s) per point, "
        f"master seed {study.seed}"
    )
    with staged_files(out_dir, names) as tmp:
        for r in result.results:
            if r.skipped:
                continue
            stem = _file_stem(r.outcome)
            r.indices.to_csv(tmp / f"indices_{stem}.csv", index=False)
            plot_indices(r, tmp / f"indices_{stem}.png", note)
            if study.method == "emulator":
                plot_convergence(r, tmp / f"convergence_{stem}.png")
        if validation is not None:
            validation.to_csv(tmp / VALIDATION_FILE, index=False)
        result.convergence().to_csv(tmp / "convergence.csv", index=False)
        result.noise().to_csv(tmp / "noise.csv", index=False)
        design = pd.DataFrame(result.design, columns=[*result.study.factor_names, DUMMY])
        design.index.name = "row"
        design.to_csv(tmp / "design.csv")
        manifest = new_manifest(
            "sensitivity",
            run_id_for("sensitivity", fingerprint({"study": study.as_dict()})),
            command=command,
            configs=configs,
            seeds=result.seeds,
            **info,
            study=result.study.as_dict(),
            design_rows=len(result.design),
            unique_model_points=result.unique_points,
            replicate_seeds=list(result.seeds),
            seeding=study.seeding,
            runs=result.unique_points * max(len(result.seeds), 1),
            evaluation_s=round(result.evaluation_s, 3),
            analysis_s=round(result.analysis_s, 3),
            outcomes=[r.outcome for r in result.results],
            skipped_outcomes={r.outcome: r.skipped for r in result.results if r.skipped},
            files=names,
        )
        write_manifest(tmp, manifest)
    return names
