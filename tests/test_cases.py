"""Case cities: the [case] hooks in the model and the `govsim case` report."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import experiments.cases
from abm.config import CaseConfig, CasePlant, NewInstallation, PopulationConfig, ScenarioConfig
from abm.model import GovernanceModel
from abm.policies import LEVER_NAMES
from abm.rng import replicate_seeds
from abm.validation import ConfigError
from experiments.cli import main
from experiments.results import read_manifest
from experiments.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SMALL = PopulationConfig(
    n_non_mission_cities=20, residents_per_citizen=20000.0, generated_installations=10
)


def _config(case: CaseConfig | None) -> ScenarioConfig:
    return ScenarioConfig(population=SMALL, end_year=2032, case=case)


def test_case_settings_reach_the_model() -> None:
    # jobs large enough to be visible at the test's coarse citizen resolution
    new = NewInstallation("Gigafactory", "battery", "cell plant", 0.5, 20000.0, 2027)
    case = CaseConfig(
        focus_city="Košice",
        omega_econ=0.9,
        kappa=0.02,
        job_threat_multiplier=3.0,
        margin_shock_eur_per_t=40.0,
        margin_shock_year=2028,
        new_installations=(new,),
    )
    plain = GovernanceModel(_config(None), 4)
    m = GovernanceModel(_config(case), 4)
    focus = m.focus_city
    assert m.cities.name[focus] == "Košice" and plain.focus_city == -1
    country = m.cities.country[focus]
    assert m.nations.omega_econ[country] == 0.9
    assert plain.nations.omega_econ[country] != 0.9
    local = m.installations.city == focus
    assert local.sum() >= 2  # U.S. Steel Kosice and the new plant
    np.testing.assert_array_equal(m.installations.kappa_base[local], 0.02)
    assert m.cities.job_threat_scale[focus] == 3.0
    assert (m.cities.job_threat_scale[np.arange(m.cities.n) != focus] == 1.0).all()
    gig = m.installations.n - 1
    assert m.installations.name[gig] == "Gigafactory" and not m.installations.open[gig]
    assert (m.citizens.plant == gig).sum() > 0  # future workers assigned
    # the rest of the EU is the same as without the case (own random stream)
    np.testing.assert_array_equal(m.cities.staff_fte, plain.cities.staff_fte)
    for _ in range(2):  # 2025, 2026: not yet open
        m.step()
    assert not m.installations.open[gig]
    m.step()  # 2027
    assert m.installations.open[gig]


def test_margin_shock_hits_local_plants_from_its_year() -> None:
    case = CaseConfig(focus_city="Košice", margin_shock_eur_per_t=500.0, margin_shock_year=2026)
    shocked = GovernanceModel(_config(case), 2)
    plain = GovernanceModel(_config(None), 2)
    plant = int(np.flatnonzero(shocked.installations.city == shocked.focus_city)[0])
    for _ in range(3):
        shocked.step()
        plain.step()
    # a 500 EUR/t loss of margin makes the plant shed output (leakage)
    assert shocked.installations.utilisation[plant] < plain.installations.utilisation[plant]


def test_industry_in_ccc_is_forced_for_the_focus_city() -> None:
    case = CaseConfig(focus_city="Dunkerque (Dunkirk)", industry_in_ccc=False)
    cfg = _config(case)
    levers = tuple(
        dataclasses.replace(lv, intensity=1.0, start_year=2025)
        if lv.name == "climate_city_contracts"
        else lv
        for lv in cfg.levers
    )
    m = GovernanceModel(dataclasses.replace(cfg, levers=levers), 1)
    for _ in range(5):
        m.step()
    assert not m.cities.industry_in_ccc[m.focus_city]
    assert m.cities.industry_in_ccc.any()  # the lever brings industry into other contracts


def test_unknown_focus_city_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a Mission City"):
        GovernanceModel(_config(CaseConfig(focus_city="Atlantis")), 1)


def _case_file(tmp_path: Path) -> Path:
    path = tmp_path / "small_case.toml"
    base = (ROOT / "experiments" / "scenarios" / "cases" / "kosice.toml").as_posix()
    path.write_text(
        f'[scenario]\nname = "small_case"\nextends = "{base}"\nend_year = 2032\n\n'
        "[population]\nn_non_mission_cities = 20\nresidents_per_citizen = 20000.0\n"
        "generated_installations = 10\n"
    )
    return path


def test_govsim_case_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    argv = ["case", str(_case_file(tmp_path)), "--replicates", "2", "--jobs", "1"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"trajectories.csv", "plants.csv", "runs.csv", "summary.csv", "effects.csv"} <= names
    assert {"trajectories.png", "manifest.json", "README.md"} <= names
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["scenario"]) == {"baseline", "full_package", *LEVER_NAMES}
    assert len(runs) == 10 * 2  # baseline + 8 levers + full package, 2 seeds each
    traj = pd.read_csv(out / "trajectories.csv")
    first = traj[traj["year"] == 2025].groupby("scenario")["emissions_with_industry_t"].mean()
    # common random numbers: before any lever starts, every variant has the same city
    assert first.nunique() == 1
    effects = pd.read_csv(out / "effects.csv").dropna(subset=["ci_low"])
    assert len(effects) > 50
    assert (effects["ci_low"] <= effects["mean_difference"] + 1e-9).all()
    assert (effects["mean_difference"] <= effects["ci_high"] + 1e-9).all()
    manifest = read_manifest(out, ("case",))
    assert re.fullmatch(r"case-\d{8}T\d{4}Z-[0-9a-f]{6}", manifest.run_id), manifest.run_id
    assert manifest.data["seeds"] == list(replicate_seeds(0, 2))
    assert f"(`{manifest.run_id}`)" in (out / "README.md").read_text()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_govsim_case_that_fails_while_writing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(experiments.cases, "plot_effects", broken)
    out = tmp_path / "deep" / "report"
    argv = ["case", str(_case_file(tmp_path)), "--replicates", "1", "--jobs", "1"]
    with pytest.raises(OSError, match="disk full"):
        main([*argv, "--out", str(out), "--no-progress"])
    assert not (tmp_path / "deep").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small_case.toml"]


def test_govsim_case_rejects_a_file_without_case(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "case",
            str(ROOT / "experiments" / "scenarios" / "baseline.toml"),
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2
    assert "no [case] table" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# --- case cities from facts (issue 11) ----------------------------------------------------------

CASES = ROOT / "experiments" / "scenarios" / "cases"


def _case(name: str, end_year: int = 2026) -> ScenarioConfig:
    """A shipped case file, shortened (the facts pinned are those of the start)."""
    return dataclasses.replace(load_scenario(CASES / f"{name}.toml"), end_year=end_year)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", ["kosice", "differdange", "dunkirk"])
def test_a_case_city_holds_exactly_the_plants_its_file_states(name: str, seed: int) -> None:
    cfg = _case(name)
    assert cfg.case is not None
    m = GovernanceModel(cfg, seed)
    local = m.installations.city == m.focus_city
    names = {str(x) for x in m.installations.name[local]}
    stated = {p.site for p in cfg.case.plants} | {n.name for n in cfg.case.new_installations}
    assert names == stated
    # the plants that moved out took their workers with them
    workers = m.citizens.plant[m.citizens.city == m.focus_city]
    assert set(workers[workers >= 0]) <= set(np.flatnonzero(local))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kosice_plant_starts_with_about_8000_direct_jobs(seed: int) -> None:
    """Brief: 8,000 direct jobs (done-when of issue 11: 7,500-8,500 at the start)."""
    _city, plants = experiments.cases.run_focus(_case("kosice"), seed)
    jobs = plants.loc[plants["year"] == 2025, "jobs"].sum()
    assert 7500.0 <= jobs <= 8500.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_differdange_industry_is_at_least_85pct_of_city_emissions_in_2025(seed: int) -> None:
    """Brief: the plant is 90% of the city's emissions (done-when: >= 85% in 2025)."""
    city, plants = experiments.cases.run_focus(_case("differdange"), seed)
    row = city[city["year"] == 2025].iloc[0]
    own = float(row[list(experiments.cases.CITY_SCOPE)].sum())
    share = row["emissions_industry_t"] / (own + row["emissions_industry_t"])
    assert share >= 0.85
    assert set(plants["name"]) == {"ArcelorMittal Differdange"}  # Belval is in Esch, not here


def test_kosice_reports_its_shares_of_slovak_gdp_and_co2() -> None:
    cfg = _case("kosice")
    assert cfg.case is not None and cfg.case.national_gdp_eur and cfg.case.national_co2_t
    city, plants = experiments.cases.run_case([cfg], [1], 1, False)
    row = experiments.cases.run_metrics(city, plants, cfg.case).iloc[0]
    start = plants[plants["year"] == 2025]
    sales = float(start["production_mt"].sum()) * 1e6 * 550.0  # world steel price, EUR/t
    assert row["plant_gdp_share_2025_pct"] == pytest.approx(
        100 * sales / cfg.case.national_gdp_eur, rel=1e-9
    )
    # brief: "one-third of the country's CO2"; the plant's modelled 2025 emissions (4.5 Mt/yr
    # BF-BOF at 85%) give a quarter of ~31 Mt: "about a third" within 20-40% is the tolerance
    assert 20.0 <= row["plant_national_co2_share_2025_pct"] <= 40.0
    assert row["jobs_BF-BOF_2026"] == pytest.approx(8000.0, rel=0.05)
    assert "aid_eur_per_t_abated" in row.index


def test_dunkirk_gigafactory_is_sized_from_public_figures() -> None:
    """Verkor Dunkirk: 16 GWh/yr (~0.104 Mt of cells), up to 1,200 direct jobs, from 2026."""
    cfg = _case("dunkirk")
    assert cfg.case is not None
    (giga,) = cfg.case.new_installations
    assert (giga.sector, giga.capacity_mt, giga.jobs, giga.start_year) == (
        "battery",
        0.104,
        1200.0,
        2026,
    )
    assert cfg.case.industry_in_ccc is False  # the CCC leaves out the industrial zone (brief)


def test_an_unknown_pinned_site_names_the_sites_there() -> None:
    case = CaseConfig(focus_city="Košice", plants=(CasePlant("Atlantis Steel"),))
    with pytest.raises(ConfigError, match=r"case.plants.site.*U.S. Steel Košice"):
        GovernanceModel(_config(case), 1)


def test_generated_plants_leave_a_case_city_with_their_jobs() -> None:
    """A generated plant drawn into the focus city moves to another city of its country."""
    plain = GovernanceModel(dataclasses.replace(ScenarioConfig(), end_year=2026), 2)
    names = [str(x) for x in plain.cities.name]
    inst = plain.installations
    generated = np.flatnonzero(~inst.named & plain.cities.mission[inst.city])
    city = int(inst.city[generated[0]])
    m = GovernanceModel(
        dataclasses.replace(
            ScenarioConfig(), end_year=2026, case=CaseConfig(focus_city=names[city])
        ),
        2,
    )
    moved = m.installations.city[generated[0]]
    assert moved != city and not (m.installations.city[~m.installations.named] == city).any()
    if (plain.cities.country == plain.cities.country[city]).sum() > 1:
        assert m.cities.country[moved] == plain.cities.country[city]
    np.testing.assert_allclose(m.installations.jobs_per_mt, inst.jobs_per_mt)
