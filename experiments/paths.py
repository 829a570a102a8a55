"""Where the shipped scenario and study files live, and where the old paths now point.

Scenario files are under ``experiments/scenarios/`` (the baseline, one file per lever in
``levers/``, the full package, EU scale, the calibration set-up, the case cities in
``cases/``), experiment (study) files for sweeps and sensitivity analysis under
``experiments/studies/``. Files used to sit directly in ``experiments/``; for one release a
path of the old layout is still accepted, with a note on stderr naming the new place.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SCENARIOS_DIR = PACKAGE_DIR / "scenarios"
STUDIES_DIR = PACKAGE_DIR / "studies"
LEVERS_DIR = SCENARIOS_DIR / "levers"
CASES_DIR = SCENARIOS_DIR / "cases"
VERIFICATION_DIR = SCENARIOS_DIR / "verification"
CALIBRATION_SETUP = SCENARIOS_DIR / "calibration_setup.toml"

# old place (relative to experiments/) -> new place (relative to experiments/)
MOVED: dict[str, str] = {
    "baseline.toml": "scenarios/baseline.toml",
    "full_package.toml": "scenarios/full_package.toml",
    "eu_scale.toml": "scenarios/eu_scale.toml",
    "calibration.toml": "scenarios/calibration_setup.toml",
    "smoke.toml": "studies/smoke.toml",
    "sa_levers.toml": "studies/sa_levers.toml",
    "sweep_levers.toml": "studies/sweep_levers.toml",
    "levers": "scenarios/levers",
    "cases": "scenarios/cases",
}


def moved_to(path: Path) -> Path | None:
    """The new place of ``path`` if it names a shipped file in its old place, else None."""
    parts = path.expanduser().parts
    for k in range(len(parts) - 1, -1, -1):
        if parts[k] != "experiments":
            continue
        rest = parts[k + 1 :]
        if not rest:
            return None
        for old, new in MOVED.items():
            old_parts = tuple(old.split("/"))
            if rest[: len(old_parts)] == old_parts:
                candidate = PACKAGE_DIR.joinpath(*new.split("/"), *rest[len(old_parts) :])
                return candidate if candidate.exists() else None
        return None
    return None


def resolve(path: str | Path) -> Path:
    """``path``, or the new place of a shipped file given by its old path (with a note)."""
    given = Path(path)
    if given.exists():
        return given
    new = moved_to(given)
    if new is None:
        return given
    try:
        shown = new.relative_to(Path.cwd())
    except ValueError:
        shown = new
    print(
        f"note: {given} has moved to {shown}; the old path is accepted in this release only",
        file=sys.stderr,
    )
    return new
