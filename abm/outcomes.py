"""Outcomes as data: every headline outcome's name, unit, label, scale and computation.

One table (:data:`OUTCOMES`) says, for each headline outcome of a run, what it measures, in
which unit it is stored and shown, its human label, and how :func:`headline_outcomes` computes
it from the run's tables. The runner, ``govsim compare``, sweeps, sensitivity studies, reports,
the explorer and ``docs/ODD.md`` read the table; none keeps a list of its own. The named
selections (:data:`SELECTIONS`) are the outcomes each view shows first; :data:`CASE_OUTCOMES`
are the metrics of a case study (one focus city) with ``{year}`` templates.

The output tables' columns have the same treatment in :data:`COLUMNS` (table, column, unit,
meaning), which a test checks against the parquet schema of a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.agents.state import SECTORS_CITY
from abm.policies import FIRST_LEVER_YEAR, LAST_LEVER_YEAR, LEVER_NAMES

if TYPE_CHECKING:
    from abm.outputs import SimulationResult


@dataclass(frozen=True, slots=True)
class Outcome:
    """One headline outcome: stored value ``raw_unit``; shown as value * ``scale`` in ``unit``."""

    name: str
    label: str
    unit: str
    diff_unit: str
    description: str
    computed: str
    raw_unit: str = ""
    scale: float = 1.0
    group: str = "emissions"

    @property
    def stored_unit(self) -> str:
        """The unit of the value as stored in tables (``unit`` when not scaled)."""
        return self.raw_unit or self.unit


_PP = "percentage points"
_EU_TOTAL = "eu_year (level EU) emissions_total_t"


def _cut(year: int) -> Outcome:
    return Outcome(
        f"emissions_reduction_{year}_pct",
        f"EU emissions cut by {year} (vs start year)",
        "%",
        _PP,
        f"cut in modelled territorial emissions (cities' four sectors, plants, SMEs) from the "
        f"start year to {year}",
        f"100 * (1 - {_EU_TOTAL} in {year} / in the start year)",
    )


def _cut_vs_2019(year: int) -> Outcome:
    return Outcome(
        f"emissions_reduction_{year}_vs_2019_pct",
        f"EU emissions cut by {year} (vs 2019)",
        "%",
        _PP,
        f"cut in modelled territorial emissions from 2019 to {year}, the Mission's reference "
        "year; 2019 emissions are the start year's divided by the registry ratio "
        "emissions_2025_relative_to_2019",
        f"100 * (1 - {_EU_TOTAL} in {year} / (start-year total / emissions_2025_relative_to_2019))",
    )


OUTCOMES: tuple[Outcome, ...] = (
    _cut(2030),
    _cut_vs_2019(2030),
    _cut(2040),
    _cut_vs_2019(2040),
    _cut(2050),
    _cut_vs_2019(2050),
    Outcome(
        "industry_emissions_reduction_2050_pct",
        "industrial emissions cut by 2050 (vs start year)",
        "%",
        _PP,
        "cut in the emissions of modelled industrial plants and SMEs from the start year to 2050",
        "100 * (1 - eu_year emissions_industry_t in 2050 / in the start year)",
        group="industry",
    ),
    Outcome(
        "share_cities_neutral_2030",
        "share of cities with a >= 80% cut by 2030",
        "share of cities",
        "share of cities",
        "share of cities whose own four sectors (buildings, transport, energy, waste) are 80% or "
        "more below the start year in 2030 (the Mission's climate-neutrality bar before offsets)",
        "mean over cities of [1 - city_year sum of the four sector emissions in 2030 / in the "
        "start year >= 0.8]",
        group="cities",
    ),
    Outcome(
        "share_cities_neutral_2050",
        "share of cities with a >= 80% cut by 2050",
        "share of cities",
        "share of cities",
        "share of cities whose own four sectors are 80% or more below the start year in 2050",
        "as share_cities_neutral_2030, in 2050",
        group="cities",
    ),
    Outcome(
        "mission_gap_reduction_2050_pp",
        "mission minus non-mission city cut by 2050",
        _PP,
        _PP,
        "how much further Mission Cities cut their own four sectors by 2050 than other cities",
        "100 * (mean cut of mission cities - mean cut of non-mission cities), cuts as in "
        "share_cities_neutral_2050",
        group="cities",
    ),
    Outcome(
        "city_emissions_reduction_2050_pct",
        "city (non-industry) emissions cut by 2050",
        "%",
        _PP,
        "cut in the summed emissions of all cities' four sectors from the start year to 2050",
        "100 * (1 - sum over cities of the four sectors in 2050 / in the start year)",
        group="cities",
    ),
    Outcome(
        "funds_awarded_eur",
        "funds awarded to cities, all years",
        "EUR bn",
        "EUR bn",
        "EU, cohesion and national grants awarded to city projects over the run",
        "sum of city_year funds_awarded_eur",
        raw_unit="EUR",
        scale=1e-9,
        group="funding",
    ),
    Outcome(
        "funds_absorbed_eur",
        "funds absorbed by cities, all years",
        "EUR bn",
        "EUR bn",
        "grant money paid out to cities for certified project work over the run",
        "sum of city_year funds_absorbed_eur",
        raw_unit="EUR",
        scale=1e-9,
        group="funding",
    ),
    Outcome(
        "funds_decommitted_eur",
        "funds decommitted (lost), all years",
        "EUR bn",
        "EUR bn",
        "awarded grant money lost because it was not spent in time (N+3 rule)",
        "sum of city_year funds_decommitted_eur",
        raw_unit="EUR",
        scale=1e-9,
        group="funding",
    ),
    Outcome(
        "admin_staff_years_per_meur_awarded",
        "admin staff time per EUR M awarded",
        "FTE-years per EUR M",
        "FTE-years per EUR M",
        "city staff time spent writing bids and managing grants per million euros awarded",
        "(sum of staff_pm_applications + staff_pm_grant_management) / 12 / "
        "(funds_awarded_eur / 1e6)",
        group="funding",
    ),
    Outcome(
        "industry_jobs_end",
        "industry jobs in the last year",
        "thousand jobs",
        "thousand jobs",
        "direct jobs at modelled industrial plants (SMEs not counted) in the last simulated year",
        "eu_year industry_jobs in the last year",
        raw_unit="jobs",
        scale=1e-3,
        group="industry",
    ),
    Outcome(
        "industry_jobs_change_pct",
        "change in industry jobs over the run",
        "%",
        _PP,
        "change in direct jobs at modelled plants from the start year to the last simulated year",
        "100 * (industry_jobs in the last year / in the start year - 1)",
        group="industry",
    ),
    Outcome(
        "citizen_support_end",
        "citizen support in the last year",
        "index 0-1",
        "index points (0-1 scale)",
        "mean over cities, weighted by population, of citizens' support for local climate "
        "policy in the last year",
        "eu_year citizen_support in the last year",
        group="society",
    ),
    Outcome(
        "mean_alignment_end",
        "city-national alignment in the last year",
        "index 0-1",
        "index points (0-1 scale)",
        "mean over cities, weighted by population, of city-national alignment of climate "
        "goals in the last year",
        "eu_year alignment in the last year",
        group="governance",
    ),
    Outcome(
        "cities_with_ccc_end",
        "cities with a Climate City Contract in the last year",
        "cities",
        "cities",
        "number of cities that have signed a Climate City Contract by the last year",
        "eu_year cities_with_ccc in the last year",
        group="governance",
    ),
    # --- industry: cuts by cause and closures (issue 11) ---
    *(
        Outcome(
            f"industry_cut_{cause}_2050_pct",
            f"plant emissions cut by 2050 from {label}",
            "%",
            _PP,
            f"cut in the emissions of modelled plants (SMEs not counted) from {label} by 2050, as "
            "a share of their start-year emissions; the three causes add up to the plants' cut",
            f"100 * sum of installation_year cut_{cause}_t in 2050 / plants' emissions_t in the "
            "start year",
            group="industry",
        )
        for cause, label in (
            ("route", "route switches"),
            ("output", "lower output (leakage)"),
            ("closure", "closures"),
        )
    ),
    Outcome(
        "industry_max_closure_share_pct",
        "most of a sector's plants closing in one year",
        "%",
        _PP,
        "largest share, over sectors and years, of a sector's start-year plants that close in a "
        "single year (a cliff-edge indicator: leakage booked as abatement)",
        "max over sector and year of 100 * plants closing that year / plants open in the start "
        "year",
        group="industry",
    ),
)
# what each part of the cities' own-sector cut by 2050 comes from (emissions.decomposition)
_CAUSE_WORDS: dict[str, tuple[str, str]] = {
    "drift": ("the exogenous drift", "EU product and building standards, outside the cities"),
    "grid": ("the power sector", "the national grid's decarbonisation under the carbon price"),
    "adoption": ("citizens' choices", "residents' low-carbon choices"),
    "procurement": ("green procurement", "green public tenders beyond the start-year share"),
    "projects": ("city projects", "completed city projects, however funded"),
}
DECOMPOSITION_OUTCOMES: tuple[Outcome, ...] = tuple(
    Outcome(
        f"city_cut_2050_from_{cause}_pp",
        f"city cut by 2050 from {short}",
        _PP,
        _PP,
        f"part of the cut in cities' own-sector emissions from the start year to 2050 that "
        f"comes from {long}",
        f"100 * (sum of city_year cut_{cause}_t in 2050 - in the start year) / own-sector "
        f"emissions in the start year (the parts sum to city_emissions_reduction_2050_pct)",
        group="cities",
    )
    for cause, (short, long) in _CAUSE_WORDS.items()
)
OUTCOMES = (
    *OUTCOMES,
    *DECOMPOSITION_OUTCOMES,
    Outcome(
        "private_funded_eur",
        "private and leveraged capital, all years",
        "EUR bn",
        "EUR bn",
        "private, utility and community capital in city projects that went ahead",
        "sum of city_year private_funded_eur",
        raw_unit="EUR",
        scale=1e-9,
        group="funding",
    ),
)
# issue 10.6: the public money the levers cost, so effects can be read per euro
OUTCOMES += (
    Outcome(
        "levers_public_cost_eur",
        f"public cost of the levers {FIRST_LEVER_YEAR}-{LAST_LEVER_YEAR}",
        "EUR bn",
        "EUR bn",
        f"cumulative public cost (EU and national budgets) of every lever in force, "
        f"{FIRST_LEVER_YEAR} to {LAST_LEVER_YEAR}; what each lever's dose costs is in the "
        "registry (lever_* doses) and abm/rules/public_cost.py",
        f"sum of eu_year (level EU) public_cost_<lever>_eur over levers and the years "
        f"{FIRST_LEVER_YEAR}-{LAST_LEVER_YEAR}",
        raw_unit="EUR",
        scale=1e-9,
        group="funding",
    ),
)
OUTCOME_BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
OUTCOME_NAMES: tuple[str, ...] = tuple(OUTCOME_BY_NAME)

# the case metrics a report shows (``govsim case``, experiments/cases.py run_metrics), most
# important first; ``{year}`` stands for a year the runs reach (the report takes the latest)
CASE_OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "with_industry_cut_{year}_pct",
        "territorial emissions cut by {year}, incl. industry",
        "%",
        _PP,
        "cut in the focus city's territorial emissions, its four sectors and its industry, from "
        "the start year to {year}",
        "100 * (1 - emissions_with_industry_t in {year} / in the start year), focus city",
        group="case",
    ),
    Outcome(
        "city_scope_cut_{year}_pct",
        "city-scope emissions cut by {year}",
        "%",
        _PP,
        "cut in the focus city's own four sectors (buildings, transport, energy, waste) from the "
        "start year to {year}",
        "100 * (1 - emissions_city_scope_t in {year} / in the start year), focus city",
        group="case",
    ),
    Outcome(
        "plant_jobs_{year}",
        "direct jobs at the city's large plants in {year}",
        "jobs",
        "jobs",
        "direct jobs at the focus city's large industrial plants (SMEs not counted) in {year}",
        "sum of installation_year jobs of the focus city's plants in {year}",
        group="case",
    ),
    Outcome(
        "route_decision_year",
        "first year a local plant changes route",
        "year",
        "years",
        "first year any of the focus city's plants has a change of production route under way "
        "or done (NaN if none does)",
        "min year with pending_technology != none or technology != the start year's",
        group="case",
    ),
)

# the outcomes each view shows first, most important first
SELECTIONS: dict[str, tuple[str, ...]] = {
    # printed tables of govsim compare/demo and their lever-effect figures
    "key": (
        "emissions_reduction_2050_pct",
        "industry_emissions_reduction_2050_pct",
        "funds_absorbed_eur",
    ),
    # the table govsim run prints
    "run": (
        "emissions_reduction_2030_pct",
        "emissions_reduction_2050_pct",
        "industry_emissions_reduction_2050_pct",
        "funds_absorbed_eur",
        "industry_jobs_change_pct",
        "citizen_support_end",
        "industry_cut_route_2050_pct",
        "industry_cut_closure_2050_pct",
        "city_emissions_reduction_2050_pct",
        *(o.name for o in DECOMPOSITION_OUTCOMES),
    ),
    # the headline and charts of a compare/demo report: the Mission's 2030 year, then "key"
    "report": (
        "emissions_reduction_2030_pct",
        "emissions_reduction_2050_pct",
        "industry_emissions_reduction_2050_pct",
        "funds_absorbed_eur",
    ),
}


def outcome(name: str) -> Outcome:
    """The table row of outcome ``name``; KeyError lists the known names."""
    try:
        return OUTCOME_BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown outcome {name!r}; known outcomes: {', '.join(OUTCOME_NAMES)}"
        ) from None


def selection(view: str) -> tuple[str, ...]:
    """The outcomes a view (``key``, ``run``, ``report``) shows first."""
    try:
        return SELECTIONS[view]
    except KeyError:
        raise KeyError(
            f"unknown outcome selection {view!r}; known: {', '.join(SELECTIONS)}"
        ) from None


class _Yearly:
    """The columns of a yearly result table as numpy arrays, read year by year.

    The tables are written year by year, so their ``year`` column is sorted and a year's rows
    are one block: reading one is a slice of the column (pandas' boolean masks and column
    selections cost more than the arithmetic here; a sweep calls this once per run). A table
    whose years are not sorted is read by masks, with the same rows. ``keep`` (a boolean row
    filter, e.g. the EU level of the EU table) is applied first.
    """

    def __init__(self, frame: pd.DataFrame, keep: np.ndarray | None = None) -> None:
        self.frame = frame
        self.keep = keep
        years = frame["year"].to_numpy()
        self.years = years if keep is None else years[keep]
        self.sorted = len(self.years) < 2 or bool((self.years[1:] >= self.years[:-1]).all())
        self._columns: dict[str, np.ndarray] = {}

    def column(self, name: str) -> np.ndarray:
        """All (kept) rows of column ``name``."""
        if name not in self._columns:
            values = self.frame[name].to_numpy()
            self._columns[name] = values if self.keep is None else values[self.keep]
        return self._columns[name]

    def at(self, name: str, first: int, last: int | None = None) -> np.ndarray:
        """Column ``name`` in the years ``first`` to ``last`` (default ``first``)."""
        last = first if last is None else last
        if self.sorted:
            lo = int(np.searchsorted(self.years, first, side="left"))
            hi = int(np.searchsorted(self.years, last, side="right"))
            return self.column(name)[lo:hi]
        return self.column(name)[(self.years >= first) & (self.years <= last)]

    def total(self, name: str, year: int) -> float:
        """Sum of ``name`` in ``year`` (NaN rows skipped, as pandas does); NaN without rows."""
        values = self.at(name, year)
        return float(np.nansum(values)) if len(values) else float("nan")

    def row_sums(self, names: list[str], year: int) -> np.ndarray:
        """Per row of ``year``: the sum over the columns ``names``, NaN as 0, added in column
        order (the same float operations as pandas' ``DataFrame.sum(axis=1)``)."""
        values = np.stack([self.at(name, year) for name in names]).T.copy()
        np.putmask(values, np.isnan(values), 0.0)
        return np.asarray(values.sum(axis=1))


def headline_outcomes(result: SimulationResult) -> dict[str, float]:
    """Headline outcomes: emission cuts, neutral cities, funds, staff, jobs, support, gaps.

    Outcomes for a year outside the simulated period are NaN.
    """
    eu = _Yearly(result.eu_year, (result.eu_year["level"] == "EU").to_numpy())
    cy = result.city_year
    cities = _Yearly(cy)
    y0 = int(eu.years.min())
    y1 = int(eu.years.max())
    out: dict[str, float] = {}
    late: dict[str, float] = {}  # outcomes added to the table later: they come last
    total0 = eu.total("emissions_total_t", y0)
    total2019 = total0 / result.config.parameters.emissions_2025_relative_to_2019
    for y in (2030, 2040, 2050):
        now = eu.total("emissions_total_t", y)
        out[f"emissions_reduction_{y}_pct"] = 100.0 * (1.0 - now / total0)
        out[f"emissions_reduction_{y}_vs_2019_pct"] = 100.0 * (1.0 - now / total2019)
    ind0 = eu.total("emissions_industry_t", y0)
    out["industry_emissions_reduction_2050_pct"] = 100.0 * (
        1.0 - eu.total("emissions_industry_t", 2050) / max(ind0, 1.0)
    )
    city_cols = [f"emissions_{s}_t" for s in SECTORS_CITY]
    base = pd.Series(cities.row_sums(city_cols, y0), index=cities.at("city_id", y0))
    for y in (2030, 2050):
        if not y0 <= y <= y1:
            out[f"share_cities_neutral_{y}"] = float("nan")
            if y == 2050:
                out["mission_gap_reduction_2050_pp"] = float("nan")
                out["city_emissions_reduction_2050_pct"] = float("nan")
                late.update(dict.fromkeys((o.name for o in DECOMPOSITION_OUTCOMES), float("nan")))
            continue
        ids = cities.at("city_id", y)
        city_now = pd.Series(cities.row_sums(city_cols, y), index=ids)
        cut = 1.0 - city_now / base
        out[f"share_cities_neutral_{y}"] = float((cut >= 0.8).mean())
        if y == 2050:
            mission = pd.Series(cities.at("mission", y), index=ids)
            out["mission_gap_reduction_2050_pp"] = 100.0 * float(
                cut[mission].mean() - cut[~mission].mean()
            )
            out["city_emissions_reduction_2050_pct"] = 100.0 * float(
                1.0 - city_now.sum() / base.sum()
            )
            # the cut from the first recorded year, so the four parts sum to the city cut
            for cause in _CAUSE_WORDS:
                col = f"cut_{cause}_t"
                late[f"city_cut_2050_from_{cause}_pp"] = 100.0 * float(
                    (np.nansum(cities.at(col, y)) - np.nansum(cities.at(col, y0)))
                    / max(float(base.sum()), 1.0)
                )
    awarded = float(cy["funds_awarded_eur"].sum())
    absorbed = float(cy["funds_absorbed_eur"].sum())
    out["funds_awarded_eur"] = awarded
    out["funds_absorbed_eur"] = absorbed
    out["funds_decommitted_eur"] = float(cy["funds_decommitted_eur"].sum())
    staff_pm = float(cy["staff_pm_applications"].sum() + cy["staff_pm_grant_management"].sum())
    out["admin_staff_years_per_meur_awarded"] = staff_pm / 12.0 / max(awarded / 1e6, 1e-9)
    jobs0 = eu.total("industry_jobs", y0)
    out["industry_jobs_end"] = eu.total("industry_jobs", y1)
    out["industry_jobs_change_pct"] = 100.0 * (out["industry_jobs_end"] / max(jobs0, 1.0) - 1.0)
    out["citizen_support_end"] = eu.total("citizen_support", y1)
    out["mean_alignment_end"] = eu.total("alignment", y1)
    out["cities_with_ccc_end"] = eu.total("cities_with_ccc", y1)
    out.update(_industry_causes(result.installation_year, y0))
    out.update(late)
    out["private_funded_eur"] = float(cy["private_funded_eur"].sum())
    # the years' costs column after column, summed as one array (as pandas' to_numpy().sum())
    costs = np.stack(
        [eu.at(f"public_cost_{n}_eur", FIRST_LEVER_YEAR, LAST_LEVER_YEAR) for n in LEVER_NAMES]
    )
    out["levers_public_cost_eur"] = float(costs.sum())
    return out


def _operated_at_start(
    open_: np.ndarray, cut_output: np.ndarray, cut_closure: np.ndarray
) -> np.ndarray:
    """Open at the end of the start year, or produced in it (cut_output + cut_closure > 0)."""
    produced = (np.nan_to_num(cut_output, nan=0.0) + np.nan_to_num(cut_closure, nan=0.0)) > 0.0
    return np.asarray(open_.astype(bool) | produced)


def open_at_start(plants: pd.DataFrame, y0: int) -> pd.Series:
    """Per plant: it operated at the start of the first year (bool, by ``installation_id``).

    The rows describe the state at the end of each year, so a plant closing in the start year
    is not ``open`` in its first row. It still produced that year: its start-year emissions
    ``Q0 * I0`` are split into ``cut_output_t + cut_closure_t > 0``, while a later entrant's are
    zero (it produced nothing in the start year).
    """
    t = _Yearly(plants)
    at_start = _operated_at_start(
        t.at("open", y0), t.at("cut_output_t", y0), t.at("cut_closure_t", y0)
    )
    index = pd.Index(t.at("installation_id", y0), name="installation_id")
    return pd.Series(at_start, index=index, name="open_at_start")


def _industry_causes(plants: pd.DataFrame, y0: int) -> dict[str, float]:
    """Plant emission cuts by 2050 by cause, and the largest one-year closure share."""
    t = _Yearly(plants, (plants["sector"] != "sme_cluster").to_numpy())
    start = float(np.nansum(t.at("emissions_t", y0)))
    out = {
        f"industry_cut_{cause}_2050_pct": 100.0 * t.total(f"cut_{cause}_t", 2050) / max(start, 1.0)
        for cause in ("route", "output", "closure")
    }
    # plants x (start of the first year, end of each year): open; a plant without a row in a
    # year counts as open then (it neither closes nor reopens there)
    ids, plant = np.unique(t.column("installation_id"), return_inverse=True)
    years, year = np.unique(t.years, return_inverse=True)
    opened = np.ones((len(ids), len(years) + 1), dtype=bool)
    opened[plant, year + 1] = t.column("open").astype(bool)
    first = t.years == y0
    opened[plant[first], 0] = _operated_at_start(
        t.column("open")[first], t.column("cut_output_t")[first], t.column("cut_closure_t")[first]
    )
    sector = np.full(len(ids), None, dtype=object)
    sector[plant[first]] = t.column("sector")[first]
    closing = opened[:, :-1] & ~opened[:, 1:]
    share = 0.0
    for name in {s for s in sector.tolist() if s is not None}:
        rows = sector == name
        n0 = int(opened[rows, 0].sum())
        if n0 and closing.shape[1]:
            share = max(share, float(closing[rows].sum(axis=0).max()) / n0)
    out["industry_max_closure_share_pct"] = 100.0 * share
    return out
