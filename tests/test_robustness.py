"""Behaviour tests of ``govsim robustness`` (experiments/robustness/): a tiny study end to end.

Known answers on synthetic effects: rank probabilities and regret of a table where one lever
always wins; then the command on the calibration set-up with 4 scenarios (posterior draws,
a deep range, the staff rule), which must write every file with a robustness manifest, keep
each variant's draw and seed within a scenario, and resume from its store.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.errors import BadInput
from experiments.robustness import load_study
from experiments.robustness.analysis import rankings
from experiments.robustness.command import FILES
from experiments.robustness.run import sample_scenarios

STUDIES = Path(__file__).resolve().parents[1] / "experiments" / "studies"
TINY = """
[robustness]
name = "tiny"
scenario = "{scenario}"
seed = 3
scenarios = 4
levers = ["enhanced_financing", "capacity_building"]
[robustness.goal]
at_least = 0.5
[posterior]
directory = "{posterior}"
[deep.abatement_capex_eur_per_tco2_per_year]
[deep.staff_rule]
choices = ["protected_shares", "proportional"]
[packages.both]
levers = ["enhanced_financing", "capacity_building"]
"""


def test_rankings_known_answer() -> None:
    rows = []
    for s in range(10):
        for variant, effect in (("a", 3.0), ("b", 2.0 if s < 5 else 1.0), ("c", 1.5)):
            rows.append(
                {
                    "scenario": s,
                    "variant": variant,
                    "kind": "lever",
                    "group": "all",
                    "effect": effect,
                    "per_eur_bn": effect,
                }
            )
    _, summary = rankings(pd.DataFrame(rows))
    raw = summary[summary["basis"] == "raw"].set_index("variant")
    assert raw.loc["a", "p_first"] == 1.0 and raw.loc["a", "mean_regret"] == 0.0
    assert raw.loc["b", "p_first"] == 0.0
    assert raw.loc["b", "mean_regret"] == pytest.approx(0.5 * 1.0 + 0.5 * 2.0)
    assert raw.loc["c", "max_regret"] == pytest.approx(1.5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rob")
    scenario = (STUDIES.parent / "scenarios" / "calibration_setup.toml").as_posix()
    posterior = (STUDIES.parents[1] / "calibration" / "posterior").as_posix()
    path = folder / "tiny.toml"
    path.write_text(TINY.format(scenario=scenario, posterior=posterior))
    return path


def test_scenarios_are_joint_draws(tiny: Path) -> None:
    study = load_study(tiny)
    table = sample_scenarios(study)
    draws = pd.read_csv(study.posterior_dir / "draws.csv")  # type: ignore[operator]
    for _, row in table.iterrows():  # every scenario's calibrated values are one whole row
        assert np.allclose(draws.iloc[int(row["posterior_draw"])], row[draws.columns].astype(float))
    assert table["seed"].nunique() == len(table)
    assert set(table["staff_rule"]) <= {"protected_shares", "proportional"}


def test_bad_study_names_file_and_key(tmp_path: Path, tiny: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        tiny.read_text().replace(
            'capacity_building"]\n[robustness.goal]', 'nope"]\n[robustness.goal]'
        )
    )
    with pytest.raises(BadInput, match=r"bad.toml: robustness.levers: 'nope' unknown"):
        load_study(bad)


def test_command_end_to_end_and_resume(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["robustness", str(tiny), "--out", str(out), "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "robustness"
    assert manifest["counts"]["runs"] == 4 * 4 and manifest["counts"]["failed"] == 0
    for name in FILES:
        assert (out / name).is_file()
    effects = pd.read_csv(out / "effects.csv")
    assert {"Mission Cities", "other cities", "all"} <= set(effects["group"])
    ranking = pd.read_csv(out / "ranking.csv")
    assert set(ranking["variant"]) == {"enhanced_financing", "capacity_building", "both"}
    assert "ranks first in" in (out / "summary.md").read_text()
    # a rerun reuses every stored run
    assert main(["robustness", str(tiny), "--out", str(out), "--no-progress"]) == 0
    again = json.loads((out / "manifest.json").read_text())
    assert again["counts"]["reused"] == 16 and again["counts"]["new"] == 0
    assert pd.read_csv(out / "effects.csv").equals(effects)
    assert (out / "ranking_raw.png").stat().st_size > 1000
    from experiments.report.command import write_report

    html = write_report(out)
    md = html.with_name("report.md").read_text()
    assert "## Robust lever rankings" in md or "Robust lever rankings" in md
    assert "Enhanced financing is in the top three in" in md  # a label, not the identifier
    assert (html.parent / "figures" / "robustness_ranking_raw.png").is_file()
    assert (html.parent / "tables" / "ranking_raw.csv").is_file()
    # --stored-only: an interrupted study is analysed over its complete scenarios only
    import sqlite3

    with sqlite3.connect(out / "store.sqlite") as db:
        db.execute("DELETE FROM runs WHERE rowid = (SELECT MIN(rowid) FROM runs)")
    argv = ["robustness", str(tiny), "--out", str(out), "--no-progress", "--stored-only"]
    assert main(argv) == 0
    partial = json.loads((out / "manifest.json").read_text())["counts"]
    assert partial["scenarios"] == 3 and partial["scenarios_sampled"] == 4
    assert partial["runs"] == 12 and partial["new"] == 0
    assert pd.read_csv(out / "scenarios.csv")["scenario"].nunique() == 3
    assert pd.read_csv(out / "effects.csv")["scenario"].nunique() == 3
    assert "3 of 4 sampled scenarios" in (out / "summary.md").read_text()
    empty = tmp_path / "empty"
    assert main(["robustness", str(tiny), "--out", str(empty), "--stored-only"]) == 2
    assert not empty.exists()  # nothing half-written


def test_ranking_figure_labels_and_rows(tmp_path: Path) -> None:
    """The ranking figure shows one row a variant, with labels, packages marked as such."""
    from experiments.robustness.figures import plot_ranking, ranking_rows
    from experiments.text import label

    ranking = pd.DataFrame(
        {
            "kind": ["lever", "lever", "package"],
            "basis": "raw",
            "variant": ["capacity_building", "enhanced_financing", "both"],
            "p_first": [0.2, 0.7, 0.1],
            "p_top3": [1.0, 0.9, 0.5],
            "mean_rank": [2.0, 1.3, 2.7],
            "mean_regret": [1.9, 0.3, 2.5],
            "p90_regret": [3.0, 1.0, 4.0],
            "max_regret": [4.0, 2.0, 5.0],
        }
    )
    rows = ranking_rows(pd.concat([ranking, ranking.assign(basis="per_eur_bn")]), "raw")
    assert list(rows["variant"]) == ["enhanced_financing", "capacity_building", "both"]
    assert rows["label"].iloc[0] == label("enhanced_financing") != "enhanced_financing"
    assert rows["label"].iloc[2] == "both (package)"
    path = plot_ranking(ranking, tmp_path / "r.png", "raw", "pp")
    assert path.stat().st_size > 1000


def test_ranking_sentences_say_when_a_lever_drops_out() -> None:
    from experiments.report.robustness import ranking_sentences

    ranking = pd.DataFrame(
        {
            "kind": ["lever", "lever"],
            "basis": "raw",
            "variant": ["capacity_building", "enhanced_financing"],
            "p_first": [0.25, 0.75],
            "p_top3": [0.82, 1.0],
            "mean_regret": [1.5, 0.2],
            "p90_regret": [3.0, 0.5],
        }
    )
    boxes = pd.DataFrame(
        [
            {
                "case": "capacity_building",
                "what": "out of the top three",
                "dimension": "abatement_capex_eur_per_tco2_per_year",
                "kind": "number",
                "low": 10.0,
                "high": 40.0,
                "data_low": 10.0,
                "data_high": 120.0,
                "categories": "",
            }
        ]
    )
    lines = ranking_sentences(ranking, boxes, "pp")
    assert lines[0].startswith("Enhanced financing is in the top three in 100% of scenarios")
    assert "drops out" not in lines[0]
    assert lines[1].startswith("Capacity building is in the top three in 82% of scenarios")
    assert "it drops out of the top three mostly when" in lines[1] and "below 40" in lines[1]
