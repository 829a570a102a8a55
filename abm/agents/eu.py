"""The EU (Commission) and its Mission Platform: funding instruments, ETS path, services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.rules import industry_tech as it
from abm.rules.industry import free_allocation_share

if TYPE_CHECKING:
    from abm.model import GovernanceModel


@dataclass(slots=True)
class Instrument:
    """A funding instrument: yearly budget, time to disbursement, this year's rest, awards."""

    name: str
    budget_eur_per_year: float
    delay_months: float  # award to first disbursement (read for city calls)
    remaining_eur: float = 0.0
    awarded_eur: float = 0.0  # cumulative


# instruments whose awards count in the EU total ``awarded_eur`` (calls to cities, the industry
# fund and the Competitiveness Fund); SME grants are a separate scheme, reported by their own
# instrument's ledger
CALL_INSTRUMENTS: tuple[str, ...] = ("mission", "cohesion", "industry", "competitiveness")


class EUPlatform(mesa.Agent):
    """The Commission and the Mission Platform: calls, carbon price, free allocation, services.

    Budgets are set per modelled resident (registry) so that the model's share of EU money
    scales with the population it represents. Other levels change the EU's budgets only through
    :meth:`award` and :meth:`pay_sme`, which also keep the EU's ledger, so every EU money flow
    is booked once, here.
    """

    def __init__(self, model: GovernanceModel) -> None:
        super().__init__(model)
        p = model.params
        residents = model.modelled_residents
        self.instruments: dict[str, Instrument] = {
            "mission": Instrument(
                "mission call",
                p.mission_call_budget_eur_per_capita_per_year * residents,
                p.mission_call_delay_months,
            ),
            "cohesion": Instrument(
                "cohesion funds",
                p.cohesion_budget_eur_per_capita_per_year * residents,
                p.cohesion_delay_months,
            ),
            "industry": Instrument(
                "industry fund",
                p.industry_fund_budget_eur_per_capita_per_year * residents,
                0.0,  # paid as the plant's switch is decided
            ),
            "competitiveness": Instrument(
                "Competitiveness Fund",
                p.competitiveness_fund_budget_eur_per_capita_per_year * residents,
                0.0,  # paid as the plant's switch is decided, like the industry fund
            ),
            "sme": Instrument(
                "SME grants",
                p.sme_grant_budget_eur_per_capita_per_year * residents,
                p.sme_disbursement_delay_months,
            ),
        }
        self.carbon_price_eur_per_t = self.expected_carbon_price(model.year)
        self._log_price_shock = 0.0
        self.free_allocation_share = 1.0
        # the EU's ledger (EUR, cumulative): offered by the calls, awarded by CALL_INSTRUMENTS,
        # SME grants paid (in advance and after the disbursement delay)
        self.offered_eur = 0.0
        self.awarded_eur = 0.0
        self.sme_paid_eur = 0.0

    def open_calls(self) -> None:
        """Set this year's call budgets (levers included) and note what is offered."""
        m = self.model
        lv = m.levers
        boost = 1.0 + m.params.lever_financing_budget_boost * lv.enhanced_financing
        fund = 1.0 + m.params.lever_financing_industry_fund_boost * lv.enhanced_financing
        for key, inst in self.instruments.items():
            scale = boost if key in ("mission", "cohesion", "sme") else fund
            if key == "competitiveness":  # not a lever dose; opens with the 2028 MFF
                scale = float(m.year >= m.params.competitiveness_fund_first_year)
            inst.remaining_eur = inst.budget_eur_per_year * scale
            self.offered_eur += inst.remaining_eur

    def remaining_eur(self, key: str) -> float:
        """What is left of instrument ``key`` this year."""
        return self.instruments[key].remaining_eur

    def award(self, key: str, eur: float) -> None:
        """Award ``eur`` from instrument ``key``: its budget shrinks, the ledger grows."""
        inst = self.instruments[key]
        inst.remaining_eur -= eur
        inst.awarded_eur += eur
        if key in CALL_INSTRUMENTS:
            self.awarded_eur += eur

    def pay_sme(self, eur: float) -> None:
        """Book SME grant money paid out (advance or the rest after the delay)."""
        self.sme_paid_eur += eur

    @staticmethod
    def recorded_price(year: float) -> float | None:
        """The recorded annual EUA price of a past ``year`` (before the path starts), else None."""
        y = float(np.floor(year))
        years = it.EUA_HISTORY_YEARS
        if years[0] <= y <= years[-1]:
            return float(np.interp(y, years, it.EUA_HISTORY))
        return None

    def expected_carbon_price(self, year: float) -> float:
        """The announced carbon-price path (exponential interpolation), with the 2040 floor.

        Years before the path starts (a hindcast from 2013) take the recorded annual price.
        """
        recorded = self.recorded_price(year)
        if recorded is not None:
            return recorded
        p = self.model.params
        frac = np.clip((year - 2025.0) / 25.0, 0.0, 1.0)
        base = (
            p.carbon_price_2025_eur_per_t
            * (p.carbon_price_2050_eur_per_t / p.carbon_price_2025_eur_per_t) ** frac
        )
        lv = self.model.levers.predictable_pathway_2040
        if lv > 0.0:
            f40 = np.clip((year - 2025.0) / 15.0, 0.0, 1.0)
            floor = (
                p.carbon_price_2025_eur_per_t
                * (p.lever_pathway_price_2040_eur_per_t / p.carbon_price_2025_eur_per_t) ** f40
            )
            base = max(base, lv * floor + (1.0 - lv) * base)
        return float(base)

    def set_carbon_price(self, rng: np.random.Generator) -> None:
        """Move the EUA price: announced path times an AR(1) shock (smaller when predictable)."""
        m = self.model
        p = m.params
        vol = p.carbon_price_volatility * (
            1.0 - p.lever_pathway_uncertainty_cut * m.levers.predictable_pathway_2040
        )
        z = float(rng.standard_normal())
        # AR(1) with the same persistence per year whatever the step length; a recorded past
        # year is the realisation itself (no shock), so the shock starts from 0 after history
        self._log_price_shock = (
            p.carbon_price_persistence_per_year**m.dt * self._log_price_shock
            + (vol * np.sqrt(m.dt) * z)
        ) * (self.recorded_price(m.year) is None)
        self.carbon_price_eur_per_t = self.expected_carbon_price(m.year) * float(
            np.exp(self._log_price_shock)
        )
        self.free_allocation_share = float(
            free_allocation_share(m.year, p.non_cbam_free_decline_per_year)[0]
        )
