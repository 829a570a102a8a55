"""The text around a report's sections: methods paragraph, citation, reproducing command.

The methods paragraph is generated from the manifest (model and code version, what was run,
replicates and seeds, the calibration used, wall time); the citation comes from
``CITATION.cff``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from experiments.report.document import Build, code_names

CITATION_FILE = Path(__file__).resolve().parents[2] / "CITATION.cff"
LISTED_SEEDS = 6  # seeds named in the methods text before "... (n in total)"


def _seeds(seeds: Sequence[Any]) -> str:
    shown = ", ".join(str(s) for s in seeds[:LISTED_SEEDS])
    return shown + (f", ... ({len(seeds)} in total)" if len(seeds) > LISTED_SEEDS else "")


def _model_version(m: Mapping[str, Any]) -> str:
    """govsim's version as recorded (``packages`` or ``packages_versions``), else installed."""
    for key in ("package_versions", "packages", "packages_versions"):
        if isinstance(m.get(key), dict) and isinstance(m[key].get("govsim"), str):
            return str(m[key]["govsim"])
    return metadata.version("govsim")


def _design(b: Build) -> str:
    """What was run: scenarios or design, replicates and seeds, for each kind."""
    m, kind = b.data, b.manifest.kind
    if kind == "run":
        return f"One run of scenario `{m['scenario']}` with seed {m['seed']}."
    if kind in ("compare", "demo"):
        names = [s["name"] if isinstance(s, dict) else s for s in m["scenarios"]]
        return (
            f"Scenarios {code_names(names)} (reference `{m['baseline']}`) each ran with the same "
            f"{m['replicates']} replicate seeds ({_seeds(m['seeds'])}; common random numbers), "
            f"derived from master seed {m.get('master_seed', 'unknown')} by "
            "`experiments.runner.replicate_seeds`; differences are paired by seed."
        )
    if kind == "sweep":
        design = m.get("design") or {}
        return (
            f"Experiment `{m.get('experiment', '?')}`: {design.get('points', '?')} design points "
            f"({design.get('method', '?')} design) over {len(m['factors'])} factors, each run "
            f"with the same {m['replicates']} replicate seeds ({_seeds(m['seeds'])}) from "
            f"master seed {m.get('master_seed', 'unknown')}."
        )
    if kind == "sensitivity":
        study = m["study"]
        return (
            f"{study['method']} sensitivity analysis of {len(study.get('factors', []))} factors "
            f"plus a dummy (N = {study.get('samples', '?')}, design seed "
            f"{study.get('seed', '?')}{', grouped' if study.get('grouped') else ''}): "
            f"{m.get('design_rows', '?')} design rows, {m.get('runs', '?')} model runs, "
            f"replicate seeds {_seeds(m.get('replicate_seeds', []))}."
        )
    if kind == "robustness":
        study = m["study"]
        return (
            f"Robustness study `{study.get('name', '?')}`: {study.get('scenarios', '?')} "
            "scenarios (posterior draw x deep uncertainties x seed), each running the "
            f"baseline and every lever and package; {m['counts'].get('runs', '?')} runs."
        )
    if kind == "case":
        return (
            f"Case scenario `{m.get('scenario', '?')}`: variants {code_names(m['scenarios'])}, "
            f"each with the same {len(m['seeds'])} seeds ({_seeds(m['seeds'])})."
        )
    return (
        f"Approximate Bayesian computation (ABC-SMC): {m['generations']} generations of "
        f"{m['population_size']} particles; {len(m['targets_fit'])} targets fitted "
        f"({_seeds(m['targets_fit'])}) and {len(m['targets_held_out'])} held out "
        f"({_seeds(m['targets_held_out'])})."
    )


def calibrated_defaults() -> dict[str, str]:
    """Registry parameters whose default is a posterior median, with the calibration run id."""
    from abm.config import PARAMETER_META

    prefix = "calibrated: posterior median of "
    return {
        name: str(meta["source"])[len(prefix) :].split(" ")[0]
        for name, meta in PARAMETER_META.items()
        if str(meta["source"]).startswith(prefix)
    }


def _calibration_used(b: Build) -> str:
    posterior = b.data.get("posterior")
    if b.manifest.kind == "calibration":
        return "Parameters not calibrated here are at their registry defaults."
    if isinstance(posterior, dict):  # calibration.posterior.Posterior.describe()
        names = ", ".join(f"`{n}`" for n in posterior.get("parameters") or [])
        return (
            f"The calibrated parameters{f' ({names})' if names else ''} were drawn from the "
            f"posterior of calibration `{posterior.get('run_id', 'unknown')}` in "
            f"`{posterior.get('directory', 'unknown')}` ({posterior.get('n_draws', '?')} draws, "
            "one per seed); the other parameters are at their registry defaults."
        )
    if posterior:
        return f"Behavioural parameters come from the calibrated posterior `{posterior}`."
    calibrated = calibrated_defaults()
    if calibrated:
        runs = ", ".join(f"`{r}`" for r in sorted(set(calibrated.values())))
        return (
            f"Parameters are at their registry defaults: the {len(calibrated)} calibrated ones "
            f"at the posterior medians of calibration {runs}, the rest literature values and "
            "assumptions; parameter uncertainty was not sampled (no `--posterior`)."
        )
    return (
        "Behavioural parameters are at their registry defaults (literature priors and "
        "assumptions); no calibrated posterior was used."
    )


def methods(b: Build) -> str:
    """The methods paragraph, generated from the manifest."""
    m = b.data
    created = f" on {m['created_utc']}" if m.get("created_utc") else ""
    wall = m.get("wall_time_s", m.get("evaluation_s"))
    parts = [
        f"The results directory `{b.source.name}` ({b.manifest.kind}, run ID `{b.run_id}`) was "
        f"written by govsim {_model_version(m)}, code version "
        f"`{m.get('code_version', 'unknown')}`{created}.",
        _design(b),
        _calibration_used(b),
        f"Wall time {float(wall):.1f} s." if wall is not None else "Wall time not recorded.",
        "Package versions and data-file hashes are in `manifest.json`.",
    ]
    return " ".join(parts)


def load_citation(path: Path = CITATION_FILE) -> dict[str, Any]:
    """The repository's CITATION.cff, or its essentials from the installed package."""
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {
        "title": "govsim",
        "version": metadata.version("govsim"),
        "authors": [{"name": "govsim contributors"}],
        "message": "If you use govsim, please cite it as below.",
    }


def _author(person: Mapping[str, Any]) -> str:
    if "name" in person:
        return str(person["name"])
    return ", ".join(str(person[k]) for k in ("family-names", "given-names") if k in person)


def citation(b: Build) -> tuple[str, str, str]:
    """The citation's message, a one-line reference with the run ID, and a BibTeX entry."""
    cff = load_citation()
    authors = "; ".join(_author(a) for a in cff.get("authors", []) if isinstance(a, dict))
    year = str(b.data.get("created_utc") or datetime.now(UTC).isoformat())[:4]
    title, version = cff.get("title", "govsim"), cff.get("version", "")
    code = b.data.get("code_version", "unknown")
    line = (
        f"{authors} ({year}). {title} (version {version}) [Computer software]. "
        f"Results: run ID `{b.run_id}`, code version `{code}`."
    )
    bibtex = "\n".join(
        [
            f"@software{{govsim_{re.sub(r'[^A-Za-z0-9]+', '_', b.run_id)},",
            f"  author  = {{{{{authors}}}}},",
            f"  title   = {{{title}}},",
            f"  version = {{{version}}},",
            f"  year    = {{{year}}},",
            f"  note    = {{Results run ID {b.run_id}, code version {code}}}",
            "}",
        ]
    )
    return str(cff.get("message", "")), line, bibtex


def reproduce_command(m: Mapping[str, Any]) -> str:
    """The one command that reproduces the directory (``reproduce``, else ``command``)."""
    return str(m.get("reproduce") or m.get("command") or "(not recorded in manifest.json)")


@dataclass(frozen=True, slots=True)
class Front:
    """The parts around the sections: title, reproduce command, methods and citation."""

    title: str
    reproduce: str
    methods: str
    cite_message: str
    cite_line: str
    bibtex: str


def front_matter(b: Build) -> Front:
    """The title, reproducing command, methods paragraph and citation of a built report."""
    m = b.data
    return Front(
        f"govsim {b.manifest.kind} report: {b.run_id}",
        reproduce_command(m),
        methods(b),
        *citation(b),
    )
