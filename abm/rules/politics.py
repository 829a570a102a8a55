"""Political commitment, elections, reversals and targets (domain §3.10).

Council openness follows lagged citizen support (6-12 months: an adjustment rate per year).
Municipal elections every ``election_interval_years`` (staggered across cities) may reverse
commitments with ``P_rev = sigma(rho0 + rho1*(1-support) - rho2*CCC - rho3*locked_funding)``,
else shift openness by ``U(0,1)*delta`` in the direction of support (fcruztorres). Committed
councils adopt targets: none -> planned -> existing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.rules._math import logistic

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def update_commitment(m: GovernanceModel) -> None:
    """Openness follows support; elections; target adoption."""
    c = m.cities
    p = m.params
    rng = m.streams["politics"]
    u_rev = rng.random(c.n)
    u_shift = rng.random(c.n)
    u_target = rng.random(c.n)
    c.commitment += p.commitment_adjust_per_year * m.dt * (m.support - c.commitment)
    if m.is_year_start:
        interval = round(p.election_interval_years)
        election = (np.arange(c.n) + int(m.year)) % interval == 0
        locked = (c.committed_eur.sum(axis=1) + c.implemented_eur) > 0
        logit = (
            p.reversal_intercept
            + p.reversal_support_weight * (1.0 - m.support)
            - p.reversal_ccc_weight * c.ccc_signed
            - p.reversal_locked_funding_weight * locked
        )
        reverse = election & (u_rev < logistic(logit))
        shift = np.sign(m.support - 0.5) * u_shift * p.election_shift
        c.commitment += np.where(reverse, -p.reversal_drop, np.where(election, shift, 0.0))
        demote = (
            reverse & (c.target_status == 2) & (u_target < p.target_demote_probability) & ~c.mission
        )
        c.target_status[demote] = 1
        adopt_logit = (
            p.target_adoption_intercept + p.target_adoption_commitment_weight * c.commitment
        )
        adopt = ~reverse & (u_target < logistic(adopt_logit))
        c.target_status = np.where(
            adopt & (c.target_status < 2), c.target_status + 1, c.target_status
        )
    np.clip(c.commitment, 0.0, 1.0, out=c.commitment)
