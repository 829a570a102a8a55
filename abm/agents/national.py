"""The national governments: city programmes, co-finance help, coordination and plant aid.

One Mesa agent stands for all national governments and acts on the nations' arrays
(``model.nations``, one row per country), because every national decision in the model is taken
by all countries at once in one vectorised call. Other levels reach the national budgets only
through these methods, and each national money flow is booked here once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.rules import industry_tech as it
from abm.rules._math import cumsum_within

if TYPE_CHECKING:
    from abm.model import GovernanceModel


class NationalGovernments(mesa.Agent):
    """All national governments: programme budgets, awards, co-finance, coordination, aid."""

    def __init__(self, model: GovernanceModel) -> None:
        super().__init__(model)
        self.nations = model.nations
        # cumulative ledger (EUR): programme grants awarded to cities, and the national share of
        # city co-finance (booked, not charged to the programme budget; docs/ODD.md 7.2)
        self.awarded_eur = 0.0
        self.cofinance_eur = 0.0

    def refill_programmes(self) -> None:
        """Open this year's national programmes; national-local dialogue frees extra money."""
        nat = self.nations
        gain = self.model.params.national_budget_coordination_gain
        nat.programme_budget_eur = nat.programme_eur_per_year * (1.0 + gain * nat.coordination)

    def fund_programmes(self, country: np.ndarray, request_eur: np.ndarray) -> np.ndarray:
        """Fund ranked requests down each country's list while its programme lasts; who won."""
        nat = self.nations
        win = cumsum_within(country, request_eur) <= nat.programme_budget_eur[country]
        paid = np.bincount(country[win], weights=request_eur[win], minlength=nat.n)
        nat.programme_budget_eur -= paid
        self.awarded_eur += float(paid.sum())
        return np.asarray(win)

    def book_cofinance(self, eur: float) -> None:
        """Book the national share of cities' co-finance on awarded projects."""
        self.cofinance_eur += eur

    def offer_coordination(self, dialogue_intensity: float) -> None:
        """National coordination offered to cities under the dialogue-platforms lever."""
        share = self.model.params.national_coordination_at_full_dialogue
        self.nations.coordination[:] = share * dialogue_intensity

    def rescues(self, country: np.ndarray) -> np.ndarray:
        """Whether the government of each plant's country keeps failing national assets open."""
        nat = self.nations
        threshold = self.model.params.rescue_omega_econ_threshold
        return np.asarray(nat.protects_assets[country] & (nat.omega_econ[country] > threshold))

    def pay_aid(self, country: np.ndarray, eur: np.ndarray) -> None:
        """Pay state aid to plants (rescues and capex aid); booked per country."""
        nat = self.nations
        nat.aid_paid_eur += np.bincount(country, weights=eur, minlength=nat.n)

    def capex_aid_share(self, plant: np.ndarray) -> np.ndarray:
        """Share of a switch's capex the state pays each plant, within the state-aid ceiling.

        National assets get ``state_aid_capex_share`` scaled by national priority and fiscal
        room; the share is capped by the state-aid framework in force this year (TCTF/CISAF
        2023-2030: ``state_aid_framework_ceiling_share``, otherwise the CEEAG ceiling
        ``state_aid_ceeag_ceiling_share``).
        """
        m = self.model
        p = m.params
        inst = m.installations
        nat = self.nations
        country = inst.country[plant]
        share = (
            p.state_aid_capex_share
            * inst.national_asset[plant]
            * nat.omega_econ[country]
            / p.state_aid_reference_omega_econ
            * nat.fiscal_room[country]
        )
        first, last = it.STATE_AID_FRAMEWORK_YEARS
        crisis = first <= m.year <= last
        ceiling = p.state_aid_framework_ceiling_share if crisis else p.state_aid_ceeag_ceiling_share
        return np.asarray(np.minimum(share, ceiling))
