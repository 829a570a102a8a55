"""Departmental silos: joint approval, coordination cost and slower delivery (domain §3.3).

A measure needing departments ``D`` proceeds with ``P = [1 - s(1 - c)]^(|D|-1) *
(1 - s*conflict)^(|D|-1)`` (the domain's simple rule, counting only departments beyond the lead
one, plus the veto term); it costs ``h * s * |D|`` person-months of coordination. Climate City
Contracts and cross-sectoral bodies lower ``s`` and raise ``c`` over time (Buylova, Nasiritousi
et al. 2025); a mayor's backing raises effective ``c``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def effective_coordination(m: GovernanceModel) -> np.ndarray:
    """Coordination strength including the mayor's backing (council commitment above 0.5)."""
    c = m.cities
    backing = m.params.mayor_backing_coordination * np.maximum(c.commitment - 0.5, 0.0)
    return np.clip(c.coordination + backing, 0.0, 1.0)


def proceed_probability(
    silo: np.ndarray, coord: np.ndarray, n_departments: np.ndarray, conflict: float
) -> np.ndarray:
    """Probability that a measure needing ``n_departments`` gets joint approval."""
    extra = np.maximum(n_departments - 1, 0)
    return (1.0 - silo * (1.0 - coord)) ** extra * (1.0 - silo * conflict) ** extra


def coordination_pm(silo: np.ndarray, n_departments: np.ndarray, h_pm: float) -> np.ndarray:
    """Coordination staff time for a measure (zero for a single department)."""
    return h_pm * silo * np.where(n_departments > 1, n_departments, 0)


def implementation_years(
    silo: np.ndarray,
    n_departments: np.ndarray,
    completed: np.ndarray,
    divisor: float,
    base_years: float,
    slowdown: float,
) -> np.ndarray:
    """Delivery time: longer across silos, shorter with experience (1 + n_prior/divisor)."""
    return (
        base_years
        * (1.0 + slowdown * silo * np.maximum(n_departments - 1, 0))
        / (1.0 + completed / divisor)
    )


def start_delivery(m: GovernanceModel, won: np.ndarray) -> None:
    """Set the delivery time of projects that have just been funded (``won``: their indices)."""
    c = m.cities
    p = m.params
    pr = m.projects
    city = pr.city[won]
    pr.remaining_years[won] = implementation_years(
        c.silo[city],
        pr.n_departments[won],
        c.completed_projects[city],
        p.learning_projects_divisor,
        p.base_implementation_years,
        p.silo_delivery_slowdown,
    )


def integrate_departments(m: GovernanceModel) -> None:
    """CCC signatories lower silos; cross-sectoral bodies and mandated dialogue raise c."""
    c = m.cities
    p = m.params
    lv = m.levers
    dt = m.dt
    ccc_boost = 1.0 + p.lever_ccc_silo_reduction_boost * lv.climate_city_contracts
    c.silo -= p.silo_reduction_ccc_per_year * dt * c.ccc_signed * ccc_boost
    body = c.structure == 0
    c.coordination += (
        (
            p.coordination_gain_body_per_year * body
            + p.lever_dialogue_coordination_gain_per_year * lv.dialogue_platforms
        )
        * dt
        * (1.0 - c.coordination)
    )
    np.clip(c.silo, 0.0, 1.0, out=c.silo)
    np.clip(c.coordination, 0.0, 1.0, out=c.coordination)
