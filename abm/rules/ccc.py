"""Climate City Contract preparation, submission rounds and Mission Label assessment (issue 12).

A Mission City whose Label date is not taken from the data prepares its CCC (Commitments, Action
Plan, Investment Plan) from the Mission's start: ``ccc_preparation_person_months`` of staff time
at 100k residents (times size to ``ccc_preparation_size_exponent``), spent no faster than over
the city's own preparation time (``ccc_min_preparation_years`` plus an exponential readiness
delay of mean ``ccc_preparation_spread_years``: the council's mandate, the team, stakeholder
commitments). The CCC comes first in the staff-time queue: ``hold_preparation_time`` holds
``ccc_staff_priority`` of each step's CCC work before any stage spends staff time (the Mission's
condition of the Label, prepared by a dedicated team), so project preparation gets what it
leaves; only a city whose whole time is short of the CCC's pace takes longer.
A finished CCC waits for the next submission window (``ccc_first_submission_year`` then every
``ccc_submission_interval_years``: NetZeroCities reviews CCCs in rounds), counts as created
(``ccc_signed``) from that window, and gets the Mission Label after the Commission's assessment,
``label_assessment_lag_years`` later. Events inside a step are timed exactly and take effect by
the end of the step in which they fall, as the data's Label dates do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.rules import staff

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def next_window(p_first: float, interval: float, ready_year: np.ndarray) -> np.ndarray:
    """The first submission window on or after each ``ready_year`` (windows every ``interval``)."""
    k = np.ceil(np.maximum(ready_year - p_first, 0.0) / interval - 1e-9)  # on a window: in it
    return np.asarray(p_first + interval * np.maximum(k, 0.0))


def preparation_need_pm(m: GovernanceModel) -> np.ndarray:
    """Staff time each city's CCC takes: ``ccc_preparation_person_months`` at 100k residents."""
    p = m.params
    size = m.cities.population / 1e5
    return np.asarray(p.ccc_preparation_person_months * size**p.ccc_preparation_size_exponent)


def preparing_cities(m: GovernanceModel) -> np.ndarray:
    """Mission Cities whose Label date is not taken from the data: they prepare a CCC."""
    scheduled = np.isfinite(m.label_year) & bool(m.params.mission_labels_from_data)
    return np.asarray(m.cities.mission & ~scheduled)


def _step_demand_pm(m: GovernanceModel, preparing: np.ndarray) -> tuple[np.ndarray, ...]:
    """(this step's demand, need, pace per year, working, remaining) of CCC preparation (pm).

    Each city's fastest preparation time is drawn here the first time it is needed.
    """
    c = m.cities
    p = m.params
    t0 = max(m.year, p.mission_start_year)
    t1 = m.year + m.dt
    if np.isnan(c.ccc_prep_years).any():  # each city's fastest preparation, drawn once
        extra = m.streams["ccc_readiness"].exponential(p.ccc_preparation_spread_years, c.n)
        c.ccc_prep_years = p.ccc_min_preparation_years + extra
    need = preparation_need_pm(m)
    rate = need / c.ccc_prep_years  # person-months a year at most
    working = preparing & (c.ccc_prep_pm < need) & (t1 > t0)
    remaining = need - c.ccc_prep_pm
    demand = np.where(working, np.minimum(rate * max(t1 - t0, 0.0), remaining), 0.0)
    return demand, need, rate, working, remaining


def hold_preparation_time(m: GovernanceModel) -> None:
    """Hold ``ccc_staff_priority`` of the step's CCC work before any stage spends staff time.

    The CCC is the Mission's condition of the Label, so a Mission City puts it ahead of its
    project pipeline; the time is held for the dialogue use the CCC is charged to and joins the
    free pool when that stage runs (``staff.open_reserve``), so time not needed is not lost.
    """
    demand, *_ = _step_demand_pm(m, preparing_cities(m))
    held = np.minimum(m.params.ccc_staff_priority * demand, np.maximum(m.free_pm, 0.0))
    m.staff_time.reserve_pm[:, staff.STAFF_USES.index("dialogue")] += held
    m.free_pm -= held


def prepare_contracts(m: GovernanceModel, preparing: np.ndarray) -> np.ndarray:
    """Advance CCC preparation of the ``preparing`` cities; return the CCCs submitted this step.

    Also awards the Label to cities whose assessment ends by the end of this step.
    """
    c = m.cities
    p = m.params
    t0 = max(m.year, p.mission_start_year)
    t1 = m.year + m.dt
    demand, _, rate, working, remaining = _step_demand_pm(m, preparing)
    met = staff.use_staff(m, "dialogue", demand)
    spent = demand * met
    c.ccc_prep_pm += spent
    done = working & (spent >= remaining - 1e-9)
    # the work goes at the full rate when all of it is met, so it ends spent / rate into the step
    ready = t0 + spent / rate
    window = next_window(p.ccc_first_submission_year, p.ccc_submission_interval_years, ready)
    c.ccc_submit_year = np.where(done, window, c.ccc_submit_year)
    c.label_due_year = np.where(
        done, c.ccc_submit_year + p.label_assessment_lag_years, c.label_due_year
    )
    submitted = preparing & ~c.ccc_signed & (c.ccc_submit_year <= t1 + 1e-9)
    c.label |= preparing & (c.label_due_year <= t1 + 1e-9)
    return np.asarray(submitted)
