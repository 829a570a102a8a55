"""Outputs: yearly numpy buffers -> tidy tables and headline outcomes.

The recorder writes one row per (year, city) and (year, installation) into preallocated numpy
buffers during the run; tables are built once at the end. Writing a run directory (tables plus
manifest) is the results layer's job: ``experiments.results.write_run``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from abm.agents.state import (
    ENGAGEMENT_MODES,
    P_IDEA,
    P_IMPLEMENTING,
    P_OPERATING,
    P_PREPARED,
    PROJECT_STAGES,
    REGIONS,
    SECTORS_CITY,
    SIZE_CLASSES,
    SME_DEFAULTED,
    SME_GREEN,
    STRUCTURES,
    TARGET_STATUSES,
)
from abm.policies import LEVER_NAMES
from abm.rules import emissions, smes, staff
from abm.rules import industry_tech as it
from abm.rules.staff import STAFF_USES

if TYPE_CHECKING:
    from abm.config import ScenarioConfig
    from abm.model import GovernanceModel

CITY_COLUMNS: tuple[str, ...] = (
    *(f"emissions_{s}_t" for s in SECTORS_CITY),
    "emissions_industry_t",
    "emissions_total_t",
    "funds_applied_eur",
    "funds_awarded_eur",
    "funds_absorbed_eur",
    "funds_decommitted_eur",
    "own_funded_eur",
    "om_paid_eur",
    "grant_pipeline_eur",
    "applications",
    "awards",
    "staff_fte",
    "staff_pm_grant_management",
    "staff_pm_implementation",
    "staff_pm_coordination",
    "staff_pm_applications",
    "staff_pm_preparation",
    "staff_pm_engagement",
    "staff_pm_dialogue",
    "staff_pm_unmet",
    "skill",
    "finance_skill",
    "procurement_skill",
    "awareness",
    "silo_index",
    "coordination",
    "alignment",
    "citizen_support",
    "support_variance",
    "participation_rate",
    "political_commitment",
    "projects_prepared",
    "projects_completed",
    "projects_dropped",
    "projects_abandoned",
    "projects_operating",
    "projects_in_pipeline",
    "gpp_share",
    "industry_dialogue",
    "ccc_signed",
    "label",
    "target_status_code",
    "climate_budget_eur",
    "emissions_sme_t",
    "smes_active",
    "smes_green",
    "sme_debt_eur",
    # issue 10: private and leveraged finance, the energy system, the decomposition of cuts
    "private_funded_eur",
    "grid_intensity_g_per_kwh",
    *(f"cut_{cause}_t" for cause in emissions.CUT_CAUSES),
    # staff workload (issue 10.5): demanded / available, tabulated by size class
    "staff_pm_demanded",
    "staff_pm_available",
)
N_STAGES = len(PROJECT_STAGES)
N_SME_STATUSES = SME_DEFAULTED + 1  # idle, waiting, green, defaulted
SME_JOBS_PER_MODELLED_FIRM = 20.0  # one modelled SME stands for a group of firms [assume]
INSTALLATION_COLUMNS: tuple[str, ...] = (
    "tech_code",
    "pending_tech_code",
    "open",
    "capacity_mt",
    "production_mt",
    "emissions_t",
    "jobs",
    "kappa",
    "aid_eur_cumulative",
    "cut_route_t",
    "cut_output_t",
    "cut_closure_t",
    "cbam_eur_per_t",
)
EU_SCALARS: tuple[str, ...] = (
    "carbon_price_eur_per_t",
    "free_allocation_share",
    "eu_offered_cum_eur",
    "eu_awarded_cum_eur",
    "grants_awarded_cum_eur",
    "grants_paid_cum_eur",
    "grants_decommitted_cum_eur",
    "national_awarded_cum_eur",
    "industry_fund_paid_cum_eur",
    "sme_awarded_cum_eur",
    "sme_paid_cum_eur",
    "sme_defaults",
    "sme_green",
    "green_demand_share",
    *(f"public_cost_{name}_eur" for name in LEVER_NAMES),
)


@dataclass(slots=True)
class SimulationResult:
    """Tidy tables of one run plus the config and seed that produced them."""

    config: ScenarioConfig
    seed: int
    city_year: pd.DataFrame
    installation_year: pd.DataFrame
    eu_year: pd.DataFrame
    extras: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> dict[str, float]:
        """Headline outcomes of the run (the table and their computation: ``abm.outcomes``)."""
        from abm.outcomes import headline_outcomes

        return headline_outcomes(self)


# dtypes of the city table's columns that are not float64 (every other recorded column is)
CITY_BOOL_COLUMNS: frozenset[str] = frozenset({"ccc_signed", "label"})
CITY_INT_COLUMNS: frozenset[str] = frozenset(
    {
        "applications",
        "awards",
        "projects_prepared",
        "projects_completed",
        "projects_dropped",
        "projects_abandoned",
        "projects_operating",
        "projects_in_pipeline",
    }
)


class YearBuffer:
    """One preallocated (years, rows, columns) float64 buffer, written column by column by name.

    ``put(name, values)`` writes one column of the current year; ``close_year()`` checks that
    every column in the table's column tuple was written, so a column added to the tuple but
    not recorded fails loudly instead of leaving zeros.
    """

    def __init__(self, years: int, rows: int, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.index = {name: k for k, name in enumerate(columns)}
        if len(self.index) != len(columns):
            raise ValueError(f"duplicate column names in {columns}")
        # uninitialised: close_year guarantees every column of a recorded year was written, and
        # only recorded years are read (zeroing megabytes per run showed in the build time)
        self.data = np.empty((years, rows, len(columns)))
        self.written = np.zeros(len(columns), dtype=bool)
        self.year = -1
        self._slab = self.data[0]  # the (rows, columns) block of the year being written

    def open_year(self, k: int) -> None:
        """Start writing year slot ``k``."""
        self.year = k
        self._slab = self.data[k]
        self.written[:] = False

    def put(self, name: str, values: np.ndarray | float) -> None:
        """Write column ``name`` of the current year (an array of rows, or a scalar)."""
        j = self.index[name]
        self._slab[:, j] = values
        self.written[j] = True

    def close_year(self) -> None:
        """Fail if a column of the table was not written this year."""
        if not self.written.all():
            missing = [c for c, w in zip(self.columns, self.written, strict=True) if not w]
            raise RuntimeError(f"recorder: column(s) not recorded: {', '.join(missing)}")


class Recorder:
    """Preallocated yearly buffers for cities, installations and EU scalars.

    The step loop only writes numpy buffers (no pandas); the tables are built once at the end
    by :meth:`result`. To add an output column, append its name to the column tuple and one
    ``put`` line here (and a row in ``abm/columns.py``).
    """

    def __init__(self, model: GovernanceModel) -> None:
        self.m = model
        years = model.config.n_years
        self.years: list[int] = []
        self.city_buf = YearBuffer(years, model.cities.n, CITY_COLUMNS)
        self.inst_buf = YearBuffer(years, model.installations.n, INSTALLATION_COLUMNS)
        self.eu_buf = YearBuffer(years, 1, EU_SCALARS)

    @property
    def city(self) -> np.ndarray:
        """(years, cities, CITY_COLUMNS) buffer."""
        return self.city_buf.data

    @property
    def inst(self) -> np.ndarray:
        """(years, installations, INSTALLATION_COLUMNS) buffer."""
        return self.inst_buf.data

    @property
    def eu(self) -> np.ndarray:
        """(years, EU_SCALARS) buffer."""
        return self.eu_buf.data[:, 0, :]

    def record_year(self, year: int) -> None:
        """Copy the state at the end of ``year`` into the buffers."""
        m = self.m
        c = m.cities
        k = len(self.years)
        self.years.append(year)
        from abm.rules.industry import (
            cbam_charge,
            emission_cuts,
            installation_emissions,
            installation_jobs,
        )

        inst = m.installations
        sector = emissions.city_sector_emissions(m)
        # emissions.city_industry_emissions, with the plants' and SMEs' emissions computed once
        # for their own columns too
        plant_t = installation_emissions(m)
        sme_t = smes.sme_emissions_by_city(m)
        industry = np.bincount(inst.city, weights=plant_t, minlength=c.n) + sme_t
        f = m.year_flows
        s = m.smes
        pr = m.projects
        by_stage = np.bincount(
            pr.city[: pr.size] * N_STAGES + pr.stage[: pr.size], minlength=c.n * N_STAGES
        ).reshape(c.n, N_STAGES)
        # SMEs per city and status in one integer pass (exact counts, as the weighted sums were)
        by_status = np.bincount(
            s.city * N_SME_STATUSES + s.status, minlength=c.n * N_SME_STATUSES
        ).reshape(c.n, N_SME_STATUSES)
        defaulted = by_status[:, SME_DEFAULTED]

        put = self.city_buf.put
        self.city_buf.open_year(k)
        for j, name in enumerate(SECTORS_CITY):
            put(f"emissions_{name}_t", sector[:, j])
        put("emissions_industry_t", industry)
        put("emissions_total_t", sector.sum(axis=1) + industry)
        put("funds_applied_eur", f.applied_eur)
        put("funds_awarded_eur", f.awarded_eur)
        put("funds_absorbed_eur", f.absorbed_eur)
        put("funds_decommitted_eur", f.decommitted_eur)
        put("own_funded_eur", f.own_funded_eur)
        put("om_paid_eur", f.om_paid_eur)
        put("grant_pipeline_eur", c.committed_eur.sum(axis=1) + c.implemented_eur + c.certified_eur)
        put("applications", f.applications)
        put("awards", f.awards)
        put("staff_fte", c.staff_fte)
        for j, use in enumerate(STAFF_USES):
            put(f"staff_pm_{use}", m.staff_use_pm[:, j])
        put("staff_pm_unmet", f.unmet_pm)
        put("skill", c.skill)
        put("finance_skill", c.finance_skill)
        put("procurement_skill", c.procurement_skill)
        put("awareness", c.awareness)
        put("silo_index", c.silo)
        put("coordination", c.coordination)
        put("alignment", c.alignment)
        put("citizen_support", m.support)
        put("support_variance", m.polarisation)
        put("participation_rate", m.participation_rate)
        put("political_commitment", c.commitment)
        put("projects_prepared", f.prepared)
        put("projects_completed", f.completed)
        put("projects_dropped", f.dropped)
        put("projects_abandoned", f.abandoned)
        put("projects_operating", by_stage[:, P_OPERATING])
        put("projects_in_pipeline", by_stage[:, [P_IDEA, P_PREPARED, P_IMPLEMENTING]].sum(axis=1))
        put("gpp_share", c.gpp_share)
        put("industry_dialogue", c.industry_dialogue)
        put("ccc_signed", c.ccc_signed)
        put("label", c.label)
        put("target_status_code", c.target_status)
        put("climate_budget_eur", c.climate_budget_eur)
        put("emissions_sme_t", sme_t)
        put("smes_active", by_status.sum(axis=1) - defaulted)
        put("smes_green", by_status[:, SME_GREEN])
        put("sme_debt_eur", np.bincount(s.city, weights=s.debt_eur, minlength=c.n))
        put("private_funded_eur", f.private_eur)
        put("grid_intensity_g_per_kwh", m.nations.grid_intensity[c.country])
        for cause, cut in zip(emissions.CUT_CAUSES, emissions.decomposition(m).T, strict=True):
            put(f"cut_{cause}_t", cut)
        put("staff_pm_demanded", staff.staff_demanded_pm(m))
        put("staff_pm_available", m.staff_time.available_pm)
        self.city_buf.close_year()

        put = self.inst_buf.put
        self.inst_buf.open_year(k)
        put("tech_code", inst.tech)
        put("pending_tech_code", inst.pending_tech)
        put("open", inst.open)
        put("capacity_mt", inst.capacity_mt)
        put("production_mt", inst.capacity_mt * inst.utilisation * inst.open)
        put("emissions_t", plant_t)
        put("jobs", installation_jobs(m))
        put("kappa", inst.kappa)
        put("aid_eur_cumulative", inst.aid_eur)
        causes = ("cut_route_t", "cut_output_t", "cut_closure_t")
        for name, cut in zip(causes, emission_cuts(m), strict=True):
            put(name, cut)
        put("cbam_eur_per_t", cbam_charge(m, inst.sector, m.eu.carbon_price_eur_per_t, float(year)))
        self.inst_buf.close_year()

        a = m.accounts
        put = self.eu_buf.put
        self.eu_buf.open_year(k)
        put("carbon_price_eur_per_t", m.eu.carbon_price_eur_per_t)
        put("free_allocation_share", m.eu.free_allocation_share)
        put("eu_offered_cum_eur", m.eu.offered_eur)
        put("eu_awarded_cum_eur", m.eu.awarded_eur)
        put("grants_awarded_cum_eur", a["awarded_eur"])
        put("grants_paid_cum_eur", a["paid_eur"])
        put("grants_decommitted_cum_eur", a["decommitted_eur"])
        put("national_awarded_cum_eur", m.national.awarded_eur)
        # paid as the switch is decided
        put("industry_fund_paid_cum_eur", m.eu.instruments["industry"].awarded_eur)
        put("sme_awarded_cum_eur", m.eu.instruments["sme"].awarded_eur)
        put("sme_paid_cum_eur", m.eu.sme_paid_eur)
        put("sme_defaults", float(defaulted.sum()))
        put("sme_green", float(by_status[:, SME_GREEN].sum()))
        put("green_demand_share", m.green_demand_share)
        for name, eur in zip(LEVER_NAMES, m.lever_accounts.year_eur, strict=True):
            put(f"public_cost_{name}_eur", eur)
        self.eu_buf.close_year()

    def _installation_table(self, ny: int) -> pd.DataFrame:
        """Installations plus one 'sme_cluster' row per city (its SMEs as one installation)."""
        m = self.m
        c = m.cities
        inst = m.installations
        ni = inst.n
        rows = ni + c.n
        col = self.city_buf.index
        values = np.full((ny, rows, len(INSTALLATION_COLUMNS)), np.nan)
        values[:, :ni] = self.inst[:ny]
        sme = self.inst_buf.index
        active = self.city[:ny, :, col["smes_active"]]
        values[:, ni:, sme["tech_code"]] = it.N_TECH  # "mixed SMEs"
        values[:, ni:, sme["pending_tech_code"]] = -1
        values[:, ni:, sme["open"]] = active > 0
        values[:, ni:, sme["emissions_t"]] = self.city[:ny, :, col["emissions_sme_t"]]
        values[:, ni:, sme["jobs"]] = active * SME_JOBS_PER_MODELLED_FIRM
        values[:, ni:, sme["kappa"]] = 1.0
        flat = values.reshape(ny * rows, -1)
        tech = flat[:, sme["tech_code"]].astype(np.int64)
        pending = flat[:, sme["pending_tech_code"]].astype(np.int64)
        tech_names = (*(t.name for t in it.TECHNOLOGIES), "mixed SMEs", "none")
        tech_dtype = _category_dtype(tech_names)
        entity_city = np.concatenate([inst.city, np.arange(c.n)])
        data: dict[str, Any] = {
            "year": np.repeat(np.array(self.years, dtype=np.int64), rows),
            "installation_id": np.tile(np.arange(rows), ny),
            "name": _tiled_labels(
                np.concatenate([inst.name, "SME cluster " + c.name.astype(str)]), ny
            ),
            "city_id": np.tile(entity_city, ny),
            "city": _tiled_labels(c.name[entity_city], ny),
            "country": _tiled_labels(m.nations.code[c.country[entity_city]], ny),
            "sector": _tiled_labels(
                np.concatenate([np.array(it.SECTORS)[inst.sector], np.full(c.n, it.SME_CLUSTER)]),
                ny,
            ),
            "named_site": np.tile(np.concatenate([inst.named, np.zeros(c.n, bool)]), ny),
            "national_asset": np.tile(
                np.concatenate([inst.national_asset, np.zeros(c.n, bool)]), ny
            ),
            "technology": pd.Categorical.from_codes(tech, dtype=tech_dtype),
            "pending_technology": pd.Categorical.from_codes(
                np.where(pending < 0, len(tech_names) - 1, pending), dtype=tech_dtype
            ),
        }
        for name, j in sme.items():
            if name not in ("tech_code", "pending_tech_code"):
                data[name] = flat[:, j].astype(bool) if name == "open" else flat[:, j]
        return pd.DataFrame(data, copy=False)

    def _city_table(self, ny: int) -> pd.DataFrame:
        """One row per (year, city): identity columns, target status, then CITY_COLUMNS."""
        m = self.m
        c = m.cities
        flat = self.city[:ny].reshape(ny * c.n, -1)
        col = self.city_buf.index
        data: dict[str, Any] = {
            "year": np.repeat(np.array(self.years, dtype=np.int64), c.n),
            "city_id": np.tile(np.arange(c.n), ny),
            "city": _tiled_labels(c.name, ny),
            "country": _tiled_labels(m.nations.code[c.country], ny),
            "region": _tiled_labels(np.array(REGIONS)[m.nations.region[c.country]], ny),
            "mission": np.tile(c.mission, ny),
            "size_class": _tiled_labels(np.array(SIZE_CLASSES)[c.size_class], ny),
            "population": np.tile(c.population, ny),
            "admin_structure": _tiled_labels(np.array(STRUCTURES)[c.structure], ny),
            "engagement_mode": _tiled_labels(np.array(ENGAGEMENT_MODES)[c.engagement_mode], ny),
            "population_imputed": np.tile(c.population_imputed, ny),
            "eoi_applicant": np.tile(c.eoi_applicant, ny),
            "has_climate_budget": np.tile(c.has_climate_budget, ny),
            "target_status": pd.Categorical.from_codes(
                flat[:, col["target_status_code"]].astype(np.int64),
                dtype=_category_dtype(TARGET_STATUSES),
            ),
        }
        for name, j in col.items():
            if name == "target_status_code":
                continue
            values = flat[:, j]
            if name in CITY_BOOL_COLUMNS:
                values = values.astype(bool)
            elif name in CITY_INT_COLUMNS:
                values = values.astype(np.int64)
            data[name] = values
        return pd.DataFrame(data, copy=False)

    def result(self) -> SimulationResult:
        """Build the tidy tables from the buffers."""
        m = self.m
        ny = len(self.years)
        city_year = self._city_table(ny)
        installation_year = self._installation_table(ny)
        eu_year = _eu_table(m, self.city[:ny], self.inst[:ny], self.eu[:ny], self.years)
        return SimulationResult(m.config, m.seed, city_year, installation_year, eu_year)


EU_SUM_COLUMNS: tuple[str, ...] = (
    *(f"emissions_{s}_t" for s in SECTORS_CITY),
    "emissions_industry_t",
    "emissions_total_t",
    "funds_applied_eur",
    "funds_awarded_eur",
    "funds_absorbed_eur",
    "funds_decommitted_eur",
    "own_funded_eur",
    "private_funded_eur",
    *(f"cut_{cause}_t" for cause in emissions.CUT_CAUSES),
    "staff_fte",
    "staff_pm_unmet",
    "projects_completed",
    "projects_operating",
    "ccc_signed",
)
EU_WEIGHTED_COLUMNS: tuple[str, ...] = (
    "citizen_support",
    "alignment",
    "silo_index",
    "gpp_share",
    "skill",
    "grid_intensity_g_per_kwh",
)


@functools.lru_cache(maxsize=256)
def _category_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """A categorical dtype, made once per set of labels (validating categories is slow)."""
    return pd.CategoricalDtype(pd.Index(list(categories)))


def _tiled_labels(labels: np.ndarray, times: int) -> pd.Categorical:
    """Per-entity labels repeated for each year, as a categorical (cheap to build and store)."""
    categories, codes = np.unique(labels.astype(str), return_inverse=True)
    dtype = _category_dtype(tuple(categories.tolist()))
    return pd.Categorical.from_codes(np.tile(codes, times), dtype=dtype)


def _eu_table(
    m: GovernanceModel, city_buf: np.ndarray, inst_buf: np.ndarray, eu: np.ndarray, years: list[int]
) -> pd.DataFrame:
    """EU-wide and per-country aggregates per year, straight from the yearly buffers.

    Rows: per year, the levels (country codes and "EU") in alphabetical order; the EU scalars
    are filled on the EU row and NaN on the country rows.
    """
    c = m.cities
    nat = m.nations
    ny = len(years)
    onehot = np.zeros((c.n, nat.n + 1))
    onehot[np.arange(c.n), c.country] = 1.0
    onehot[:, -1] = 1.0  # last column: the EU total
    pop = c.population @ onehot
    present = pop > 0
    col = {name: k for k, name in enumerate(CITY_COLUMNS)}
    data: dict[str, np.ndarray] = {}
    for name in EU_SUM_COLUMNS:
        data[name] = city_buf[:, :, col[name]] @ onehot
    for name in EU_WEIGHTED_COLUMNS:
        data[name] = (
            (city_buf[:, :, col[name]] * c.population) @ onehot / np.where(present, pop, 1.0)
        )
    data["cities_with_ccc"] = data.pop("ccc_signed")
    data["population"] = np.tile(pop, (ny, 1))
    inst = m.installations
    i_onehot = np.zeros((inst.n, nat.n + 1))
    i_onehot[np.arange(inst.n), inst.country] = 1.0
    i_onehot[:, -1] = 1.0
    data["industry_jobs"] = inst_buf[:, :, INSTALLATION_COLUMNS.index("jobs")] @ i_onehot
    levels = np.append(nat.code.astype(str), "EU")
    keep = np.flatnonzero(present)
    keep = keep[np.argsort(levels[keep], kind="stable")]
    is_eu = keep == nat.n
    frame: dict[str, Any] = {
        "year": np.repeat(np.array(years, dtype=np.int64), keep.size),
        "level": np.tile(levels[keep], ny),
        **{k: v[:, keep].ravel() for k, v in data.items()},
    }
    for j, name in enumerate(EU_SCALARS):
        values = np.full((ny, keep.size), np.nan)
        values[:, is_eu] = eu[:, j, None]
        frame[name] = values.ravel()
    return pd.DataFrame(frame, copy=False)
