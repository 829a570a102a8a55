"""Citizens: bounded-confidence opinion dynamics, drivers, participation (domain §3.7).

Per step each citizen meets ``interactions_per_year*dt`` random partners from the same city; if
``|x_i - x_j| < eps_i`` it moves ``mu`` of the way towards the partner (Deffuant et al. 2000,
synchronous one-sided update) with heterogeneous ``eps ~ N(m, sigma)`` (Lorenz 2015) and
redraw noise ``p``. Drivers: ``x += dt*(-a_job*job_risk + a_cob*cobenefit + a_tr*(trust-0.5))``.
Participation ``sigma(pi0 + pi1*trust + pi2*mode)``; empowering modes raise trust. The
per-agent Mesa reference of the same rule is ``abm.agents.citizen_reference``.
"""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING

import numpy as np

from abm.kernels import EMPTY_F32, kernels
from abm.rules import staff
from abm.rules._math import logistic

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def deffuant_round(
    support: np.ndarray,
    epsilon: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    mu: float,
    active_share: float,
    rng: np.random.Generator,
) -> None:
    """One synchronous bounded-confidence round within cities (in place).

    ``first``/``count`` give, per citizen, the first index and size of its city's block. The
    partner is ``first + floor(u * count)``; a citizen takes part with probability
    ``active_share`` (a second uniform per citizen, drawn only when it is below one).
    """
    n = support.size
    u = rng.random(n, dtype=np.float32)
    active = rng.random(n, dtype=np.float32) if active_share < 1.0 else EMPTY_F32
    kernels().bounded_confidence(
        support, epsilon, first, count, np.float32(mu), u, active, np.float32(active_share)
    )


def redraw_noise(support: np.ndarray, prob: float, rng: np.random.Generator) -> None:
    """Each citizen redraws its opinion uniformly with probability ``prob`` (in place).

    A binomial count of distinct citizens (sampling without replacement) is the same
    distribution as one Bernoulli draw per citizen, at a fraction of the cost.
    """
    k = int(rng.binomial(support.size, min(max(prob, 0.0), 1.0)))
    hit = rng.choice(support.size, size=k, replace=False, shuffle=False)
    support[hit] = rng.random(k, dtype=np.float32)


def update_opinions(m: GovernanceModel) -> None:
    """Opinion exchange, noise and drivers; then city aggregates."""
    z = m.citizens
    p = m.params
    rng = m.streams["opinions"]
    per_step = p.interactions_per_year * m.dt
    rounds = max(1, ceil(per_step - 1e-9))
    for _ in range(rounds):
        deffuant_round(
            z.support,
            z.epsilon,
            z.block_first,
            z.block_size,
            p.convergence_rate,
            per_step / rounds,
            rng,
        )
    redraw_noise(z.support, p.opinion_noise_per_year * m.dt, rng)
    c = m.cities
    if m.is_year_start:
        # trust changes only with yearly engagement, so its pull is set once a year
        m.trust_drift = np.float32(p.trust_effect) * (z.trust - np.float32(0.5))
    cobenefit = c.abated_t.sum(axis=1) / np.maximum(c.emissions_base_t.sum(axis=1), 1.0)
    drift_city = (p.cobenefit_effect * cobenefit).astype(np.float32)
    dt = np.float32(m.dt)
    # drift for all; only citizens employed at a plant feel its job risk; clip to [0, 1]
    kernels().apply_drivers(
        z.support,
        z.city,
        drift_city,
        m.trust_drift,
        dt,
        z.employed,
        z.plant,
        m.job_risk,
        c.job_threat_scale,
        dt * np.float32(p.job_threat_effect),
    )
    if m.is_year_start:
        kernels().adopt(z.adoption, z.support, np.float32(p.adoption_rate_per_year))
        m.adoption_city = mean_adoption(m)
    aggregate(m)


def engage_citizens(m: GovernanceModel) -> None:
    """Yearly engagement: staff-limited mode, participation draws, trust gains."""
    if not m.is_year_start:
        return
    z = m.citizens
    c = m.cities
    p = m.params
    rng = m.streams["participation"]
    u = rng.random(z.n, dtype=np.float32)
    demand = p.engagement_person_months_per_100k * c.population / 1e5 * (c.engagement_mode + 1)
    met = staff.use_staff(m, "engagement", demand)
    mode_eff = (c.engagement_mode * met).astype(np.float32)
    k = kernels()
    logit = k.participation_logit(
        z.trust,
        z.participation,
        mode_eff,
        z.city,
        np.float32(p.participation_intercept),
        np.float32(p.participation_trust_weight),
        np.float32(p.participation_mode_weight),
        np.float32(p.participation_offset_weight),
    )
    # participants (u < sigma(logit)) gain trust in proportion to the mode's empowerment
    participants = k.participate(
        z.trust,
        u,
        logistic(logit),
        mode_eff,
        z.city,
        z.city_start,
        z.city_count,
        np.float32(p.empower_trust_gain),
    )
    m.participation_rate = participants / z.city_count


def aggregate(m: GovernanceModel) -> None:
    """City mean support and polarisation (variance) from the citizen arrays."""
    z = m.citizens
    s1, s2 = kernels().city_sums(z.support, z.city_start, True)
    mean = s1 / z.city_count
    m.support = mean
    m.polarisation = np.maximum(s2 / z.city_count - mean * mean, 0.0)


def mean_adoption(m: GovernanceModel) -> np.ndarray:
    """City mean adoption of low-carbon options."""
    z = m.citizens
    return np.asarray(kernels().city_sums(z.adoption, z.city_start, False)[0] / z.city_count)
