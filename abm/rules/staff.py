"""Staff-time accounting: who gets a city's person-months this step, and what is left undone.

Each step ``capacity.give_staff_time`` hands out ``free_pm``; the stages of
``GovernanceModel.step`` then spend it in schedule order, which is the priority order (docs/ODD.md
section 3): work carried from earlier steps of the year first (``serve_carried_work``), then each
stage's demand as it runs (``use_staff``, or ``charge_staff`` for time a rule allocates itself).
The priority rule lives here alone, so that it can be swapped in one place.
"""

from __future__ import annotations

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


def use_staff(
    m: GovernanceModel, use: str, demand_pm: np.ndarray, spread_over_year: bool = False
) -> np.ndarray:
    """Spend staff time on ``use`` up to what is free; return the share of demand met.

    With ``spread_over_year`` the part not covered now is carried into the year's later
    steps (work such as bid writing that is committed once a year but done over it).
    """
    k = STAFF_USES.index(use)
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
    """Work carried from earlier steps of the year is served before anything else."""
    for k in range(len(STAFF_USES)):
        spent = np.minimum(m.free_pm, m.carry_pm[:, k])
        m.free_pm -= spent
        m.staff_use_pm[:, k] += spent
        m.carry_pm[:, k] -= spent
