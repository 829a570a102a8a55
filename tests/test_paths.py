"""Shipped files by role (scenarios/, studies/), and old paths accepted with a note."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments import paths
from experiments.experiment import load_experiment
from experiments.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_files_sit_by_role() -> None:
    assert not list((ROOT / "experiments").glob("*.toml")), "scenario/study files among the code"
    assert (paths.SCENARIOS_DIR / "baseline.toml").is_file()
    assert paths.CALIBRATION_SETUP.is_file() and paths.LEVERS_DIR.is_dir()
    assert sorted(p.name for p in paths.STUDIES_DIR.glob("*.toml")) == [
        "robustness_levers.toml",
        "sa_emulator_check.toml",
        "sa_levers.toml",
        "smoke.toml",
        "sweep_levers.toml",
    ]
    assert len({p.name for p in ROOT.rglob("calibration.toml") if ".venv" not in p.parts}) <= 1


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("experiments/baseline.toml", "scenarios/baseline.toml"),
        ("experiments/calibration.toml", "scenarios/calibration_setup.toml"),
        ("experiments/levers/simplification.toml", "scenarios/levers/simplification.toml"),
        ("experiments/cases/kosice.toml", "scenarios/cases/kosice.toml"),
        ("experiments/smoke.toml", "studies/smoke.toml"),
    ],
)
def test_old_paths_map_to_the_new_places(old: str, new: str) -> None:
    assert paths.moved_to(ROOT / old) == paths.PACKAGE_DIR / new
    assert paths.moved_to(Path(old)) == paths.PACKAGE_DIR / new


def test_an_old_path_still_loads_with_a_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    config = load_scenario("experiments/baseline.toml")
    assert config == load_scenario(paths.SCENARIOS_DIR / "baseline.toml")
    err = capsys.readouterr().err
    assert "experiments/baseline.toml has moved to experiments/scenarios/baseline.toml" in err
    assert load_experiment("experiments/smoke.toml").name
    assert "studies/smoke.toml" in capsys.readouterr().err


def test_paths_that_never_existed_are_still_errors(tmp_path: Path) -> None:
    assert paths.moved_to(Path("experiments/nowhere.toml")) is None
    assert paths.resolve(tmp_path / "x.toml") == tmp_path / "x.toml"
    with pytest.raises(Exception, match="not found"):
        load_scenario(tmp_path / "experiments" / "nowhere.toml")
