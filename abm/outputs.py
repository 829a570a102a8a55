"""Outputs: yearly numpy buffers -> tidy tables and headline outcomes.

The recorder writes one row per (year, city) and (year, installation) into preallocated numpy
buffers during the run; tables are built once at the end. Writing a run directory (tables plus
manifest) is the results layer's job: ``experiments.results.write_run``.
"""

from __future__ import annotations

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
from abm.rules import emissions, smes
from abm.rules import industry_tech as it

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
)
N_STAGES = len(PROJECT_STAGES)
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


class Recorder:
    """Preallocated yearly buffers for cities, installations and EU scalars."""

    def __init__(self, model: GovernanceModel) -> None:
        self.m = model
        years = model.config.n_years
        self.years: list[int] = []
        self.city = np.zeros((years, model.cities.n, len(CITY_COLUMNS)))
        self.inst = np.zeros((years, model.installations.n, len(INSTALLATION_COLUMNS)))
        self.eu = np.zeros((years, len(EU_SCALARS)))

    def record_year(self, year: int) -> None:
        """Copy the state at the end of ``year`` into the buffers."""
        m = self.m
        c = m.cities
        k = len(self.years)
        self.years.append(year)
        sector = emissions.city_sector_emissions(m)
        industry = emissions.city_industry_emissions(m)
        f = m.year_flows
        s = m.smes
        sme_em = smes.sme_emissions_by_city(m)
        pr = m.projects
        by_stage = np.bincount(
            pr.city[: pr.size] * N_STAGES + pr.stage[: pr.size], minlength=c.n * N_STAGES
        ).reshape(c.n, N_STAGES)
        operating = by_stage[:, P_OPERATING].astype(float)
        in_pipeline = by_stage[:, [P_IDEA, P_PREPARED, P_IMPLEMENTING]].sum(axis=1).astype(float)

        cols = [
            *sector.T,
            industry,
            sector.sum(axis=1) + industry,
            f.applied_eur,
            f.awarded_eur,
            f.absorbed_eur,
            f.decommitted_eur,
            f.own_funded_eur,
            f.om_paid_eur,
            c.committed_eur.sum(axis=1) + c.implemented_eur + c.certified_eur,
            f.applications,
            f.awards,
            c.staff_fte,
            *m.staff_use_pm.T,
            f.unmet_pm,
            c.skill,
            c.finance_skill,
            c.procurement_skill,
            c.awareness,
            c.silo,
            c.coordination,
            c.alignment,
            m.support,
            m.polarisation,
            m.participation_rate,
            c.commitment,
            f.prepared,
            f.completed,
            f.dropped,
            f.abandoned,
            operating,
            in_pipeline,
            c.gpp_share,
            c.industry_dialogue,
            c.ccc_signed,
            c.label,
            c.target_status,
            c.climate_budget_eur,
            sme_em,
            np.bincount(s.city, weights=(s.status != SME_DEFAULTED), minlength=c.n),
            np.bincount(s.city, weights=(s.status == SME_GREEN), minlength=c.n),
            np.bincount(s.city, weights=s.debt_eur, minlength=c.n),
        ]
        self.city[k] = np.column_stack(cols)
        inst = m.installations
        from abm.rules.industry import (
            cbam_charge,
            emission_cuts,
            installation_emissions,
            installation_jobs,
        )

        cbam = cbam_charge(m, inst.sector, m.eu.carbon_price_eur_per_t, float(year))
        self.inst[k] = np.column_stack(
            [
                inst.tech,
                inst.pending_tech,
                inst.open,
                inst.capacity_mt,
                inst.capacity_mt * inst.utilisation * inst.open,
                installation_emissions(m),
                installation_jobs(m),
                inst.kappa,
                inst.aid_eur,
                *emission_cuts(m),
                cbam,
            ]
        )
        a = m.accounts
        self.eu[k] = [
            m.eu.carbon_price_eur_per_t,
            m.eu.free_allocation_share,
            m.eu.offered_eur,
            m.eu.awarded_eur,
            a["awarded_eur"],
            a["paid_eur"],
            a["decommitted_eur"],
            m.national.awarded_eur,
            m.eu.instruments["industry"].awarded_eur,  # paid as the switch is decided
            m.eu.instruments["sme"].awarded_eur,
            m.eu.sme_paid_eur,
            float((s.status == SME_DEFAULTED).sum()),
            float((s.status == SME_GREEN).sum()),
            m.green_demand_share,
        ]

    def _installation_table(self, ny: int) -> pd.DataFrame:
        """Installations plus one 'sme_cluster' row per city (its SMEs as one installation)."""
        m = self.m
        c = m.cities
        inst = m.installations
        ni = inst.n
        col = {name: k for k, name in enumerate(CITY_COLUMNS)}
        values = np.full((ny, ni + c.n, len(INSTALLATION_COLUMNS)), np.nan)
        values[:, :ni] = self.inst[:ny]
        sme = {name: k for k, name in enumerate(INSTALLATION_COLUMNS)}
        active = self.city[:ny, :, col["smes_active"]]
        values[:, ni:, sme["tech_code"]] = it.N_TECH  # "mixed SMEs"
        values[:, ni:, sme["pending_tech_code"]] = -1
        values[:, ni:, sme["open"]] = active > 0
        values[:, ni:, sme["emissions_t"]] = self.city[:ny, :, col["emissions_sme_t"]]
        values[:, ni:, sme["jobs"]] = active * SME_JOBS_PER_MODELLED_FIRM
        values[:, ni:, sme["kappa"]] = 1.0
        table = pd.DataFrame(values.reshape(ny * (ni + c.n), -1), columns=INSTALLATION_COLUMNS)
        tech = table.pop("tech_code").astype(np.int64).to_numpy()
        pending = table.pop("pending_tech_code").astype(np.int64).to_numpy()
        tech_names = [t.name for t in it.TECHNOLOGIES] + ["mixed SMEs", "none"]
        entity_city = np.concatenate([inst.city, np.arange(c.n)])
        ident = pd.DataFrame(
            {
                "year": np.repeat(np.array(self.years, dtype=np.int64), ni + c.n),
                "installation_id": np.tile(np.arange(ni + c.n), ny),
                "name": _tiled_labels(
                    np.concatenate([inst.name, "SME cluster " + c.name.astype(str)]), ny
                ),
                "city_id": np.tile(entity_city, ny),
                "city": _tiled_labels(c.name[entity_city], ny),
                "country": _tiled_labels(m.nations.code[c.country[entity_city]], ny),
                "sector": _tiled_labels(
                    np.concatenate(
                        [np.array(it.SECTORS)[inst.sector], np.full(c.n, it.SME_CLUSTER)]
                    ),
                    ny,
                ),
                "named_site": np.tile(np.concatenate([inst.named, np.zeros(c.n, bool)]), ny),
                "national_asset": np.tile(
                    np.concatenate([inst.national_asset, np.zeros(c.n, bool)]), ny
                ),
                "technology": pd.Categorical.from_codes(tech, pd.Index(tech_names)),
                "pending_technology": pd.Categorical.from_codes(
                    np.where(pending < 0, len(tech_names) - 1, pending), pd.Index(tech_names)
                ),
            }
        )
        out = pd.concat([ident, table], axis=1)
        out["open"] = out["open"].astype(bool)
        return out

    def result(self) -> SimulationResult:
        """Build the tidy tables from the buffers."""
        m = self.m
        c = m.cities
        ny = len(self.years)
        years = np.repeat(np.array(self.years, dtype=np.int64), c.n)
        city = pd.DataFrame(self.city[:ny].reshape(ny * c.n, -1), columns=list(CITY_COLUMNS))
        for col in ("ccc_signed", "label"):
            city[col] = city[col].astype(bool)
        for col in (
            "applications",
            "awards",
            "projects_prepared",
            "projects_completed",
            "projects_dropped",
            "projects_abandoned",
            "projects_operating",
            "projects_in_pipeline",
        ):
            city[col] = city[col].astype(np.int64)
        codes = city.pop("target_status_code").astype(np.int64).to_numpy()
        city.insert(
            0,
            "target_status",
            pd.Series(pd.Categorical.from_codes(codes, pd.Index(TARGET_STATUSES))),
        )
        ident = pd.DataFrame(
            {
                "year": years,
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
            }
        )
        city_year = pd.concat([ident, city], axis=1)
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
)


def _tiled_labels(labels: np.ndarray, times: int) -> pd.Categorical:
    """Per-entity labels repeated for each year, as a categorical (cheap to build and store)."""
    categories, codes = np.unique(labels.astype(str), return_inverse=True)
    return pd.Categorical.from_codes(np.tile(codes, times), pd.Index(categories))


def _eu_table(
    m: GovernanceModel, city_buf: np.ndarray, inst_buf: np.ndarray, eu: np.ndarray, years: list[int]
) -> pd.DataFrame:
    """EU-wide and per-country aggregates per year, straight from the yearly buffers."""
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
    frame = pd.DataFrame(
        {
            "year": np.repeat(np.array(years, dtype=np.int64), keep.size),
            "level": np.tile(levels[keep], ny),
            **{k: v[:, keep].ravel() for k, v in data.items()},
        }
    )
    scal = pd.DataFrame(eu, columns=list(EU_SCALARS))
    scal["year"] = years
    eu_rows = frame[frame["level"] == "EU"].merge(scal, on="year", how="left")
    out = pd.concat([eu_rows, frame[frame["level"] != "EU"]], ignore_index=True)
    return out.sort_values(["year", "level"], kind="stable").reset_index(drop=True)
