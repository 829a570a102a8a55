"""Green public procurement adoption and the green demand it creates (domain §3.8).

``logit P(green tender) = g0 + g1*skill_proc + g2*framework + g3*mandate + g4*peer_share``
(after Renda et al. 2012; no published ABM of GPP adoption exists, so the form is [assume]);
the share adjusts towards that level with inertia. The population-weighted share is the green
demand that gives clean plants a premium on the public share of their market.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.rules._math import logistic

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def adopt_green_procurement(m: GovernanceModel) -> None:
    """Move each city's green-tender share towards its adoption level; set green demand."""
    c = m.cities
    p = m.params
    g = m.levers.green_procurement
    peer = c.gpp_share[c.peers].mean(axis=1)
    logit = (
        p.gpp_intercept
        + p.gpp_skill_weight * (c.procurement_skill + p.gpp_framework_skill_equivalent * g)
        + p.gpp_framework_weight * g
        + p.gpp_mandate_weight * g * c.target_status.astype(float) / 2.0
        + p.gpp_peer_weight * (peer - 0.3)
    )
    target = logistic(logit)
    c.gpp_share += p.gpp_adjust_per_year * m.dt * (target - c.gpp_share)
    np.clip(c.gpp_share, 0.0, 1.0, out=c.gpp_share)
    m.green_demand_share = float(np.average(c.gpp_share, weights=c.population))
