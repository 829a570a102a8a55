"""Staff-time accounting: who gets a city's person-months this step, and what is left undone.

Each step ``capacity.give_staff_time`` hands out ``free_pm``; the stages of
``GovernanceModel.step`` then spend it in schedule order (docs/ODD.md section 3): work carried
from earlier steps of the year first (``serve_carried_work``), then each stage's demand as it
runs (``use_staff``, or ``charge_staff`` for time a rule allocates itself). The allocation rule
(``ScenarioConfig.staff_rule``, one of :data:`STAFF_RULES`) decides how much of the step's time
is *held* for each use before any stage runs (``hold_reserves``, using :func:`allocate`):

* ``priority`` holds nothing, so time goes in schedule order (contractual work first, then
  applications, preparation, dialogue and engagement): sequential attention to goals (Cyert &
  March 1963) and the triage of street-level bureaucracies (Lipsky 1980).
* ``protected_shares`` holds a share of the step's time for the cross-cutting uses
  (:data:`PROTECTED_USES`: coordination, dialogue, engagement), up to their expected demand; the
  rest goes in priority order. Dedicated time and roles for boundary-spanning work (Williams
  2002; O'Flynn 2019; climate managers and coordination units, Bach 2015).
* ``proportional`` holds for every use a share of the step's time in proportion to its
  expected demand (all of it when demand fits): "fair share" allocation (Wildavsky 1964;
  Davis, Dempster & Wildavsky 1966).

Expected demand is what each use demanded at the same step of the previous year plus work
carried into this step; preparation's is its current backlog. In the first year, with no
recorded demand yet, every rule spends in priority order. A use's held time joins the free
pool when its stage runs (``open_reserve``), so time held but not needed goes to later stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from abm.model import GovernanceModel

# staff-time uses: the columns of GovernanceModel.staff_use_pm (their priority is the order in
# which the stages of step() charge them, not the order of this tuple)
STAFF_USES: tuple[str, ...] = (
    "grant_management",
    "implementation",
    "coordination",
    "applications",
    "preparation",
    "engagement",
    "dialogue",
)
# the allocation rules a scenario can choose (``[scenario] staff_rule``); the first is the default
STAFF_RULES: tuple[str, ...] = ("priority", "protected_shares", "proportional")
STAFF_RULE_WORDS = "one of " + ", ".join(f"'{r}'" for r in STAFF_RULES)
# uses that hold a protected share under ``protected_shares`` (shares: registry parameters)
PROTECTED_USES: tuple[str, ...] = ("coordination", "dialogue", "engagement")


@dataclass(slots=True)
class StaffTime:
    """Per-city staff-time ledger: time held for each use, demand recorded, time available."""

    reserve_pm: np.ndarray  # (cities, uses) time held for each use this step
    step_demand_pm: np.ndarray  # (cities, uses) demand recorded this step
    history_pm: np.ndarray  # (steps per year, cities, uses) demand at each step of the past year
    available_pm: np.ndarray  # (cities,) staff time available so far this year

    @classmethod
    def zeros(cls, n: int, steps_per_year: int) -> StaffTime:
        """An empty ledger for ``n`` cities."""
        k = len(STAFF_USES)
        return cls(
            reserve_pm=np.zeros((n, k)),
            step_demand_pm=np.zeros((n, k)),
            history_pm=np.zeros((steps_per_year, n, k)),
            available_pm=np.zeros(n),
        )


def allocate(
    rule: str, available_pm: np.ndarray, demand_pm: np.ndarray, protected_share: np.ndarray
) -> np.ndarray:
    """Staff time held for each use (cities x uses) under ``rule``, from expected demand.

    ``available_pm`` is each city's time this step, ``demand_pm`` the expected demand per use
    and ``protected_share`` the share of time protected for each use (``protected_shares``).
    Nothing is ever held beyond a use's demand, nor more than is available in all.
    """
    demand = np.maximum(demand_pm, 0.0)
    available = np.maximum(available_pm, 0.0)[:, None]
    if rule == "priority":
        return np.zeros_like(demand)
    if rule == "protected_shares":
        return np.minimum(protected_share[None, :] * available, demand)
    if rule == "proportional":
        total = demand.sum(axis=1, keepdims=True)
        scale = np.where(total > available, available / np.maximum(total, 1e-12), 1.0)
        return np.asarray(demand * scale)
    raise ValueError(f"unknown staff rule {rule!r}; expected {STAFF_RULE_WORDS}")


def protected_shares(m: GovernanceModel) -> np.ndarray:
    """The share of staff time protected for each use (zero for the uses not protected)."""
    p = m.params
    share = np.zeros(len(STAFF_USES))
    share[STAFF_USES.index("coordination")] = p.staff_protected_share_coordination
    share[STAFF_USES.index("dialogue")] = p.staff_protected_share_dialogue
    share[STAFF_USES.index("engagement")] = p.staff_protected_share_engagement
    return share


def hold_reserves(m: GovernanceModel, preparation_pm: np.ndarray) -> None:
    """Start the step's ledger and hold time for each use under the scenario's staff rule.

    ``preparation_pm`` is the preparation work waiting now (preparation's expected demand).
    """
    st = m.staff_time
    spy = m.config.steps_per_year
    if m.step_index > 0:
        st.history_pm[(m.step_index - 1) % spy] = st.step_demand_pm
    st.step_demand_pm[:] = 0.0
    st.reserve_pm[:] = 0.0
    if m.config.staff_rule == "priority" or m.step_index < spy:
        return  # nothing held: time goes in schedule order
    demand = st.history_pm[m.step_index % spy] + m.carry_pm
    demand[:, STAFF_USES.index("preparation")] = preparation_pm
    st.reserve_pm[:] = allocate(m.config.staff_rule, m.free_pm, demand, protected_shares(m))
    m.free_pm -= st.reserve_pm.sum(axis=1)
    np.maximum(m.free_pm, 0.0, out=m.free_pm)  # no rounding below zero


def open_reserve(m: GovernanceModel, use: str) -> np.ndarray:
    """The stage of ``use`` runs: its held time joins the free pool; return the pool."""
    k = STAFF_USES.index(use)
    m.free_pm += m.staff_time.reserve_pm[:, k]
    m.staff_time.reserve_pm[:, k] = 0.0
    return m.free_pm


def use_staff(
    m: GovernanceModel, use: str, demand_pm: np.ndarray, spread_over_year: bool = False
) -> np.ndarray:
    """Spend staff time on ``use`` up to what is free; return the share of demand met.

    With ``spread_over_year`` the part not covered now is carried into the year's later
    steps (work such as bid writing that is committed once a year but done over it).
    """
    k = STAFF_USES.index(use)
    open_reserve(m, use)
    m.staff_time.step_demand_pm[:, k] += demand_pm
    spent = np.clip(demand_pm, 0.0, np.maximum(m.free_pm, 0.0))
    m.free_pm -= spent
    m.staff_use_pm[:, k] += spent
    unmet = demand_pm - spent
    if spread_over_year:
        m.carry_pm[:, k] += unmet
    else:
        m.year_flows.unmet_pm += unmet
    with np.errstate(divide="ignore", invalid="ignore"):
        met = np.where(demand_pm > 0, spent / demand_pm, 1.0)
    return np.asarray(met)


def charge_staff(m: GovernanceModel, use: str, spent_pm: np.ndarray) -> None:
    """Record staff time a rule has allocated itself (within what is free)."""
    k = STAFF_USES.index(use)
    m.free_pm = np.maximum(m.free_pm - spent_pm, 0.0)  # no rounding below zero
    m.staff_use_pm[:, k] += spent_pm


def serve_carried_work(m: GovernanceModel) -> None:
    """Work carried from earlier steps of the year is served first (held time, then free)."""
    held = m.staff_time.reserve_pm
    for k in range(len(STAFF_USES)):
        from_held = np.minimum(held[:, k], m.carry_pm[:, k])
        held[:, k] -= from_held
        from_free = np.minimum(m.free_pm, m.carry_pm[:, k] - from_held)
        m.free_pm -= from_free
        spent = from_held + from_free
        m.staff_use_pm[:, k] += spent
        m.carry_pm[:, k] -= spent


def staff_demanded_pm(m: GovernanceModel) -> np.ndarray:
    """Staff time demanded in the year so far: time spent plus what was left undone (pm)."""
    return np.asarray(m.staff_use_pm.sum(axis=1) + m.year_flows.unmet_pm)
