"""CCC preparation, submission rounds and Label assessment (abm/rules/ccc.py, issue 12)."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import numpy as np

from abm.config import ScenarioConfig
from abm.model import GovernanceModel
from abm.rules.ccc import next_window
from experiments.scenario import load_scenario

SURVEY_SETUP = Path(__file__).resolve().parents[1] / "calibration" / "survey_setup.toml"


@cache
def setup() -> ScenarioConfig:
    """The calibration set-up (from 2019, Labels endogenous)."""
    return load_scenario(SURVEY_SETUP)


def run_to(cfg: ScenarioConfig, year: float, seed: int = 3) -> GovernanceModel:
    """A model of ``cfg`` stepped to ``year``."""
    m = GovernanceModel(cfg, seed)
    while m.year < year - 1e-9:
        m.step()
    return m


def test_next_window_known_answers() -> None:
    """A finished CCC waits for the next round; one finished on a round goes into it."""
    ready = np.array([2022.9, 2023.25, 2023.26, 2023.75, 2024.1])
    got = next_window(2023.25, 0.5, ready)
    assert np.allclose(got, [2023.25, 2023.25, 2023.75, 2023.75, 2024.25])


def test_labels_follow_submission_rounds_and_assessment() -> None:
    """No CCC before the first round; each Label is its round plus the assessment lag."""
    cfg = setup()
    p = cfg.parameters
    m = run_to(cfg, 2023.0)
    mc = m.cities.mission
    assert not m.cities.ccc_signed[mc].any() and not m.cities.label.any()
    m = run_to(cfg, 2026.0)
    mc = m.cities.mission
    submitted = np.isfinite(m.cities.ccc_submit_year) & mc
    assert submitted.sum() > 50  # most Mission Cities have submitted by 2026
    rounds = (m.cities.ccc_submit_year[submitted] - p.ccc_first_submission_year) / (
        p.ccc_submission_interval_years
    )
    assert np.allclose(rounds, np.round(rounds)) and rounds.min() >= 0
    due = m.cities.label_due_year[submitted]
    assert np.allclose(due - m.cities.ccc_submit_year[submitted], p.label_assessment_lag_years)
    assert np.array_equal(m.cities.label[mc], (m.cities.label_due_year <= 2026.0 + 1e-9)[mc])
    # a CCC is created at its round: signed exactly when its round has passed
    assert np.array_equal(m.cities.ccc_signed[mc], (m.cities.ccc_submit_year <= 2026.0 + 1e-9)[mc])
    # nobody beats the minimum preparation time, and the preparation took its staff time
    need = p.ccc_preparation_person_months * (m.cities.population / 1e5) ** (
        p.ccc_preparation_size_exponent
    )
    assert np.all(m.cities.ccc_prep_pm[submitted] >= need[submitted] - 1e-6)
    earliest = p.mission_start_year + p.ccc_min_preparation_years
    assert np.all(m.cities.ccc_submit_year[submitted] >= earliest - 1e-9)


def _signed_share(staff: float, priority: float) -> float:
    """Share of Mission Cities with a CCC by the end of 2024 (30 person-months a CCC)."""
    params = setup().parameters.replace(
        staff_fte_per_10k_residents=staff,
        ccc_preparation_person_months=30.0,
        ccc_staff_priority=priority,
    )
    m = run_to(dataclasses.replace(setup(), parameters=params), 2025.0)
    return float(m.cities.ccc_signed[m.cities.mission].mean())


def test_thin_staff_prepares_slower_when_the_ccc_comes_last() -> None:
    """With the CCC given only the time project preparation leaves, thin staff delays it."""
    assert _signed_share(0.5, 0.0) < _signed_share(3.0, 0.0) - 0.1


def test_the_ccc_comes_first_in_the_staff_queue() -> None:
    """Held before project preparation (ccc_staff_priority 1), thin staff finishes more CCCs
    and the staff level matters less than when the CCC comes last."""
    first, last = _signed_share(0.5, 1.0), _signed_share(0.5, 0.0)
    assert first > last + 0.1
    assert _signed_share(3.0, 1.0) - first < _signed_share(3.0, 0.0) - last


def test_hold_takes_the_step_demand_from_the_free_pool() -> None:
    """Known answer: the hold moves min(priority x CCC demand, free time) into the reserve."""
    from abm.rules import ccc, staff

    params = setup().parameters.replace(ccc_staff_priority=0.5)
    m = run_to(dataclasses.replace(setup(), parameters=params), 2023.0)
    demand, *_ = ccc._step_demand_pm(m, ccc.preparing_cities(m))
    assert demand.sum() > 0.0  # some Mission Cities are still preparing in 2023
    k = staff.STAFF_USES.index("dialogue")
    m.free_pm = np.where(np.arange(m.cities.n) % 2 == 0, 1e6, 0.1 * demand)
    m.staff_time.reserve_pm[:] = 0.0
    free = m.free_pm.copy()
    ccc.hold_preparation_time(m)
    expected = np.minimum(0.5 * demand, free)
    assert np.allclose(m.staff_time.reserve_pm[:, k], expected)
    assert np.allclose(m.free_pm, free - expected)


def test_data_dates_are_kept_when_labels_come_from_data() -> None:
    """With the data's dates, a Mission City with a date is labelled on it, not by preparing."""
    root = Path(__file__).resolve().parents[1]
    base = load_scenario(root / "experiments" / "scenarios" / "baseline.toml")
    m = run_to(base, base.start_year + 2.0)
    dated = np.isfinite(m.label_year) & m.cities.mission
    assert np.array_equal(m.cities.label[dated], m.label_year[dated] <= m.year + 1e-9)
    assert not np.isfinite(m.cities.ccc_submit_year[dated]).any()
