"""Administrative capacity: staff time supply, skills, twinning, turnover and hiring (domain §3.2).

Capacity ``C_i = FTE_i * share * 12 * dt * (f + (1 - f) skill_i) * (1 - loss s_i (1 - c_i))``
person-months per step (``f = skill_capacity_floor``, ``loss = silo_capacity_loss``), after the
domain's ``C_i = sum_d FTE_id * skill_id * (1 - s_i o_coord)``. Skill
follows ``skill += eta*completed + lambda_train*(1-skill) + kappa_tw*(peer gap) - delta*skill``
(domain §3.2 and §3.9; fcruztorres ABM_Energy_Transition for learning; [assume] for ranges).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.rules import ccc, staff
from abm.rules.projects import preparation_backlog

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def staff_capacity_pm(m: GovernanceModel) -> np.ndarray:
    """Person-months of effective climate staff time per step for each city."""
    c = m.cities
    p = m.params
    silo_loss = 1.0 - p.silo_capacity_loss * c.silo * (1.0 - c.coordination)
    floor = p.skill_capacity_floor
    productivity = floor + (1.0 - floor) * c.skill
    return c.staff_fte * p.climate_time_share * 12.0 * m.dt * productivity * silo_loss


def give_staff_time(m: GovernanceModel) -> None:
    """Hand out this step's staff time and hold parts of it for uses as the staff rule says.

    Uses are then charged in schedule order from what they hold and the free pool
    (``abm.rules.staff``); the time available is summed over the year for the workload.
    """
    if m.is_year_start:
        m.staff_use_pm[:] = 0.0
        m.staff_time.available_pm[:] = 0.0
    m.free_pm = staff_capacity_pm(m)
    m.staff_time.available_pm += m.free_pm
    m.completed_step = np.zeros(m.cities.n)
    staff.hold_reserves(m, preparation_backlog(m))
    ccc.hold_preparation_time(m)  # the CCC comes first in the staff-time queue


def _peer_gap(values: np.ndarray, peers: np.ndarray) -> np.ndarray:
    return np.maximum(values[peers].mean(axis=1) - values, 0.0)


def lever_training_skill_per_year(m: GovernanceModel) -> float:
    """Skill gain per year from the capacity lever's training: hours bought x gain per hour."""
    p = m.params
    return (
        p.capacity_skill_gain_per_training_hour
        * p.lever_capacity_training_hours_per_fte_year
        * m.levers.capacity_building
    )


def learn_and_hire(m: GovernanceModel) -> None:
    """Skills grow with projects, training and twinning, decay with turnover; backlog hires."""
    c = m.cities
    p = m.params
    lv = m.levers
    dt = m.dt
    platform = p.platform_training_skill_per_year * (c.mission | c.label)
    training = p.training_skill_per_year + lever_training_skill_per_year(m)
    twin = p.twinning_transfer_per_year * (
        p.twinning_baseline_share + (1 - p.twinning_baseline_share) * lv.capacity_building
    )
    c.skill += (
        p.skill_learning_per_project * m.completed_step
        + (training + platform) * dt * (1.0 - c.skill)
        + twin * dt * _peer_gap(c.skill, c.peers)
        - p.skill_turnover_per_year * dt * c.skill
    )
    c.finance_skill += (
        (p.finance_training_share * training + platform) * dt * (1.0 - c.finance_skill)
        + twin * dt * _peer_gap(c.finance_skill, c.peers)
        - p.skill_turnover_per_year * dt * c.finance_skill
    )
    c.procurement_skill += (
        p.procurement_training_share * lever_training_skill_per_year(m)
        + p.capacity_skill_gain_per_training_hour
        * p.lever_gpp_training_hours_per_procurement_fte_year
        * lv.green_procurement
    ) * dt * (
        1.0 - c.procurement_skill
    ) - p.procurement_turnover_share * p.skill_turnover_per_year * dt * c.procurement_skill
    np.clip(c.skill, 0.01, 0.99, out=c.skill)
    np.clip(c.finance_skill, 0.01, 0.99, out=c.finance_skill)
    np.clip(c.procurement_skill, 0.01, 0.99, out=c.procurement_skill)
    aware_gain = (
        p.awareness_gain_per_year
        + p.awareness_gain_mission_per_year * (c.mission | c.label)
        + p.lever_simplification_awareness_gain * lv.simplification
        + p.lever_capacity_awareness_gain * lv.capacity_building
    )
    c.awareness += dt * (
        aware_gain * (1.0 - c.awareness) - p.awareness_decay_per_year * c.awareness
    )
    np.clip(c.awareness, 0.0, 1.0, out=c.awareness)
    # hiring: a backlog beyond capacity draws extra staff where national fiscal room allows
    cap_year = staff_capacity_pm(m) / dt
    backlog = m.year_flows.unmet_pm + preparation_backlog(m)
    pressure = np.clip(backlog / np.maximum(cap_year, 1e-9), 0.0, 1.0)
    funded = p.lever_capacity_staff_growth * lv.capacity_building
    growth = p.hiring_response_per_year * pressure * m.nations.fiscal_room[c.country] + funded
    m.lever_accounts.funded_fte += funded * dt * c.staff_fte  # FTE the lever pays (public_cost)
    c.staff_fte *= 1.0 + growth * dt
