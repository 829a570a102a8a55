"""Agent state as struct-of-arrays: nations, cities, installations, SMEs and citizens.

The many (citizens, SMEs) and the numerous-but-homogeneous (cities, installations) live in numpy
arrays so a rule updates all of them in one vectorised call; the deciding levels (the EU and the
national governments) are Mesa agents in :mod:`abm.agents.eu` and :mod:`abm.agents.national`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
F32Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.object_]

SECTORS_CITY: tuple[str, ...] = ("buildings", "transport", "energy", "waste")
STRUCTURES: tuple[str, ...] = (
    "cross-sectoral body",
    "lead department",
    "environment office",
    "fragmented",
)
SIZE_CLASSES: tuple[str, ...] = (
    "Large metropolitan areas",
    "Metropolitan areas",
    "Medium-size urban areas",
    "Small urban areas",
    "Towns",
)
TARGET_STATUSES: tuple[str, ...] = ("no target", "planned target", "existing target")
ENGAGEMENT_MODES: tuple[str, ...] = ("inform", "consult", "empower")
REGIONS: tuple[str, ...] = ("Northern", "Western", "Southern", "Central-Eastern")


@dataclass(slots=True)
class Nations:
    """National governments, one per country present (index = country index)."""

    code: StrArray
    name: StrArray
    region: IntArray
    eu_member: BoolArray
    gdp_index: FloatArray  # EU27 = 100, PPS
    gov_effectiveness: FloatArray  # WGI estimate
    fiscal_room: FloatArray  # [0, 1]
    omega_econ: FloatArray  # weight on jobs/GDP vs climate, [0, 1]
    enables_instruments: BoolArray  # national rules allow city loans/bonds/local taxes
    coordination: FloatArray  # coordination with cities, [0, 1]
    protects_assets: BoolArray  # has national-asset plants it shields
    programme_eur_per_year: FloatArray  # national climate programme for cities
    programme_budget_eur: FloatArray  # this year's remaining envelope
    aid_paid_eur: FloatArray  # cumulative state aid to plants
    grid_intensity_start: FloatArray  # gCO2e/kWh of power generation at the start (data)
    grid_intensity: FloatArray  # gCO2e/kWh now (abm.rules.energy)
    # recorded non-household prices, EUR/MWh, one column per industry_tech.ENERGY_PRICE_YEARS
    electricity_price_recorded: FloatArray
    gas_price_recorded: FloatArray

    @property
    def n(self) -> int:
        """Number of nations."""
        return int(self.code.shape[0])


@dataclass(slots=True)
class Cities:
    """Mission and non-mission cities; one row per city."""

    name: StrArray
    country: IntArray
    mission: BoolArray
    eoi_applicant: BoolArray
    population: FloatArray
    population_imputed: BoolArray
    size_class: IntArray
    target_status: IntArray
    target_year: IntArray
    climate_budget_eur: FloatArray  # per year, for climate capex and O&M
    has_climate_budget: BoolArray
    staff_fte: FloatArray
    skill: FloatArray  # project delivery skill [0, 1]
    finance_skill: FloatArray  # climate-finance skill [0, 1]
    procurement_skill: FloatArray  # green-procurement skill [0, 1]
    structure: IntArray  # index into STRUCTURES
    silo: FloatArray  # s in [0, 1]
    coordination: FloatArray  # c in [0, 1]
    commitment: FloatArray  # council green openness [0, 1]
    awareness: FloatArray  # awareness of funding [0, 1]
    emissions_base_t: FloatArray  # (n, 4) sector emissions at start, t/yr
    abated_t: FloatArray  # (n, 4) abatement by operating projects, t/yr
    gpp_share: FloatArray  # share of tenders with green criteria
    engagement_mode: IntArray  # index into ENGAGEMENT_MODES
    industry_dialogue: FloatArray  # dialogue with local industry [0, 1]
    alignment: FloatArray  # a: alignment with national priorities [0, 1]
    alignment_base: FloatArray  # structural alignment the city drifts back to
    ccc_signed: BoolArray
    industry_in_ccc: BoolArray
    label: BoolArray
    peers: IntArray  # (n, k) indices of peer cities
    completed_projects: FloatArray  # count, drives learning
    # funding pipeline (EUR): committed by award cohort age in years, then later stages
    committed_eur: FloatArray  # (n, n_ages)
    committed_delay_months: FloatArray  # money-weighted time to disbursement of that stock
    implemented_eur: FloatArray
    certified_eur: FloatArray
    background_factor: FloatArray  # exogenous decline of sector emissions (multiplier)
    job_threat_scale: FloatArray  # how strongly plant job risk moves local opinion (case cities)
    utility_owned: BoolArray  # the city holds a municipal utility / district-heating company
    gpp_share_start: FloatArray  # green-tender share in the start year (in base emissions)
    # CCC preparation of Mission Cities without a Label date in use (abm.rules.ccc, issue 12)
    ccc_prep_pm: FloatArray  # person-months of CCC preparation done
    ccc_prep_years: FloatArray  # the city's fastest CCC preparation, years (nan until drawn)
    ccc_submit_year: FloatArray  # submission window of the finished CCC, or inf
    label_due_year: FloatArray  # end of the Commission's assessment (Label), or inf

    @property
    def n(self) -> int:
        """Number of cities."""
        return int(self.name.shape[0])


@dataclass(slots=True)
class Installations:
    """Large industrial installations (named sites plus generated ones)."""

    name: StrArray
    operator: StrArray
    city: IntArray
    country: IntArray
    sector: IntArray  # index into abm.rules.industry.SECTORS
    tech: IntArray  # index into abm.rules.industry_tech.TECHNOLOGIES
    start_tech: IntArray  # route at the start (observed headcounts refer to it)
    capacity_mt: FloatArray  # Mt product per year
    utilisation: FloatArray  # share of capacity produced
    jobs_per_mt: FloatArray  # direct jobs per Mt at the conventional route
    national_asset: BoolArray
    kappa: FloatArray  # city authority over the plant [0, 1]
    kappa_base: FloatArray  # authority before dialogue gives the city a voice
    entry_year: FloatArray  # first year of operation (-inf for plants there at the start)
    margin_shock_eur_per_t: FloatArray  # margin lost from margin_shock_year on (case cities)
    margin_shock_year: FloatArray
    next_decision_year: FloatArray
    pending_tech: IntArray  # -1 if none
    pending_online_year: FloatArray
    equity_eur: FloatArray
    cum_loss_eur: FloatArray
    open: BoolArray
    aid_eur: FloatArray  # cumulative public aid received
    named: BoolArray
    ref_production_mt: FloatArray  # output in the start year (reference of the cut split)
    inventory_scale: FloatArray  # emissions as the city inventory counts them / ETS route's
    ref_margin_eu_eur_per_t: FloatArray  # EU-market margin in the reference year
    ref_margin_export_eur_per_t: FloatArray  # export margin in the reference year
    running_share: FloatArray  # share of capacity the margins kept running last year (1 = all)

    @property
    def n(self) -> int:
        """Number of installations."""
        return int(self.name.shape[0])


@dataclass(slots=True)
class SMEs:
    """Small and medium enterprises, vectorised, with cash flow and grant state."""

    city: IntArray
    revenue_eur: FloatArray  # per year
    cash_eur: FloatArray
    debt_eur: FloatArray
    innovation: FloatArray  # [0, 1]
    know_how: FloatArray  # funding know-how [0, 1]
    emissions_t: FloatArray  # t/yr
    status: IntArray  # 0 idle, 1 waiting for payment, 2 green, 3 defaulted
    wait_months: FloatArray
    grant_due_eur: FloatArray
    capex_eur: FloatArray
    grants_paid_eur: FloatArray  # cumulative

    @property
    def n(self) -> int:
        """Number of SMEs."""
        return int(self.city.shape[0])


SME_IDLE, SME_WAITING, SME_GREEN, SME_DEFAULTED = 0, 1, 2, 3


@dataclass(slots=True)
class Citizens:
    """Citizens as arrays, sorted by city; one simulated citizen stands for ``weight`` residents."""

    city: IntArray
    support: F32Array  # support for climate policy x in [0, 1]
    epsilon: F32Array  # bounded-confidence threshold
    trust: F32Array  # trust in local government [0, 1]
    participation: F32Array  # participation propensity (logit offset)
    plant: IntArray  # employer installation index, -1 if none
    adoption: F32Array  # adoption of low-carbon options [0, 1]
    city_start: IntArray  # per city: first citizen index
    city_count: IntArray  # per city: number of simulated citizens
    weight: FloatArray  # per city: residents per simulated citizen
    block_first: npt.NDArray[np.int32]  # per citizen: first index of its city's block
    block_size: F32Array  # per citizen: size of its city's block
    employed: IntArray  # indices of citizens employed at an installation

    @property
    def n(self) -> int:
        """Number of simulated citizens."""
        return int(self.city.shape[0])


# project stages
P_IDEA, P_PREPARED, P_IMPLEMENTING, P_OPERATING, P_DROPPED, P_ABANDONED = 0, 1, 2, 3, 4, 5
PROJECT_STAGES: tuple[str, ...] = (
    "idea",
    "prepared",
    "implementing",
    "operating",
    "dropped",
    "abandoned",
)
# funding sources of a project
SRC_NONE, SRC_MISSION, SRC_COHESION, SRC_NATIONAL, SRC_OWN, SRC_PRIVATE = 0, 1, 2, 3, 4, 5
FUNDING_SOURCES: tuple[str, ...] = (
    "none",
    "mission call",
    "cohesion",
    "national",
    "own budget",
    "private",
)


class Projects:
    """City climate projects as growable arrays (idea -> prepared -> implementing -> operating)."""

    FIELDS: tuple[tuple[str, type], ...] = (
        ("city", np.int64),
        ("sector", np.int64),
        ("n_departments", np.int64),
        ("cost_eur", np.float64),
        ("abatement_t", np.float64),
        ("stage", np.int64),
        ("source", np.int64),
        ("grant_eur", np.float64),
        ("age_years", np.float64),
        ("remaining_years", np.float64),
        ("work_pm", np.float64),
        ("revenue_ratio", np.float64),
        ("private_eur", np.float64),
    )

    def __init__(self, capacity: int = 4096) -> None:
        self.size = 0
        for name, dtype in self.FIELDS:
            setattr(self, name, np.zeros(capacity, dtype=dtype))

    # typed attribute declarations for mypy
    city: IntArray
    sector: IntArray
    n_departments: IntArray
    cost_eur: FloatArray
    abatement_t: FloatArray
    stage: IntArray
    source: IntArray
    grant_eur: FloatArray
    age_years: FloatArray
    remaining_years: FloatArray
    work_pm: FloatArray  # preparation work left (person-months), for ideas
    revenue_ratio: FloatArray  # present value of the project's revenues or savings / its cost
    private_eur: FloatArray  # private or leveraged capital lined up for the project

    def add(self, **columns: np.ndarray) -> None:
        """Append projects given column arrays of equal length."""
        k = int(next(iter(columns.values())).shape[0])
        if k == 0:
            return
        need = self.size + k
        cap = self.city.shape[0]
        if need > cap:
            new_cap = max(need, 2 * cap)
            for name, dtype in self.FIELDS:
                old = getattr(self, name)
                grown = np.zeros(new_cap, dtype=dtype)
                grown[: self.size] = old[: self.size]
                setattr(self, name, grown)
        for name, _ in self.FIELDS:
            getattr(self, name)[self.size : need] = columns.get(name, 0)
        self.size = need

    def finished_share(self) -> float:
        """Share of the rows held by finished (dropped/abandoned) projects."""
        if self.size == 0:
            return 0.0
        return float(np.count_nonzero(self.stage[: self.size] >= P_DROPPED)) / self.size

    def compact(self) -> None:
        """Drop finished (dropped/abandoned) projects to keep the active arrays short."""
        keep = np.flatnonzero(self.stage[: self.size] < P_DROPPED)
        for name, _ in self.FIELDS:
            arr = getattr(self, name)
            arr[: keep.size] = arr[keep]
        self.size = int(keep.size)
