"""The output tables' columns as data: table, column, unit and meaning of each.

``city_year``, ``installation_year`` and ``eu_year`` (see ``docs/ODD.md``, "Outputs") are the
tidy tables every run returns. :data:`COLUMNS` says what each column holds and in which unit,
so reports, the explorer and users' notebooks can label them without guessing from names; a
test checks the table against the columns a run actually writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from abm.agents.state import SECTORS_CITY
from abm.policies import LEVERS
from abm.rules.staff import STAFF_USES

TABLES: tuple[str, ...] = ("city_year", "installation_year", "eu_year")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an output table: its unit (``-`` for keys and labels) and meaning."""

    table: str
    name: str
    unit: str
    description: str


_KEY = "-"
_STOCK = "end-of-year stock"


def _rows(table: str, rows: tuple[tuple[str, str, str], ...]) -> tuple[Column, ...]:
    return tuple(Column(table, name, unit, text) for name, unit, text in rows)


_EMISSIONS: tuple[tuple[str, str, str], ...] = (
    *(
        (f"emissions_{s}_t", "t CO2e/yr", f"emissions of the city's {s} sector")
        for s in SECTORS_CITY
    ),
    ("emissions_industry_t", "t CO2e/yr", "emissions of the plants and SMEs on the territory"),
    ("emissions_total_t", "t CO2e/yr", "the four city sectors plus industry"),
)
_MONEY_FLOWS: tuple[tuple[str, str, str], ...] = (
    ("funds_applied_eur", "EUR/yr", "grant money applied for in the year"),
    ("funds_awarded_eur", "EUR/yr", "grant money awarded in the year"),
    ("funds_absorbed_eur", "EUR/yr", "grant money paid out for certified work in the year"),
    ("funds_decommitted_eur", "EUR/yr", "awarded grant money lost in the year (N+3 rule)"),
    ("own_funded_eur", "EUR/yr", "project capital paid from the city's own budget"),
)

_CUT = "cut of the city's own-sector emissions from the start year booked to"
_ISSUE10_CITY: tuple[tuple[str, str, str], ...] = (
    (
        "private_funded_eur",
        "EUR/yr",
        "private, utility and community capital of city projects that went ahead in the year",
    ),
    (
        "grid_intensity_g_per_kwh",
        "gCO2e/kWh",
        "carbon intensity of the country's power generation",
    ),
    ("cut_drift_t", "t CO2e/yr", f"{_CUT} the exogenous drift (EU standards)"),
    ("cut_grid_t", "t CO2e/yr", f"{_CUT} the national power sector's decarbonisation"),
    ("cut_adoption_t", "t CO2e/yr", f"{_CUT} citizens' low-carbon choices"),
    ("cut_procurement_t", "t CO2e/yr", f"{_CUT} green procurement beyond its start-year share"),
    ("cut_projects_t", "t CO2e/yr", f"{_CUT} the city's completed projects"),
)

CITY_YEAR: tuple[Column, ...] = _rows(
    "city_year",
    (
        ("year", "year", "calendar year the row describes (state at its end)"),
        ("city_id", _KEY, "index of the city in the run"),
        ("city", _KEY, "city name (generated non-mission cities are NMC-xxxx)"),
        ("country", _KEY, "ISO 3166-1 alpha-2 code of the city's country"),
        ("region", _KEY, "European region of the country"),
        ("mission", "bool", "one of the 112 EU Mission Cities"),
        ("size_class", _KEY, "population size class"),
        ("population", "residents", "residents of the city"),
        ("admin_structure", _KEY, "how the city organises climate work (structure type)"),
        ("engagement_mode", _KEY, "how the city engages citizens"),
        ("population_imputed", "bool", "population imputed (not in the data file)"),
        ("eoi_applicant", "bool", "applied in the 2021 Expression of Interest"),
        ("has_climate_budget", "bool", "has a dedicated climate budget"),
        ("target_status", _KEY, "status of the city's climate-neutrality target"),
        *_EMISSIONS,
        *_MONEY_FLOWS,
        ("om_paid_eur", "EUR/yr", "operation and maintenance of completed projects paid"),
        ("grant_pipeline_eur", "EUR", f"awarded grant money not yet paid ({_STOCK})"),
        ("applications", "applications/yr", "funding applications submitted in the year"),
        ("awards", "awards/yr", "funding awards received in the year"),
        ("staff_fte", "FTE", "climate staff of the city"),
        *(
            (f"staff_pm_{use}", "person-months/yr", f"staff time spent on {use.replace('_', ' ')}")
            for use in STAFF_USES
        ),
        ("staff_pm_unmet", "person-months/yr", "staff time demanded but not available"),
        ("skill", "index 0-1", "project delivery skill of the city's staff"),
        ("finance_skill", "index 0-1", "skill in finding and structuring finance"),
        ("procurement_skill", "index 0-1", "skill in (green) public procurement"),
        ("awareness", "index 0-1", "awareness of funding opportunities"),
        ("silo_index", "index 0-1", "siloing of climate work across departments"),
        ("coordination", "index 0-1", "coordination between departments"),
        ("alignment", "index 0-1", "alignment of city and national climate goals"),
        ("citizen_support", "index 0-1", "mean support of the city's citizens"),
        ("support_variance", "index 0-1 squared", "variance of citizens' support (polarisation)"),
        ("participation_rate", "share", "share of citizens taking part in engagement"),
        ("political_commitment", "index 0-1", "the council's commitment to climate policy"),
        ("projects_prepared", "projects/yr", "projects prepared in the year"),
        ("projects_completed", "projects/yr", "projects completed in the year"),
        ("projects_dropped", "projects/yr", "project ideas dropped in the year"),
        ("projects_abandoned", "projects/yr", "operating projects abandoned in the year"),
        ("projects_operating", "projects", f"projects in operation ({_STOCK})"),
        ("projects_in_pipeline", "projects", f"ideas, prepared or implementing ({_STOCK})"),
        ("gpp_share", "share", "share of the city's tenders with green criteria"),
        ("industry_dialogue", "index 0-1", "dialogue of the city with local industry"),
        ("ccc_signed", "bool", "has signed a Climate City Contract"),
        ("label", "bool", "holds the Mission Label"),
        ("climate_budget_eur", "EUR/yr", "the city's climate budget for the year"),
        ("emissions_sme_t", "t CO2e/yr", "emissions of the city's SMEs"),
        ("smes_active", "modelled SMEs", "modelled SMEs not in default"),
        ("smes_green", "modelled SMEs", "modelled SMEs that have gone green"),
        ("sme_debt_eur", "EUR", f"debt of the city's SMEs ({_STOCK})"),
        *_ISSUE10_CITY,
        (
            "staff_pm_demanded",
            "person-months/yr",
            "staff time demanded in the year: spent plus left undone (staff_pm_unmet)",
        ),
        ("staff_pm_available", "person-months/yr", "effective climate staff time in the year"),
    ),
)

INSTALLATION_YEAR: tuple[Column, ...] = _rows(
    "installation_year",
    (
        ("year", "year", "calendar year the row describes (state at its end)"),
        ("installation_id", _KEY, "index of the plant (SME clusters after the plants)"),
        ("name", _KEY, "plant name (named sites from the data file; others generated)"),
        ("city_id", _KEY, "index of the city the plant is in"),
        ("city", _KEY, "city the plant is in"),
        ("country", _KEY, "ISO 3166-1 alpha-2 code of the plant's country"),
        ("sector", _KEY, "industrial sector (sme_cluster: a city's SMEs as one unit)"),
        ("named_site", "bool", "a named site from the data file"),
        ("national_asset", "bool", "treated by its government as a national asset"),
        ("technology", _KEY, "production route in operation"),
        ("pending_technology", _KEY, "route being built ('none' if no switch under way)"),
        ("open", "bool", "the plant operates"),
        ("capacity_mt", "Mt/yr", "production capacity (NaN for SME clusters)"),
        ("production_mt", "Mt/yr", "production in the year (NaN for SME clusters)"),
        ("emissions_t", "t CO2e/yr", "emissions of the plant in the year"),
        ("jobs", "jobs", "direct jobs (SME clusters: 20 per active modelled SME)"),
        ("kappa", "index 0-1", "the city's authority (voice) over the plant"),
        ("aid_eur_cumulative", "EUR", "state aid and fund grants received so far"),
        ("cut_route_t", "t CO2e/yr", "cut since the start year from route switches (NaN for SMEs)"),
        (
            "cut_output_t",
            "t CO2e/yr",
            "cut since the start year from lower output (negative: growth or a later entrant)",
        ),
        ("cut_closure_t", "t CO2e/yr", "cut since the start year from the plant's closure"),
        (
            "cbam_eur_per_t",
            "EUR/t product",
            "CBAM charge on competing imports per tonne (0 outside CBAM sectors and before 2026)",
        ),
    ),
)

EU_YEAR: tuple[Column, ...] = _rows(
    "eu_year",
    (
        ("year", "year", "calendar year the row describes (state at its end)"),
        ("level", _KEY, "'EU' or the ISO code of a country with at least one city"),
        *_EMISSIONS,
        *_MONEY_FLOWS,
        _ISSUE10_CITY[0],
        *_ISSUE10_CITY[2:],
        ("staff_fte", "FTE", "climate staff of the cities"),
        ("staff_pm_unmet", "person-months/yr", "staff time demanded but not available"),
        ("projects_completed", "projects/yr", "projects completed in the year"),
        ("projects_operating", "projects", f"projects in operation ({_STOCK})"),
        ("citizen_support", "index 0-1", "population-weighted mean of cities' support"),
        ("alignment", "index 0-1", "population-weighted mean city-national alignment"),
        ("silo_index", "index 0-1", "population-weighted mean siloing"),
        ("gpp_share", "share", "population-weighted mean green-procurement share"),
        ("skill", "index 0-1", "population-weighted mean delivery skill"),
        ("grid_intensity_g_per_kwh", "gCO2e/kWh", "population-weighted power-sector intensity"),
        ("cities_with_ccc", "cities", "cities with a Climate City Contract"),
        ("population", "residents", "residents of the modelled cities"),
        ("industry_jobs", "jobs", "direct jobs at the modelled plants (SMEs not counted)"),
        ("carbon_price_eur_per_t", "EUR/t CO2", "EU ETS carbon price (EU rows only)"),
        ("free_allocation_share", "share", "share of emissions covered by free allocation"),
        ("eu_offered_cum_eur", "EUR", "EU call money offered so far"),
        ("eu_awarded_cum_eur", "EUR", "EU call money awarded so far"),
        ("grants_awarded_cum_eur", "EUR", "grant money awarded to cities so far"),
        ("grants_paid_cum_eur", "EUR", "grant money paid to cities so far"),
        ("grants_decommitted_cum_eur", "EUR", "grant money decommitted so far"),
        ("national_awarded_cum_eur", "EUR", "national programme money awarded so far"),
        ("industry_fund_paid_cum_eur", "EUR", "industry decarbonisation fund paid so far"),
        ("sme_awarded_cum_eur", "EUR", "SME grants awarded so far"),
        ("sme_paid_cum_eur", "EUR", "SME grants paid so far"),
        ("sme_defaults", "modelled SMEs", "modelled SMEs in default"),
        ("sme_green", "modelled SMEs", "modelled SMEs that have gone green"),
        ("green_demand_share", "share", "share of demand for green products seen by plants"),
        # issue 10.6: what each lever's dose cost the public in the year (EU rows only)
        *(
            (
                f"public_cost_{info.name}_eur",
                "EUR/yr",
                f"public cost of the {info.label.lower()} lever in the year (EU rows only)",
            )
            for info in LEVERS
        ),
    ),
)

COLUMNS: tuple[Column, ...] = (*CITY_YEAR, *INSTALLATION_YEAR, *EU_YEAR)


def column(table: str, name: str) -> Column:
    """The row of ``name`` in ``table``; KeyError names the table's known columns."""
    for c in COLUMNS:
        if c.table == table and c.name == name:
            return c
    known = ", ".join(c.name for c in COLUMNS if c.table == table)
    raise KeyError(f"no column {name!r} in {table}; known: {known or 'none (unknown table)'}")
