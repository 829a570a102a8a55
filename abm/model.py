"""GovernanceModel: EU, nations, cities, industry and citizens; ``step()`` is the schedule.

The schedule (docs/ODD.md, "Process overview and scheduling") runs once per time step
(yearly or quarterly). Contractual work comes before new work, so the order of the staff-using
stages is also the priority order in which a city's staff time is spent.
"""

from __future__ import annotations

import mesa
import numpy as np

from abm.agents.eu import EUPlatform
from abm.agents.national import NationalGovernments
from abm.agents.state import Projects
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
    energy,
    finance,
    funding,
    industry,
    politics,
    procurement,
    projects,
    public_cost,
    silos,
    smes,
    staff,
)
from abm.rules.staff import STAFF_USES

# cumulative accounts (EUR) of the cities' grant pipeline, whoever funded the grant (EU calls or
# national programmes); the funders' own ledgers are on the EU and national agents
ACCOUNTS: tuple[str, ...] = (
    "awarded_eur",
    "paid_eur",
    "decommitted_eur",
)

# the project arrays are compacted at a year end once they are long and a quarter of their rows
# are finished projects: copying every column each year cost more than scanning the dead rows
# (compaction keeps the projects' order, so results do not depend on when it runs)
COMPACT_MIN_ROWS = 4096
COMPACT_FINISHED_SHARE = 0.25


class GovernanceModel(mesa.Model):
    """Multilevel climate governance in Europe, from a scenario config and one seed.

    ``record=False`` skips the yearly output buffers (:class:`abm.outputs.Recorder`) for callers
    that read the model's state directly, as a calibration simulation reads its surveys; the
    state and every random stream evolve exactly as with recording, which only reads them.
    """

    def __init__(self, config: ScenarioConfig, seed: int, *, record: bool = True) -> None:
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
        self.staff_time = staff.StaffTime.zeros(n, config.steps_per_year)  # held, demanded
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
        self.lever_accounts = public_cost.LeverAccounts.zeros(n)  # what the levers cost
        # the deciding few as Mesa agents; the many (cities, plants, SMEs, citizens) are arrays
        self.eu = EUPlatform(self)
        self.national = NationalGovernments(self)
        self.recorder: Recorder | None = Recorder(self) if record else None
        citizens.aggregate(self)
        # initial openness lies between the drawn value and citizens' support
        w = self.params.commitment_initial_support_weight
        self.cities.commitment = (1.0 - w) * self.cities.commitment + w * self.support
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
        finance.raise_private_finance(self)  # bankable projects: ESCOs, utilities, lenders
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
        public_cost.account_public_cost(self)  # what the levers in force cost the public
        energy.decarbonise_grid(self)  # national power sectors respond to the carbon price
        emissions.account(self)  # exogenous drift of the non-electric part of city sectors
        self.end_step()  # record, advance time

    def begin_step(self) -> None:
        """Set levers in force, open calls at the start of a year and give out staff time."""
        self.levers = LeverState.at(self.config.levers, self.year)
        if self.is_year_start:
            self.year_flows = funding.YearFlows.zeros(self.cities.n)
            self.eu.open_calls()
            self.national.refill_programmes()
            if self.step_index > 0:
                self.cities.climate_budget_eur *= 1.0 + self.params.climate_budget_growth_per_year
            self.budget_left_eur = self.cities.climate_budget_eur - self.city_debt_eur
            self.city_debt_eur = np.maximum(-self.budget_left_eur, 0.0)
            self.budget_left_eur = np.maximum(self.budget_left_eur, 0.0)
        capacity.give_staff_time(self)
        staff.serve_carried_work(self)

    def end_step(self) -> None:
        """Record the year if it ends here; advance the clock."""
        self.step_index += 1
        if self.step_index % self.config.steps_per_year == 0:
            # what the year's staff could not do: carried work and the preparation backlog
            self.year_flows.unmet_pm += self.carry_pm.sum(axis=1) + projects.preparation_backlog(
                self
            )
            self.carry_pm[:] = 0.0
            if self.recorder is not None:
                self.recorder.record_year(round(self.year + self.dt - 1.0))
            pr = self.projects
            if pr.size > COMPACT_MIN_ROWS and pr.finished_share() >= COMPACT_FINISHED_SHARE:
                pr.compact()
        self.year = self.config.start_year + self.step_index * self.dt

    @property
    def is_year_start(self) -> bool:
        """True on the first step of a calendar year."""
        return self.step_index % self.config.steps_per_year == 0

    def run(self) -> SimulationResult:
        """Run from start to end year and return the tidy tables."""
        if self.recorder is None:
            raise RuntimeError("GovernanceModel(record=False) keeps no tables to return")
        n_steps = self.config.n_years * self.config.steps_per_year
        for _ in range(n_steps):
            self.step()
        return self.recorder.result()


def simulate(config: ScenarioConfig, seed: int) -> SimulationResult:
    """Run one scenario with one seed: the boundary every experiment calls."""
    return GovernanceModel(config, seed).run()
