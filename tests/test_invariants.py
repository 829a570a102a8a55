"""Invariants checked after every step of small runs (yearly and quarterly, levers off and on).

A run is stepped by hand; after each step a set of checks records any violation with the step
and the offending values. Each invariant is its own test over the recorded violations, and
each test also asserts that its check saw something to check (money awarded, projects moving,
a compaction of the project arrays), so a vacuous pass is impossible.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from abm.agents.state import (
    P_ABANDONED,
    P_DROPPED,
    P_IDEA,
    P_IMPLEMENTING,
    P_OPERATING,
    P_PREPARED,
    SME_DEFAULTED,
    SME_WAITING,
    Projects,
)
from abm.config import ScenarioConfig
from abm.model import GovernanceModel
from abm.outputs import CITY_COLUMNS, SimulationResult
from abm.policies import LEVER_NAMES, LeverSetting
from abm.rules import capacity, emissions, industry
from abm.rules.staff import STAFF_USES

# moves a project can make within one step (implement -> operate -> abandon happens in one)
_EDGES = {
    P_IDEA: {P_PREPARED, P_DROPPED},
    P_PREPARED: {P_IMPLEMENTING, P_DROPPED},
    P_IMPLEMENTING: {P_OPERATING, P_DROPPED},
    P_OPERATING: {P_ABANDONED},
    P_DROPPED: set(),
    P_ABANDONED: set(),
}


def _reachable(stage: int) -> set[int]:
    seen = {stage}
    todo = [stage]
    while todo:
        for nxt in _EDGES[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


ALLOWED_MOVE = np.zeros((6, 6), dtype=bool)
for _s in _EDGES:
    ALLOWED_MOVE[_s, list(_reachable(_s))] = True

REL = 1e-9
UNIT_INTERVAL_CITY = (
    "silo",
    "coordination",
    "alignment",
    "alignment_base",
    "commitment",
    "gpp_share",
    "skill",
    "finance_skill",
    "procurement_skill",
    "awareness",
    "industry_dialogue",
)


@dataclass
class Trace:
    """Violations per invariant plus counters showing each check had something to check."""

    violations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seen: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    steps: int = 0
    result: SimulationResult | None = None

    def check(self, name: str, ok: bool | np.bool_, detail: str) -> None:
        if not ok:
            self.violations[name].append(detail)

    def report(self, name: str) -> str:
        v = self.violations.get(name, [])
        return f"{len(v)} violation(s) of {name!r}; first: {v[:3]}"


class ProjectTracker:
    """Follows each project's stage by identity across steps, surviving ``Projects.compact``."""

    def __init__(self, projects: Projects) -> None:
        self.projects = projects
        self.stage = projects.stage[: projects.size].copy()
        self.kept: np.ndarray | None = None
        original = projects.compact

        def compact() -> None:
            stage_before = projects.stage[: projects.size].copy()
            keep = np.flatnonzero(stage_before < P_DROPPED)
            original()
            self.pre_compaction = stage_before
            self.compacted_stage_ok = np.array_equal(
                projects.stage[: projects.size], stage_before[keep]
            )
            self.compactions += 1

        projects.compact = compact  # type: ignore[method-assign]
        self.pre_compaction: np.ndarray | None = None
        self.compactions = 0
        self.compacted_stage_ok = True
        self.moves = np.zeros((6, 6), dtype=np.int64)

    def update(self, trace: Trace, step: int) -> None:
        pr = self.projects
        old = self.stage
        if self.pre_compaction is not None:
            # the step ended with a compaction: judge the moves on the stages just before it
            new = self.pre_compaction
            self.pre_compaction = None
        else:
            new = pr.stage[: pr.size]
        n_old = old.size
        trace.check(
            "project_stages_forward",
            new.size >= n_old,
            f"step {step}: {n_old} tracked projects but only {new.size} left",
        )
        k = min(n_old, new.size)
        np.add.at(self.moves, (old[:k], new[:k]), 1)
        bad = ~ALLOWED_MOVE[old[:k], new[:k]]
        moves = list(zip(old[:k][bad][:5].tolist(), new[:k][bad][:5].tolist(), strict=True))
        trace.check("project_stages_forward", not bad.any(), f"step {step}: moves {moves}")
        fresh = new[n_old:]
        trace.check(
            "project_stages_forward",
            np.all(ALLOWED_MOVE[P_IDEA, fresh]),
            f"step {step}: new projects in stages {np.unique(fresh).tolist()}",
        )
        self.stage = pr.stage[: pr.size].copy()  # after any compaction


def _rel_close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b), 1.0)


def _check_state(m: GovernanceModel, trace: Trace, step: int) -> None:
    c = m.cities
    inst = m.installations
    s = m.smes
    z = m.citizens
    # --- non-negativity
    sector = emissions.city_sector_emissions(m)
    plants = industry.installation_emissions(m)
    trace.check("nonnegative", sector.min() >= 0.0, f"step {step}: city sector {sector.min()}")
    trace.check("nonnegative", plants.min() >= 0.0, f"step {step}: installation {plants.min()}")
    trace.check(
        "nonnegative",
        emissions.city_industry_emissions(m).min() >= 0.0,
        f"step {step}: city industry emissions",
    )
    arrays = {
        "budget_left_eur": m.budget_left_eur,
        "city_debt_eur": m.city_debt_eur,
        "climate_budget_eur": c.climate_budget_eur,
        "programme_budget_eur": m.nations.programme_budget_eur,
        "committed_eur": c.committed_eur,
        "implemented_eur": c.implemented_eur,
        "certified_eur": c.certified_eur,
        "abated_t": c.abated_t,
        "sme_cash_eur": s.cash_eur,
        "sme_debt_eur": s.debt_eur,
        "sme_grant_due_eur": s.grant_due_eur,
        "equity_eur": inst.equity_eur,
        "staff_use_pm": m.staff_use_pm,
        "free_pm": m.free_pm,
    }
    for name, arr in arrays.items():
        trace.check("nonnegative", arr.min() >= 0.0, f"step {step}: {name} min {arr.min()}")
    trace.check("nonnegative", c.staff_fte.min() > 0.0, f"step {step}: staff_fte <= 0")
    for key, instrument in m.eu.instruments.items():
        trace.check(
            "eu_budgets_nonnegative",
            instrument.remaining_eur >= 0.0,
            f"step {step}: {key} remaining {instrument.remaining_eur}",
        )
    # --- bounded shares
    for name in UNIT_INTERVAL_CITY:
        v = getattr(c, name)
        trace.check(
            "unit_interval",
            v.min() >= 0.0 and v.max() <= 1.0,
            f"step {step}: {name} in [{v.min()}, {v.max()}]",
        )
    for name, v in (
        ("city support", m.support),
        ("participation_rate", m.participation_rate),
        ("citizen support", z.support),
        ("trust", z.trust),
        ("adoption", z.adoption),
        ("kappa", inst.kappa),
        ("utilisation", inst.utilisation),
        ("green_demand_share", np.array([m.green_demand_share])),
    ):
        trace.check(
            "unit_interval",
            v.min() >= 0.0 and v.max() <= 1.0,
            f"step {step}: {name} in [{v.min()}, {v.max()}]",
        )
    # --- money conservation (grant pipeline)
    a = m.accounts
    pipeline = float(c.committed_eur.sum() + c.implemented_eur.sum() + c.certified_eur.sum())
    rhs = a["paid_eur"] + a["decommitted_eur"] + pipeline
    trace.check(
        "money_conserved",
        _rel_close(a["awarded_eur"], rhs),
        f"step {step}: awarded {a['awarded_eur']} != paid+decommitted+pipeline {rhs}",
    )
    trace.seen["money_conserved"] = a["awarded_eur"]
    trace.seen["decommitted"] = a["decommitted_eur"]
    eu = m.eu
    sme_awarded = eu.instruments["sme"].awarded_eur
    sme_rhs = eu.sme_paid_eur + float(s.grant_due_eur.sum())
    trace.check(
        "sme_grants_conserved",
        _rel_close(sme_awarded, sme_rhs),
        f"step {step}: sme awarded {sme_awarded} != paid+due {sme_rhs}",
    )
    owed = s.grant_due_eur > 0.0
    trace.check(
        "sme_grants_conserved",
        np.all(np.isin(s.status[owed], (SME_WAITING, SME_DEFAULTED))),
        f"step {step}: grant due on SMEs that are neither waiting nor defaulted",
    )
    trace.seen["sme_grants_conserved"] = sme_awarded
    # --- each money flow booked once: what the funders awarded is what the recipients got
    calls = ("mission", "cohesion")
    funders = sum(eu.instruments[k].awarded_eur for k in calls) + m.national.awarded_eur
    trace.check(
        "money_booked_once",
        _rel_close(a["awarded_eur"], funders),
        f"step {step}: cities got {a['awarded_eur']} != EU calls + national {funders}",
    )
    eu_total = sum(eu.instruments[k].awarded_eur for k in (*calls, "industry"))
    trace.check(
        "money_booked_once",
        _rel_close(eu.awarded_eur, eu_total),
        f"step {step}: EU ledger {eu.awarded_eur} != its instruments' awards {eu_total}",
    )
    aid = float(inst.aid_eur.sum())
    givers = float(m.nations.aid_paid_eur.sum()) + eu.instruments["industry"].awarded_eur
    trace.check(
        "money_booked_once",
        _rel_close(aid, givers),
        f"step {step}: plants got aid {aid} != national aid + industry fund {givers}",
    )
    awarded_all = sum(instrument.awarded_eur for instrument in eu.instruments.values())
    trace.check(
        "money_booked_once",
        awarded_all <= eu.offered_eur * (1 + REL),
        f"step {step}: EU awarded {awarded_all} > offered {eu.offered_eur}",
    )
    trace.seen["money_booked_once"] = funders + aid
    # --- abatement of city sectors equals the operating projects' abatement
    pr = m.projects
    op = np.flatnonzero(pr.stage[: pr.size] == P_OPERATING)
    expected = np.zeros_like(c.abated_t)
    np.add.at(expected, (pr.city[op], pr.sector[op]), pr.abatement_t[op])
    trace.check(
        "abatement_matches_projects",
        np.allclose(c.abated_t, expected, rtol=1e-9, atol=1e-6),
        f"step {step}: max diff {np.abs(c.abated_t - expected).max()}",
    )
    trace.seen["abatement_matches_projects"] = float(expected.sum())


def _levers_on() -> tuple[LeverSetting, ...]:
    return tuple(LeverSetting(name, 1.0, 2027) for name in LEVER_NAMES)


@pytest.fixture(
    scope="module",
    params=[(1, False), (4, False), (1, True)],
    ids=["yearly", "quarterly", "yearly-all-levers"],
)
def trace(request: pytest.FixtureRequest, small_config: ScenarioConfig) -> Trace:
    """Run a small 2025-2040 model step by step, checking every invariant after each step."""
    steps_per_year, levers = request.param
    config = dataclasses.replace(small_config, end_year=2040, steps_per_year=steps_per_year)
    if levers:
        config = dataclasses.replace(config, levers=_levers_on())
    m = GovernanceModel(config, 42)
    t = Trace()
    tracker = ProjectTracker(m.projects)
    open_before = m.installations.open.copy()
    n_steps = m.config.n_years * steps_per_year
    for step in range(n_steps):
        cap = capacity.staff_capacity_pm(m)  # what give_staff_time will hand out
        use_before = m.staff_use_pm.copy()
        year_start = m.is_year_start
        year_before = m.year
        m.step()
        used = m.staff_use_pm - (0.0 if year_start else use_before)
        total = used.sum(axis=1)
        t.check(
            "staff_within_capacity",
            np.all(total <= cap * (1 + 1e-12) + 1e-9),
            f"step {step}: used {total.max()} > capacity; excess {(total - cap).max()}",
        )
        t.check(
            "staff_within_capacity",
            np.allclose(total, cap - m.free_pm, rtol=1e-9, atol=1e-9),
            f"step {step}: used time != capacity - free time",
        )
        t.seen["staff_within_capacity"] += float(total.sum())
        t.check(
            "clock",
            abs(m.year - (year_before + m.dt)) < 1e-9,
            f"step {step}: year {year_before} -> {m.year}",
        )
        tracker.update(t, step)
        t.check(
            "project_stages_forward",
            tracker.compacted_stage_ok,
            f"step {step}: compaction changed surviving stages",
        )
        now_open = m.installations.open
        reopened = now_open & ~open_before
        t.check(
            "closed_stay_closed",
            not reopened.any(),
            f"step {step}: reopened {np.flatnonzero(reopened)}",
        )
        t.seen["closed_stay_closed"] += float((~now_open).sum())
        open_before = now_open.copy()
        _check_state(m, t, step)
        t.steps += 1
    t.seen["compactions"] = tracker.compactions
    t.seen["project_moves"] = float(tracker.moves.sum() - np.trace(tracker.moves))
    t.seen["operating_reached"] = float(tracker.moves[:, P_OPERATING].sum())
    t.result = m.recorder.result()
    return t


INVARIANTS = (
    "nonnegative",
    "eu_budgets_nonnegative",
    "unit_interval",
    "money_conserved",
    "sme_grants_conserved",
    "money_booked_once",
    "abatement_matches_projects",
    "staff_within_capacity",
    "project_stages_forward",
    "clock",
)


@pytest.mark.parametrize("name", INVARIANTS)
def test_invariant_holds_every_step(trace: Trace, name: str) -> None:
    assert trace.steps > 0
    assert not trace.violations.get(name), trace.report(name)


def test_checks_were_not_vacuous(trace: Trace) -> None:
    """The run awarded and paid money, moved projects, compacted arrays and used staff."""
    assert trace.seen["money_conserved"] > 0
    assert trace.seen["sme_grants_conserved"] > 0
    assert trace.seen["money_booked_once"] > 0
    assert trace.seen["abatement_matches_projects"] > 0
    assert trace.seen["staff_within_capacity"] > 0
    assert trace.seen["project_moves"] > 100
    assert trace.seen["operating_reached"] > 0
    assert trace.seen["compactions"] >= 1


def test_closed_installations_stay_closed(trace: Trace) -> None:
    assert not trace.violations.get("closed_stay_closed"), trace.report("closed_stay_closed")
    # also in the output table: once an installation's row says closed, later rows agree
    assert trace.result is not None
    plants = trace.result.installation_year
    plants = plants[plants["sector"] != "sme_cluster"].sort_values(["installation_id", "year"])
    reopened = plants.groupby("installation_id")["open"].apply(
        lambda s: bool((s.astype(int).diff() > 0).any())
    )
    assert not reopened.any(), list(reopened[reopened].index)


# --- output tables --------------------------------------------------------------------------------


def test_city_table_one_row_per_year_and_city(small_result: SimulationResult) -> None:
    cy = small_result.city_year
    cfg = small_result.config
    n_cities = cy["city_id"].nunique()
    assert n_cities == 112 + cfg.population.n_non_mission_cities
    assert len(cy) == cfg.n_years * n_cities
    assert not cy.duplicated(["year", "city_id"]).any()
    assert sorted(cy["year"].unique()) == list(range(cfg.start_year, cfg.end_year + 1))


def test_city_table_numeric_columns_have_no_nan(small_result: SimulationResult) -> None:
    cy = small_result.city_year
    numeric = cy.select_dtypes(include="number")
    assert set(CITY_COLUMNS) - {"target_status_code"} <= set(cy.columns)
    bad = [col for col in numeric.columns if numeric[col].isna().any()]
    assert not bad, f"NaN in city_year columns {bad}"
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()


def test_installation_table_one_row_per_year_and_installation(
    small_result: SimulationResult,
) -> None:
    iy = small_result.installation_year
    cfg = small_result.config
    assert not iy.duplicated(["year", "installation_id"]).any()
    per_year = iy.groupby("year")["installation_id"].nunique()
    assert per_year.nunique() == 1
    assert len(per_year) == cfg.n_years
    plants = iy[iy["sector"] != "sme_cluster"]
    numeric = plants.select_dtypes(include="number")
    bad = [col for col in numeric.columns if numeric[col].isna().any()]
    assert not bad, f"NaN in installation_year plant columns {bad}"


EU_SUMMED = (
    "emissions_buildings_t",
    "emissions_transport_t",
    "emissions_energy_t",
    "emissions_waste_t",
    "emissions_industry_t",
    "emissions_total_t",
    "funds_applied_eur",
    "funds_awarded_eur",
    "funds_absorbed_eur",
    "funds_decommitted_eur",
    "own_funded_eur",
    "staff_fte",
    "staff_pm_unmet",
    "projects_completed",
    "projects_operating",
    "population",
    "cities_with_ccc",
    "industry_jobs",
)
EU_WEIGHTED = ("citizen_support", "alignment", "silo_index", "gpp_share", "skill")


def test_eu_level_is_sum_over_countries(small_result: SimulationResult) -> None:
    eu = small_result.eu_year
    top = eu[eu["level"] == "EU"].set_index("year").sort_index()
    nat = eu[eu["level"] != "EU"]
    assert len(top) == small_result.config.n_years
    assert nat["level"].nunique() > 10
    summed = nat.groupby("year")[list(EU_SUMMED)].sum().sort_index()
    pd.testing.assert_frame_equal(top[list(EU_SUMMED)], summed, rtol=1e-9, check_dtype=False)
    weighted = (
        nat[list(EU_WEIGHTED)].mul(nat["population"], axis=0).groupby(nat["year"]).sum()
    ).div(summed["population"], axis=0)
    pd.testing.assert_frame_equal(top[list(EU_WEIGHTED)], weighted, rtol=1e-9, check_dtype=False)


def test_eu_level_matches_city_table(small_result: SimulationResult) -> None:
    eu = small_result.eu_year
    top = eu[eu["level"] == "EU"].set_index("year").sort_index()
    city = small_result.city_year.groupby("year")[
        ["emissions_total_t", "funds_awarded_eur", "population"]
    ].sum()
    pd.testing.assert_frame_equal(
        top[["emissions_total_t", "funds_awarded_eur", "population"]],
        city,
        rtol=1e-9,
        check_dtype=False,
    )


def test_cumulative_accounts_match_yearly_flows(small_result: SimulationResult) -> None:
    """The EU's cumulative grant accounts equal the running sum of the cities' yearly flows."""
    eu = small_result.eu_year
    top = eu[eu["level"] == "EU"].set_index("year").sort_index()
    flows = small_result.city_year.groupby("year")[
        ["funds_awarded_eur", "funds_absorbed_eur", "funds_decommitted_eur"]
    ].sum()
    cum = flows.cumsum()
    for flow, account in (
        ("funds_awarded_eur", "grants_awarded_cum_eur"),
        ("funds_absorbed_eur", "grants_paid_cum_eur"),
        ("funds_decommitted_eur", "grants_decommitted_cum_eur"),
    ):
        np.testing.assert_allclose(
            top[account].to_numpy(), cum[flow].to_numpy(), rtol=1e-9, atol=1e-3, err_msg=account
        )
    assert top["grants_awarded_cum_eur"].iloc[-1] > 0


def test_staff_use_columns_cover_every_use(small_result: SimulationResult) -> None:
    cy = small_result.city_year
    for use in STAFF_USES:
        col = f"staff_pm_{use}"
        assert col in cy.columns
        assert (cy[col] >= 0).all(), col
    assert cy["staff_pm_grant_management"].sum() > 0
