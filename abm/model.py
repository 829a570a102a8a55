"""GovernanceModel: EU, nations, cities, industry and citizens; ``step()`` is the schedule.

The schedule (docs/ODD.md, "Process overview and scheduling") runs once per time step
(yearly or quarterly). Contractual work comes before new work, so the order of the staff-using
stages is also the priority order in which a city's staff time is spent.
"""

from __future__ import annotations

import mesa
import numpy as np

from abm.agents.eu import EUPlatform
from abm.agents.state import SECTORS_CITY, Projects
from abm.agents.views import City, Installation, NationalGovernment
from abm.config import ScenarioConfig
from abm.outputs import Recorder, SimulationResult
from abm.policies import LeverState
from abm.population import apply_case, build_population
from abm.rng import Streams
from abm.rules import (
    alignment,
    capacity,
    citizens,
    emissions,
    funding,
    industry,
    politics,
    procurement,
    projects,
    silos,
    smes,
)

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

# cumulative money accounts (EUR) used by the conservation invariant and the EU table
ACCOUNTS: tuple[str, ...] = (
    "awarded_eur",
    "paid_eur",
    "decommitted_eur",
    "national_awarded_eur",
    "industry_fund_paid_eur",
    "sme_awarded_eur",
    "sme_paid_eur",
    "national_cofinance_eur",
)


class GovernanceModel(mesa.Model):
    """Multilevel climate governance in Europe, from a scenario config and one seed."""

    def __init__(self, config: ScenarioConfig, seed: int) -> None:
        self.streams = Streams(seed)
        super().__init__(rng=self.streams["mesa"])
        self.config = config
        self.seed = int(seed)
        self.params = config.parameters
        self.dt = 1.0 / config.steps_per_year
        self.step_index = 0
        self.year = float(config.start_year)
        self.levers = LeverState.at(config.levers, self.year)
        pop = build_population(
            config.population, self.params, config.start_year, self.streams["population"]
        )
        self.focus_city = -1  # index of a case city in focus (domain §5), -1 if none
        if config.case is not None:
            self.focus_city = apply_case(
                pop,
                config.case,
                config.population,
                self.params,
                config.start_year,
                self.streams["case"],
            )
        self.nations = pop.nations
        self.cities = pop.cities
        self.installations = pop.installations
        self.smes = pop.smes
        self.citizens = pop.citizens
        self.label_year = pop.label_year
        self.projects = Projects()
        self.modelled_residents = float(self.cities.population.sum())
        n = self.cities.n
        # per-step working state
        self.free_pm = np.zeros(n)
        self.staff_use_pm = np.zeros((n, len(STAFF_USES)))
        self.carry_pm = np.zeros((n, len(STAFF_USES)))
        self.budget_left_eur = np.zeros(n)
        self.support = np.zeros(n)
        self.participation_rate = np.zeros(n)
        self.polarisation = np.zeros(n)
        self.job_risk = np.zeros(self.installations.n)
        self.trust_drift = np.zeros(self.citizens.n, dtype=np.float32)
        self.adoption_city = citizens.mean_adoption(self)
        self.green_demand_share = 0.0
        self.city_debt_eur = np.zeros(n)
        self.year_flows = funding.YearFlows.zeros(n)
        self.completed_step = np.zeros(n)
        self.accounts: dict[str, float] = dict.fromkeys(ACCOUNTS, 0.0)
        # the few as Mesa agents
        self.eu = EUPlatform(self)
        self.national_agents = [NationalGovernment(self, i) for i in range(self.nations.n)]
        self.city_agents = [City(self, i) for i in range(n)]
        self.installation_agents = [Installation(self, i) for i in range(self.installations.n)]
        self.recorder = Recorder(self)
        citizens.aggregate(self)
        self.cities.commitment = 0.5 * self.cities.commitment + 0.5 * self.support
        projects.seed_pipeline(self)
        # plants see the green demand of the initial procurement shares from the first year
        self.green_demand_share = float(
            np.average(self.cities.gpp_share, weights=self.cities.population)
        )

    # ----------------------------------------------------------------------------------------
    def step(self) -> None:
        """One time step; each line is a stage of the documented schedule."""
        self.begin_step()  # levers in force, budgets, staff time
        self.eu.set_carbon_price(self.streams["carbon_price"])  # ETS path and free allocation
        funding.absorb_funds(self)  # pipeline: implemented -> certified -> paid; N+3
        projects.implement_projects(self)  # siloed delivery, completion, learning credit
        projects.operate_projects(self)  # O&M from the city budget, abandonment
        funding.apply_and_award(self)  # yearly calls: apply, rank, award; own capital budget
        projects.generate_ideas(self)  # new project ideas from emissions gaps
        projects.prepare_projects(self)  # staff-limited preparation, coordination, vetoes
        alignment.hold_dialogues(self)  # dialogue rounds, CCC adoption, alignment drift
        smes.sme_finance(self)  # SME grants, cash flow, debt, defaults
        industry.decide_investments(self)  # plants at reinvestment points; aid; production
        procurement.adopt_green_procurement(self)  # GPP share and green demand
        citizens.engage_citizens(self)  # participation, trust
        citizens.update_opinions(self)  # bounded confidence plus drivers
        politics.update_commitment(self)  # council openness, elections, reversals, targets
        capacity.learn_and_hire(self)  # skills, twinning, turnover, hiring
        silos.integrate_departments(self)  # CCCs and bodies lower silos
        emissions.account(self)  # background drift of city sectors
        self.end_step()  # record, advance time

    def begin_step(self) -> None:
        """Set levers in force, open calls at the start of a year and give out staff time."""
        self.levers = LeverState.at(self.config.levers, self.year)
        if self.is_year_start:
            self.year_flows = funding.YearFlows.zeros(self.cities.n)
            self.eu.open_calls()
            # national-local dialogues on targets and budgets free national money for cities
            self.nations.programme_budget_eur = self.nations.programme_eur_per_year * (
                1.0 + alignment.NATIONAL_BUDGET_COORDINATION_GAIN * self.nations.coordination
            )
            if self.step_index > 0:
                self.cities.climate_budget_eur *= 1.0 + self.params.climate_budget_growth_per_year
            self.budget_left_eur = self.cities.climate_budget_eur - self.city_debt_eur
            self.city_debt_eur = np.maximum(-self.budget_left_eur, 0.0)
            self.budget_left_eur = np.maximum(self.budget_left_eur, 0.0)
        capacity.give_staff_time(self)
        self.serve_carried_work()

    def end_step(self) -> None:
        """Record the year if it ends here; advance the clock."""
        self.step_index += 1
        if self.step_index % self.config.steps_per_year == 0:
            # what the year's staff could not do: carried work and the preparation backlog
            self.year_flows.unmet_pm += self.carry_pm.sum(axis=1) + projects.preparation_backlog(
                self
            )
            self.carry_pm[:] = 0.0
            self.recorder.record_year(round(self.year + self.dt - 1.0))
            if self.projects.size > 4096:
                self.projects.compact()
        self.year = self.config.start_year + self.step_index * self.dt

    @property
    def is_year_start(self) -> bool:
        """True on the first step of a calendar year."""
        return self.step_index % self.config.steps_per_year == 0

    # ----------------------------------------------------------------------------------------
    def use_staff(
        self, use: str, demand_pm: np.ndarray, spread_over_year: bool = False
    ) -> np.ndarray:
        """Spend staff time on ``use`` up to what is free; return the share of demand met.

        With ``spread_over_year`` the part not covered now is carried into the year's later
        steps (work such as bid writing that is committed once a year but done over it).
        """
        k = STAFF_USES.index(use)
        spent = np.clip(demand_pm, 0.0, np.maximum(self.free_pm, 0.0))
        self.free_pm -= spent
        self.staff_use_pm[:, k] += spent
        unmet = demand_pm - spent
        if spread_over_year:
            self.carry_pm[:, k] += unmet
        else:
            self.year_flows.unmet_pm += unmet
        with np.errstate(divide="ignore", invalid="ignore"):
            met = np.where(demand_pm > 0, spent / demand_pm, 1.0)
        return np.asarray(met)

    def charge_staff(self, use: str, spent_pm: np.ndarray) -> None:
        """Record staff time a rule has allocated itself (within what is free)."""
        k = STAFF_USES.index(use)
        self.free_pm = np.maximum(self.free_pm - spent_pm, 0.0)  # no rounding below zero
        self.staff_use_pm[:, k] += spent_pm

    def serve_carried_work(self) -> None:
        """Work carried from earlier steps of the year is served before anything else."""
        for k in range(len(STAFF_USES)):
            spent = np.minimum(self.free_pm, self.carry_pm[:, k])
            self.free_pm -= spent
            self.staff_use_pm[:, k] += spent
            self.carry_pm[:, k] -= spent

    def city_sector_emissions(self) -> np.ndarray:
        """Current city emissions by sector (n, 4), t/yr, after projects and adoption."""
        c = self.cities
        base = c.emissions_base_t * c.background_factor[:, None]
        adoption = self.adoption_city
        # citizens' low-carbon choices cut buildings and transport emissions by up to 30%
        household = np.ones((c.n, len(SECTORS_CITY)))
        household[:, 0] -= 0.3 * adoption
        household[:, 1] -= 0.3 * adoption
        return np.maximum(base * household - c.abated_t, 0.0)

    def city_industry_emissions(self) -> np.ndarray:
        """Industrial emissions on each city's territory (plants plus SMEs), t/yr."""
        inst = industry.installation_emissions(self)
        plants = np.bincount(self.installations.city, weights=inst, minlength=self.cities.n)
        return plants + smes.sme_emissions_by_city(self)

    def run(self) -> SimulationResult:
        """Run from start to end year and return the tidy tables."""
        n_steps = self.config.n_years * self.config.steps_per_year
        for _ in range(n_steps):
            self.step()
        return self.recorder.result()


def simulate(config: ScenarioConfig, seed: int) -> SimulationResult:
    """Run one scenario with one seed: the boundary every experiment calls."""
    return GovernanceModel(config, seed).run()
