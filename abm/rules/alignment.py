"""Multilevel alignment, dialogue platforms and Climate City Contracts (domain §3.4, §3.10).

Each dialogue round raises a city's alignment ``a`` by ``gain*(1-a)`` at a staff-time cost;
``a`` drifts back to the structural alignment set by national priorities (``omega_econ`` weighs
jobs/GDP where a national-asset plant sits). Dialogue gives cities voice over plants (``kappa``
up, voice not control). Mission Cities sign CCCs and get the Label on the dates in the data (or,
with ``mission_labels_from_data`` = 0, and for Mission Cities without a date, by preparing the
CCC with staff time, submitting it in a review round and waiting for the assessment:
:mod:`abm.rules.ccc`, so the dates can be a target); other cities sign with a yearly hazard; a
CCC brings reciprocal national commitments (``a`` up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.rules import ccc, staff
from abm.rules._math import logistic

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def permitting_speed(alignment: np.ndarray, range_x: float) -> np.ndarray:
    """Delivery-speed multiplier from multilevel alignment (permits, national rules)."""
    return 1.0 - range_x / 2.0 + range_x * alignment


def hold_dialogues(m: GovernanceModel) -> None:
    """Dialogue rounds, national coordination, CCC signatures and alignment drift."""
    c = m.cities
    p = m.params
    lv = m.levers
    dt = m.dt
    rng = m.streams["ccc"]
    u_sign = rng.random(c.n)
    u_scope = rng.random(c.n)
    rng.random(c.n)  # the draw of the retired Label hazard: keeps the stream's later values
    # Mission Cities without a Label date in use prepare, submit and are assessed (abm.rules.ccc);
    # first in the stage, so the time held for the CCC (ccc.hold_preparation_time) goes to it
    submitted = ccc.prepare_contracts(m, ccc.preparing_cities(m))
    rounds = (
        p.baseline_dialogue_rounds_per_year
        + p.lever_dialogue_rounds_per_year * lv.dialogue_platforms
    )
    met = staff.use_staff(
        m, "dialogue", np.full(c.n, p.dialogue_person_months_per_round * rounds * dt)
    )
    c.alignment += p.dialogue_alignment_gain * rounds * dt * met * (1.0 - c.alignment)
    c.alignment += p.alignment_decay_per_year * dt * (c.alignment_base - c.alignment)
    np.clip(c.alignment, 0.0, 1.0, out=c.alignment)
    m.national.offer_coordination(lv.dialogue_platforms)
    inst = m.installations
    inst.kappa = np.minimum(
        inst.kappa_base + p.lever_dialogue_kappa_gain * lv.dialogue_platforms, 1.0
    )
    c.industry_dialogue += dt * (
        (
            p.industry_dialogue_gain_lever_per_year * lv.dialogue_platforms
            + p.industry_dialogue_gain_ccc_per_year * c.industry_in_ccc
        )
        * (1.0 - c.industry_dialogue)
        - p.industry_dialogue_decay_per_year * c.industry_dialogue
    )
    # --- Climate City Contracts and the Mission Label
    # Label dates come from the data unless the calibration set-up makes them a target
    scheduled = np.isfinite(m.label_year) & bool(p.mission_labels_from_data)
    opened = m.year + dt > p.mission_start_year  # no CCC before the Mission selected cities
    data_sign = scheduled & (m.label_year - p.ccc_before_label_years <= m.year) & ~c.ccc_signed
    logit = (
        p.ccc_adoption_logit
        + p.lever_ccc_hazard_boost * lv.climate_city_contracts
        + p.ccc_commitment_weight * (c.commitment - 0.5)
        + p.ccc_skill_weight * (c.skill - 0.3)
    )
    hazard = 1.0 - (1.0 - logistic(logit)) ** dt
    hazard_sign = ~c.mission & ~scheduled & ~c.ccc_signed & (u_sign < hazard) & opened
    new = data_sign | submitted | hazard_sign
    if new.any():
        c.ccc_signed |= new
        c.alignment_base = np.minimum(c.alignment_base + p.ccc_alignment_gain * new, 1.0)
        c.industry_in_ccc |= new & (
            u_scope < p.lever_ccc_industry_scope_new_share * lv.climate_city_contracts
        )
    # the lever also brings industry into the scope of existing contracts over time
    c.industry_in_ccc |= c.ccc_signed & (
        u_scope < lv.climate_city_contracts * dt * p.lever_ccc_industry_scope_per_year
    )
    case = m.config.case
    if case is not None and case.industry_in_ccc is not None:
        # a case city's CCC scope is set by the case (e.g. Dunkirk's leaves industry out)
        c.industry_in_ccc[m.focus_city] = case.industry_in_ccc and c.ccc_signed[m.focus_city]
    c.label |= scheduled & (m.label_year <= m.year + dt)
