"""Industrial decarbonisation at reinvestment points (domain §3.5).

Plants compare routes only at reinvestment points (every ~20 years; MPP ST-STSM). For each route
allowed from the current one, ``NPV = sum_t CF_t/(1+r)^t - capex*(1 - subsidy)`` with
``CF = Q*(price + green premium - opex - (E - FA)*P_EUA)`` (Steel-IQ), ``r`` = discount rate plus
the policy-uncertainty premium ``pi_unc``; the plant switches if the best route beats staying
and equity covers ``equity_share`` of the net capex, otherwise it relines or (if losses pile
up) closes. Switches come online after ``construction_years``. The Innovation-Fund-type
instrument funds switches cheapest-per-tonne first; national governments give aid to
national-asset plants and keep them open (``omega_econ``). Output leaks abroad when the carbon
cost is not passed on.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from abm.rules import industry_demand, industry_imports, industry_supply
from abm.rules import industry_tech as it

if TYPE_CHECKING:
    from abm.config import Parameters
    from abm.model import GovernanceModel

STEEL = it.SECTOR_INDEX["steel"]
EAF_ROUTES = np.array([t.sector == "steel" and "EAF" in t.name for t in it.TECHNOLOGIES])


def energy_prices(
    m: GovernanceModel, country: np.ndarray, year: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Non-household electricity and gas prices (EUR/MWh) per plant country and year.

    Recorded years (``industry_tech.ENERGY_PRICE_YEARS``, ``abm/data/energy_prices.csv``) take
    the country's annual price (years before the record its first year); later years move
    linearly from the last record to the long-run EU level plus ``energy_price_gap_persistence``
    of the country's last gap to the reference price, reached in
    ``energy_price_convergence_year``. Years lie along a leading axis, as in ``_opex``.
    """
    p = m.params
    nat = m.nations
    y = np.floor(np.asarray(year, dtype=float))
    first = float(it.ENERGY_PRICE_YEARS[0])
    last = float(it.ENERGY_PRICE_YEARS[-1])
    col = (np.clip(y, first, last) - first).astype(np.int64)
    toward = np.clip((y - last) / max(p.energy_price_convergence_year - last, 1.0), 0.0, 1.0)
    out = []
    for table, ref, longrun in (
        (
            nat.electricity_price_recorded,
            p.electricity_price_reference_eur_per_mwh,
            p.electricity_price_longrun_eur_per_mwh,
        ),
        (
            nat.gas_price_recorded,
            p.gas_price_reference_eur_per_mwh,
            p.gas_price_longrun_eur_per_mwh,
        ),
    ):
        # per nation, then to the plants: the same element-wise arithmetic on 30 rows, not n
        recorded = table[:, col].T if col.ndim else table[:, col]
        end = table[:, -1]
        target = longrun + p.energy_price_gap_persistence * (end - ref)
        path = end + np.multiply.outer(toward, target - end)
        by_nation = np.where(_per_year(y > last), path, recorded)
        out.append(np.asarray(by_nation[..., country]))
    return out[0], out[1]


def _energy_cost_change(
    m: GovernanceModel, tech: np.ndarray, year: float | np.ndarray, country: np.ndarray | None
) -> np.ndarray | float:
    """Opex change per tonne from energy prices away from the reference the route costs embed.

    ``country`` None (a route compared in the abstract) prices energy at the reference: 0.
    """
    if country is None:
        return 0.0
    p = m.params
    electricity, gas = energy_prices(m, country, year)
    return np.asarray(
        it.ELECTRICITY_MWH_PER_T[tech] * (electricity - p.electricity_price_reference_eur_per_mwh)
        + it.GAS_MWH_PER_T[tech] * (gas - p.gas_price_reference_eur_per_mwh)
    )


def _opex(
    m: GovernanceModel,
    tech: np.ndarray,
    year: float | np.ndarray,
    country: np.ndarray | None = None,
) -> np.ndarray:
    """Operating cost per tonne (excl. carbon): energy at the country's prices, R&I premia."""
    p = m.params
    lv = m.levers
    years = np.maximum(np.asarray(year, dtype=float) - 2025.0, 0.0)
    learning = (
        1.0
        - p.clean_cost_learning_per_year
        * (1.0 + p.lever_rni_learning_boost * lv.research_innovation)
    ) ** years
    h2 = (
        p.hydrogen_premium_eur_per_t
        * learning
        * (1.0 - p.lever_rni_clean_cost_cut * lv.research_innovation)
    )
    scrap = (
        p.scrap_premium_eur_per_t
        * (1.0 - p.lever_rni_scrap_premium_cut * lv.research_innovation)
        * (1.0 + p.scrap_price_tightness_slope * scrap_tightness(m))
    )
    return np.asarray(
        it.OPEX[tech]
        + it.USES_H2[tech] * np.multiply.outer(h2, np.ones(tech.shape))
        + it.USES_SCRAP[tech] * scrap
        + _energy_cost_change(m, tech, year, country)
    )


def _route_in_use(m: GovernanceModel) -> np.ndarray:
    """Each open plant's route, or the route it is building (the one its inputs are for)."""
    inst = m.installations
    return np.asarray(np.where(inst.pending_tech >= 0, inst.pending_tech, inst.tech))


def scrap_headroom(m: GovernanceModel) -> tuple[float, float]:
    """Steel capacity on scrap routes beyond the start (used) and the supply limit on it (Mt/yr).

    The limit is a share of the modelled steel capacity, growing each year as scrap arisings
    grow (the scrap the EU exports today plus new obsolete scrap).
    """
    inst = m.installations
    p = m.params
    steel = inst.sector == STEEL
    start = float((inst.capacity_mt * (steel & it.USES_SCRAP[inst.start_tech])).sum())
    now = float((inst.capacity_mt * (inst.open & it.USES_SCRAP[_route_in_use(m)])).sum())
    total = float((inst.capacity_mt * steel).sum())
    years = max(m.year - it.CBAM_FACTOR_YEARS[0], 0.0)
    limit = total * (p.scrap_headroom_share_2025 + p.scrap_supply_growth_share_per_year * years)
    return max(now - start, 0.0), limit


def scrap_tightness(m: GovernanceModel) -> float:
    """Share of the scrap headroom in use (0 at the start, 1 when the supply limit binds)."""
    used, limit = scrap_headroom(m)
    return float(np.clip(used / max(limit, 1e-9), 0.0, 1.0))


def ccs_headroom(m: GovernanceModel) -> tuple[float, float]:
    """CO2 stored by plants on capture routes and the transport and storage capacity (t/yr).

    Capacity opens in 2026, grows linearly to ``ccs_storage_share_2030`` of the plants'
    start-year emissions in 2030 and to ``ccs_storage_share_2050`` in 2050 (ramp-up).
    """
    inst = m.installations
    p = m.params
    route = _route_in_use(m)
    full = inst.capacity_mt * p.full_utilisation * 1e6
    captured = full * (it.CONVENTIONAL_INTENSITY_BY_SECTOR[inst.sector] - it.INTENSITY[route])
    stored = float((captured * (inst.open & it.STORES_CO2[route])).sum())
    start = float((full * it.INTENSITY[inst.start_tech] * (inst.entry_year < m.year)).sum())
    y = m.year
    first = float(it.CBAM_FIRST_YEAR)  # Porthos / Northern Lights open to industry from 2026
    share = np.interp(
        y, [first, 2030.0, 2050.0], [0.0, p.ccs_storage_share_2030, p.ccs_storage_share_2050]
    )
    return stored, start * float(share)


def free_allocation_share(
    year: float | np.ndarray, non_cbam_decline_per_year: float
) -> tuple[np.ndarray, np.ndarray]:
    """Free-allocation share for CBAM and other sectors in ``year`` (arrays broadcast).

    CBAM sectors follow the legal CBAM factor of each calendar year (97.5% in 2026 to 0 in
    2034; ``industry_tech.CBAM_FACTOR_BY_YEAR``); other sectors lose a fixed share a year. In
    phase 3 (2013-2020, hindcast runs) both get the benchmark times the cross-sectoral
    correction factor (``industry_tech.CSCF_BY_YEAR``; every modelled sector was on the
    carbon-leakage list, so none had the phase-3 decline of non-leakage sectors).
    """
    y = np.asarray(year, dtype=float)
    cscf = np.interp(np.floor(y), it.CSCF_YEARS, it.CSCF)
    cbam = np.interp(np.floor(y), it.CBAM_FACTOR_YEARS, it.CBAM_FACTORS) * cscf
    first = it.CBAM_FACTOR_YEARS[0]
    other = np.clip(1.0 - non_cbam_decline_per_year * np.maximum(y - first, 0.0), 0.0, 1.0) * cscf
    return cbam, other


def free_allocation(p: Parameters, sector: np.ndarray, year: float | np.ndarray) -> np.ndarray:
    """Free allowances per tonne of product by sector (years along a leading axis)."""
    cbam, other = free_allocation_share(year, p.non_cbam_free_decline_per_year)
    share = np.where(
        it.CBAM_BY_SECTOR[sector],
        np.multiply.outer(cbam, np.ones(sector.shape)),
        np.multiply.outer(other, np.ones(sector.shape)),
    )
    return np.asarray(it.BENCHMARK_BY_SECTOR[sector] * share)


def _green_premium(m: GovernanceModel, sector: np.ndarray, tech: np.ndarray) -> np.ndarray:
    """Premium per tonne a clean route earns on the green share of its market (§3.8)."""
    p = m.params
    public = np.where(
        sector == STEEL,
        p.public_demand_share_steel,
        np.where(
            sector == it.SECTOR_INDEX["cement"],
            p.public_demand_share_cement,
            p.other_public_demand_share,
        ),
    )
    green_share = np.minimum(public * m.green_demand_share * p.lead_market_multiplier, 1.0)
    return np.asarray(it.IS_CLEAN[tech] * p.green_premium_eur_per_t * green_share)


def _per_year(values: float | np.ndarray) -> np.ndarray:
    """A scalar, or a per-year vector as a column that broadcasts against plants."""
    v = np.asarray(values, dtype=float)
    return v[..., None] if v.ndim else v


def export_share(p: Parameters, sector: np.ndarray) -> np.ndarray:
    """Share of each plant's output sold outside the EU (registry, by sector)."""
    by_sector = np.full(len(it.SECTORS), p.export_share_other_sectors)
    by_sector[STEEL] = p.export_share_steel
    by_sector[it.SECTOR_INDEX["cement"]] = p.export_share_cement
    by_sector[it.SECTOR_INDEX["other"]] = p.export_share_aluminium
    by_sector[it.SECTOR_INDEX["battery"]] = p.export_share_other_sectors
    return np.asarray(by_sector[sector])


def cbam_charge(
    m: GovernanceModel,
    sector: np.ndarray,
    carbon_price: float | np.ndarray,
    year: float | np.ndarray,
    free_t_per_t: np.ndarray | None = None,
) -> np.ndarray:
    """CBAM paid per tonne of competing imports (Regulation (EU) 2023/956).

    Importers surrender certificates at the EUA price for the embedded emissions, less the free
    allocation an EU producer of the good still gets (Art. 31), so CBAM phases in exactly as free
    allocation phases out; nothing before the definitive period (2026). Exports get no relief.
    ``free_t_per_t``: ``free_allocation(p, sector, year)`` when the caller has it already.
    """
    p = m.params
    y = np.asarray(year, dtype=float)
    embedded = p.cbam_import_intensity_ratio * it.CONVENTIONAL_INTENSITY_BY_SECTOR[sector]
    if free_t_per_t is None:
        free_t_per_t = free_allocation(p, sector, year)
    uncovered = np.maximum(embedded - free_t_per_t, 0.0)
    live = _per_year(y >= it.CBAM_FIRST_YEAR)
    return np.asarray(
        p.cbam_effectiveness
        * it.CBAM_BY_SECTOR[sector]
        * live
        * uncovered
        * _per_year(carbon_price)
    )


def market_margins(
    m: GovernanceModel,
    sector: np.ndarray,
    tech: np.ndarray,
    carbon_price: float | np.ndarray,
    year: float | np.ndarray,
    country: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Margins per tonne on the EU market and on export markets.

    EU market: world price + CBAM on competing imports + green premium - opex - net carbon
    cost; exports: world price - opex - net carbon cost. ``carbon_price`` and ``year`` may be
    arrays of equal length; the results then have one row per year. ``country`` (per plant)
    prices energy on the country's path; None prices it at the reference.
    """
    free = free_allocation(m.params, sector, year)  # the ETS's and CBAM's (Art. 31) alike
    net = np.maximum(it.INTENSITY[tech] - free, 0.0)
    carbon = net * _per_year(carbon_price)
    base = it.PRICE_BY_SECTOR[sector] - _opex(m, tech, year, country) - carbon
    cbam = cbam_charge(m, sector, carbon_price, year, free)
    eu_market = base + cbam + _green_premium(m, sector, tech)
    return np.asarray(eu_market), np.asarray(base)


def unit_margin(
    m: GovernanceModel,
    sector: np.ndarray,
    tech: np.ndarray,
    carbon_price: float | np.ndarray,
    year: float | np.ndarray,
    country: np.ndarray | None = None,
) -> np.ndarray:
    """Margin per tonne at full output on both markets (export share weights the two)."""
    return _weighted_margin(m, sector, tech, carbon_price, year, country, shed_losses=False)


def _weighted_margin(
    m: GovernanceModel,
    sector: np.ndarray,
    tech: np.ndarray,
    carbon_price: float | np.ndarray,
    year: float | np.ndarray,
    country: np.ndarray | None,
    shed_losses: bool,
) -> np.ndarray:
    """EU and export margins weighted by the export share; loss-making exports cut if asked."""
    eu_market, export = market_margins(m, sector, tech, carbon_price, year, country)
    x = export_share(m.params, sector)
    if shed_losses:
        export = np.maximum(export, 0.0)
    return np.asarray((1.0 - x) * eu_market + x * export)


def planning_margin(
    m: GovernanceModel,
    sector: np.ndarray,
    tech: np.ndarray,
    carbon_price: float | np.ndarray,
    year: float | np.ndarray,
    country: np.ndarray | None = None,
) -> np.ndarray:
    """Margin per tonne of capacity a plant plans with: it stops exporting at a loss."""
    return _weighted_margin(m, sector, tech, carbon_price, year, country, shed_losses=True)


def installation_emissions(m: GovernanceModel) -> np.ndarray:
    """Current emissions per installation, t/yr."""
    inst = m.installations
    return np.asarray(
        inst.open
        * inst.capacity_mt
        * inst.utilisation
        * it.INTENSITY[inst.tech]
        * inst.inventory_scale
        * 1e6
    )


def emission_cuts(m: GovernanceModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each plant's emission cut since the start year by cause (t/yr): route, output, closure.

    Exact split of ``E0 - E`` with ``E = Q * I``: an open plant's ``(Q0 - Q) * I0`` is output
    (negative for growth or a plant that entered later) and ``Q * (I0 - I)`` is its route
    switch. A closed plant's start-year emissions ``Q0 * I0`` split into the share its
    sector's EU demand has lost since the start (output: it would not have sold that open
    either, e.g. refineries as fuel demand falls) and the rest (closure).
    """
    inst = m.installations
    scale = inst.inventory_scale * 1e6
    i0 = it.INTENSITY[inst.start_tech]
    q = inst.capacity_mt * inst.utilisation * inst.open
    ref = inst.ref_production_mt
    route = q * (i0 - it.INTENSITY[inst.tech]) * scale
    lost = 1.0 - np.minimum(industry_demand.demand_factor(m, inst.sector), 1.0) * np.minimum(
        industry_imports.producer_share_factor(m, inst.sector), 1.0
    )
    output = np.where(inst.open, (ref - q) * i0, lost * ref * i0) * scale
    closure = np.where(inst.open, 0.0, (1.0 - lost) * ref * i0) * scale
    return np.asarray(route), np.asarray(output), np.asarray(closure)


def jobs_factor(p: Parameters, tech: np.ndarray) -> np.ndarray:
    """Direct jobs of a route relative to its sector's conventional route."""
    return np.asarray(
        np.where(EAF_ROUTES[tech], 1.0 + p.eaf_job_change_share, it.JOBS_FACTOR[tech])
    )


def installation_jobs(m: GovernanceModel) -> np.ndarray:
    """Current direct jobs per installation."""
    inst = m.installations
    p = m.params
    # headcount relative to the route the plant started on, so observed job counts (named
    # sites) hold until the plant changes route
    factor = jobs_factor(p, inst.tech) / jobs_factor(p, inst.start_tech)
    return np.asarray(
        inst.open
        * inst.capacity_mt
        * inst.utilisation
        / p.full_utilisation
        * inst.jobs_per_mt
        * factor
    )


# per model: announced carbon price by (year, predictable-pathway lever), so that each year's
# review prices only the one year its horizon adds
_PRICE_MEMO: weakref.WeakKeyDictionary[GovernanceModel, dict[tuple[float, float], float]] = (
    weakref.WeakKeyDictionary()
)


def _expected_prices(m: GovernanceModel, years: np.ndarray) -> np.ndarray:
    """``m.eu.expected_carbon_price`` for each of ``years``, remembered across a run's reviews.

    The price depends only on the year, the run's parameters and the predictable-pathway
    lever, so a remembered value is the value (the scalar path is kept, not a vectorised one:
    numpy's SIMD ``power`` need not match the scalar one in the last bit).
    """
    memo = _PRICE_MEMO.setdefault(m, {})
    lever = float(m.levers.predictable_pathway_2040)
    out = np.empty(years.size)
    for k, y in enumerate(years.tolist()):
        key = (y, lever)
        price = memo.get(key)
        if price is None:
            price = memo[key] = m.eu.expected_carbon_price(y)
        out[k] = price
    return out


_ROUTES = np.arange(it.N_TECH)


def _repeat_block(values: np.ndarray, times: int) -> np.ndarray:
    """``values`` repeated ``times`` times end to end (``np.tile`` of a 1-d array, cheaper)."""
    return np.asarray(np.broadcast_to(values, (times, values.size)).reshape(-1))


def _npv_per_option(
    m: GovernanceModel, plants: np.ndarray, options: np.ndarray, rate: float
) -> np.ndarray:
    """NPV (EUR) of running each option from the end of construction to the horizon.

    A switch first waits ``permitting_lead_years`` for its permit, running its current route;
    a route needing a large grid connection then earns nothing until the connection is there
    (``grid_connection_lead_years`` after construction). All options and the current route are
    priced in one call, as (years, options x plants); each option's discounting stays one
    (years,) @ (years, plants) product, so the sums are the same as option by option.
    """
    p = m.params
    inst = m.installations
    n_opt = options.shape[1]
    sector = inst.sector[plants]
    tech = inst.tech[plants]
    start = p.construction_years
    horizon = p.asset_life_years
    years = np.arange(start, horizon) + m.year
    disc = (1.0 + rate) ** -(years - m.year)
    prices = _expected_prices(m, years)
    q = inst.capacity_mt[plants] * 1e6 * p.full_utilisation
    shock = inst.margin_shock_eur_per_t[plants][None, :]
    shock_year = inst.margin_shock_year[plants][None, :]
    country = inst.country[plants]
    shocked = shock * (years[:, None] >= shock_year)  # case margin shocks
    # the options (option-major) and, last, the current route, all in one margin call
    routes = np.concatenate([options.T.ravel(), tech])
    every = planning_margin(
        m,
        _repeat_block(sector, n_opt + 1),
        routes,
        prices,
        years,
        _repeat_block(country, n_opt + 1),
    ).reshape(years.size, n_opt + 1, plants.size)
    current = every[:, n_opt] - shocked
    margins = every[:, :n_opt].transpose(1, 0, 2) - shocked  # (options, years, plants)
    opts = options.T
    switching = opts != tech[None, :]
    waits = it.USES_GRID[opts] & switching
    # while the permit is pending the plant runs its current route; the build follows
    permit = p.permitting_lead_years * switching
    online = m.year + start + p.grid_connection_lead_years * waits + permit
    permitting = years[None, :, None] < (m.year + start + permit)[:, None, :]
    margins = np.where(
        permitting, current[None], margins * (years[None, :, None] >= online[:, None, :])
    )
    # C order, so that each option's (years, plants) slice is the contiguous block BLAS had
    return np.asarray((disc @ np.ascontiguousarray(margins)) * q).T


def decide_investments(m: GovernanceModel) -> None:
    """Yearly: commission pending switches, set output, decide at reinvestment points."""
    inst = m.installations
    p = m.params
    rng = m.streams["industry"]
    n = inst.n
    noise = rng.lognormal(0.0, p.capex_noise_log_sd, (n, it.N_TECH))
    spread = p.reinvestment_timing_spread_years
    cycle_noise = rng.uniform(-spread, spread, n)
    if not m.is_year_start:
        return
    # plants entering this year (case cities, e.g. a gigafactory) start operating
    inst.open |= inst.entry_year == m.year
    # commission switches whose construction is over
    online = inst.open & (inst.pending_tech >= 0) & (inst.pending_online_year <= m.year)
    inst.tech[online] = inst.pending_tech[online]
    inst.pending_tech[online] = -1
    inst.pending_online_year[online] = np.inf
    inst.cum_loss_eur[online] = 0.0  # the old route's losses are written off with the project
    # output and losses this year, per market: a plant sheds the sales whose margin is negative
    # (leakage), on export markets first once CBAM protects the EU market
    price = it.PRICE_BY_SECTOR[inst.sector]
    shock = inst.margin_shock_eur_per_t * (m.year >= inst.margin_shock_year)
    eu_m, ex_m = market_margins(
        m, inst.sector, inst.tech, m.eu.carbon_price_eur_per_t, m.year, inst.country
    )
    eu_m, ex_m = eu_m - shock, ex_m - shock
    # the margins a plant's output is sized to: the start year's, or the year its new route
    # came online or it entered (short-run supply response, industry_supply)
    reset = online | (inst.entry_year == m.year) | (m.year == m.config.start_year)
    inst.ref_margin_eu_eur_per_t[reset] = eu_m[reset]
    inst.ref_margin_export_eur_per_t[reset] = ex_m[reset]
    x = export_share(p, inst.sector)
    eu_u = np.clip(1.0 + p.leakage_elasticity * np.minimum(eu_m, 0.0) / price, 0.0, 1.0)
    # EU demand below its peak, or above the start output where the fleet had spare capacity
    eu_u = eu_u * industry_demand.demand_factor(m, inst.sector)
    eu_u = eu_u * industry_imports.producer_share_factor(m, inst.sector)  # imports' share
    kept_eu = industry_supply.supply_factor(p, inst.sector, eu_m, inst.ref_margin_eu_eur_per_t)
    kept_ex = industry_supply.supply_factor(p, inst.sector, ex_m, inst.ref_margin_export_eur_per_t)
    # idled lines restart slowly when the margins recover (persistent curtailment)
    kept_eu, kept_ex, inst.running_share = industry_supply.restart_limited(
        p, kept_eu, kept_ex, x, inst.running_share, reset
    )
    eu_u = eu_u * kept_eu
    ex_u = np.clip(1.0 + p.leakage_elasticity * np.minimum(ex_m, 0.0) / price, 0.0, 1.0)
    ex_u = ex_u * kept_ex
    wanted = p.full_utilisation * ((1.0 - x) * eu_u + x * ex_u)
    ceiling = p.full_utilisation * industry_demand.headroom(p)[inst.sector]  # <= nameplate
    inst.utilisation = np.clip(wanted, p.min_utilisation, ceiling)
    # output kept above what the markets want (the utilisation floor) is sold in the EU
    profit = (
        p.full_utilisation * ((1.0 - x) * eu_u * eu_m + x * ex_u * ex_m)
        + (inst.utilisation - wanted) * eu_m
    ) * (inst.capacity_mt * 1e6)
    margin = profit / np.maximum(inst.capacity_mt * 1e6 * inst.utilisation, 1e-9)
    if m.year == m.config.start_year:  # reference output for the cut decomposition
        inst.ref_production_mt = inst.capacity_mt * inst.utilisation * inst.open
    inst.equity_eur += np.maximum(profit, 0.0) * p.equity_retention_share * inst.open
    inst.cum_loss_eur = (
        np.where(profit < 0, inst.cum_loss_eur - profit, inst.cum_loss_eur * p.loss_memory_per_year)
        * inst.open
    )
    # jobs at risk: negative margins, or an announced move to a leaner EAF route
    pending_eaf = (inst.pending_tech >= 0) & EAF_ROUTES[np.maximum(inst.pending_tech, 0)]
    m.job_risk = np.clip(
        -margin / price * p.job_risk_per_margin_loss, 0.0, 1.0
    ) * inst.open + pending_eaf * abs(p.eaf_job_change_share)
    # closures, unless the state protects a national asset by covering its losses
    threshold = (
        p.close_loss_multiple
        * it.CAPEX[inst.tech].clip(min=p.close_capex_floor_eur_per_t)
        * inst.capacity_mt
        * 1e6
    )
    # a plant building its new route holds on; others fail when losses pass the threshold
    failing = inst.open & (inst.pending_tech < 0) & (inst.cum_loss_eur > threshold)
    protect = failing & inst.national_asset & m.national.rescues(inst.country)
    aid = np.where(protect, inst.cum_loss_eur, 0.0)
    inst.aid_eur += aid
    m.national.pay_aid(inst.country, aid)
    inst.cum_loss_eur[protect] = 0.0
    failing &= ~protect
    # reinvestment points; a plant whose losses pile up reviews its route early, and a failing
    # plant reviews once more before it closes
    distressed = inst.cum_loss_eur > p.distress_review_loss_share * threshold
    deciding = np.flatnonzero(
        inst.open & (inst.pending_tech < 0) & ((inst.next_decision_year <= m.year) | distressed)
    )
    if deciding.size:
        _review_routes(m, deciding, noise, cycle_noise)
    # closures: failing plants that found no route to switch to
    inst.open &= ~(failing & (inst.pending_tech < 0))


def _review_routes(
    m: GovernanceModel, deciding: np.ndarray, noise: np.ndarray, cycle_noise: np.ndarray
) -> None:
    """Compare routes for the ``deciding`` plants; switch, postpone or reline (Steel-IQ NPV)."""
    inst = m.installations
    p = m.params
    lv = m.levers
    cur = inst.tech[deciding]
    options = np.broadcast_to(_ROUTES, (deciding.size, it.N_TECH))  # read-only view
    # routes not yet ready at scale are not on offer (readiness years)
    ready = m.year >= it.AVAILABLE_FROM
    allowed = it.ALLOWED[cur] & (ready[None, :] | (options == cur[:, None]))
    r = p.discount_rate + p.policy_uncertainty_premium_pp / 100.0 * (
        1.0 - p.lever_pathway_uncertainty_cut * lv.predictable_pathway_2040
    )
    # evaluate only allowed routes; others get -inf
    npv = np.full(options.shape, -np.inf)
    cols = np.flatnonzero(allowed.any(axis=0))
    npv[:, cols] = _npv_per_option(m, deciding, options[:, cols], r)
    npv[~allowed] = -np.inf
    q_cap = inst.capacity_mt[deciding][:, None] * 1e6
    capex = it.SWITCH_CAPEX[cur] * q_cap * noise[deciding]
    switching = options != cur[:, None]
    # state aid for national assets, within the state-aid framework's ceiling
    aid_share = m.national.capex_aid_share(deciding)
    pressure = (
        inst.kappa[deciding]
        * m.cities.commitment[inst.city[deciding]]
        * (p.city_pressure_without_dialogue + m.cities.industry_dialogue[inst.city[deciding]])
    )
    fund_share = p.industry_fund_max_capex_share
    clean_switch = switching & it.IS_CLEAN[None, :]
    value = npv - capex * (1.0 - np.where(switching, aid_share[:, None], 0.0))
    value = value + clean_switch * capex * p.city_pressure_capex_share * pressure[:, None]
    # first pass with the fund's grant expected; rank candidates by grant per tonne abated
    with_fund = value + clean_switch * capex * fund_share
    best = np.argmax(with_fund, axis=1)
    rows = np.arange(deciding.size)
    cand = (best != cur) & np.isfinite(with_fund[rows, best])
    abated = (it.INTENSITY[cur] - it.INTENSITY[best]) * q_cap[:, 0] * p.full_utilisation
    grant = np.where(cand & it.IS_CLEAN[best], capex[rows, best] * fund_share, 0.0)
    per_t = np.where(abated > 0, grant / np.maximum(abated, 1e-9), np.inf)
    order = np.argsort(per_t, kind="stable")
    applying = grant[order] > 0
    # the industry fund first, then the Competitiveness Fund (from 2028), in one ranking
    pots = m.eu.remaining_eur("industry") + m.eu.remaining_eur("competitiveness")
    awarded_sorted = applying & (np.cumsum(np.where(applying, grant[order], 0.0)) <= pots)
    awarded = np.zeros(deciding.size, dtype=bool)
    awarded[order[awarded_sorted]] = True
    final = value.copy()
    final[awarded, best[awarded]] += grant[awarded]
    _limit_supply(m, deciding, cur, final)
    choice = np.argmax(final, axis=1)
    gain = final[rows, choice] - final[rows, cur]
    net_capex = capex[rows, choice] * (1.0 - aid_share) - np.where(
        awarded & (choice == best), grant, 0.0
    )
    # own equity, or outside equity (parent, investors) for a switch worth its net capex
    can_pay = (inst.equity_eur[deciding] >= p.equity_share * net_capex) | (
        gain >= p.outside_equity_profitability_index * net_capex
    )
    switch = (choice != cur) & (gain > 0.0) & can_pay
    postpone = (choice != cur) & (gain > 0.0) & ~can_pay
    got = switch & awarded & (choice == best)
    paid = float(grant[got].sum())  # paid out as the switch is decided
    from_fund = min(paid, max(m.eu.remaining_eur("industry"), 0.0))
    m.eu.award("industry", from_fund)
    m.eu.award("competitiveness", paid - from_fund)
    sw = deciding[switch]
    inst.pending_tech[sw] = choice[switch]
    grid_wait = p.grid_connection_lead_years * it.USES_GRID[choice[switch]]
    build = p.permitting_lead_years + p.construction_years  # a permit first, then the build
    inst.pending_online_year[sw] = m.year + build + grid_wait
    state_aid = (aid_share * capex[rows, choice])[switch]
    inst.aid_eur[sw] += grant[switch] * (awarded & (choice == best))[switch] + state_aid
    m.national.pay_aid(inst.country[sw], state_aid)
    # the plant's own share of the capex, as far as its equity goes; outside equity the rest
    own = np.minimum(p.equity_share * net_capex[switch], np.maximum(inst.equity_eur[sw], 0.0))
    inst.equity_eur[sw] -= own
    inst.next_decision_year[sw] = m.year + build + p.investment_cycle_years + cycle_noise[sw]
    inst.next_decision_year[deciding[postpone]] = m.year + 1.0
    # an early review that keeps the route changes nothing; a due one relines
    due = inst.next_decision_year[deciding] <= m.year
    stay = deciding[~switch & ~postpone & due]
    inst.next_decision_year[stay] = m.year + p.investment_cycle_years + cycle_noise[stay]
    # relining the current route is paid partly from equity too (never below zero)
    reline = it.CAPEX[inst.tech[stay]] * inst.capacity_mt[stay] * 1e6 * p.equity_share
    inst.equity_eur[stay] = np.maximum(inst.equity_eur[stay] - reline, 0.0)


def _limit_supply(
    m: GovernanceModel, deciding: np.ndarray, cur: np.ndarray, value: np.ndarray
) -> None:
    """Take scrap and CCS routes off the table for plants beyond the supply limits (in place).

    New users of scrap (capacity) and of CO2 storage (tonnes captured) are served in order of
    the value they gain, until this year's headroom is used; the others choose again without
    those routes.
    """
    inst = m.installations
    p = m.params
    rows = np.arange(deciding.size)
    q = inst.capacity_mt[deciding]
    limits = (
        (it.USES_SCRAP, scrap_headroom(m), q),
        (
            it.STORES_CO2,
            ccs_headroom(m),
            q[:, None]
            * p.full_utilisation
            * 1e6
            * (
                it.CONVENTIONAL_INTENSITY_BY_SECTOR[inst.sector[deciding]][:, None]
                - it.INTENSITY[None, :]
            ),
        ),
    )
    for uses, (used, limit), need in limits:
        choice = np.argmax(value, axis=1)
        new = uses[choice] & ~uses[cur] & np.isfinite(value[rows, choice])
        amount = need if need.ndim == 1 else need[rows, choice]
        order = np.argsort(-(value[rows, choice] - value[rows, cur]), kind="stable")
        room = max(limit - used, 0.0)
        fits = np.cumsum(np.where(new[order], amount[order], 0.0)) <= room
        refused = np.zeros(deciding.size, dtype=bool)
        refused[order[new[order] & ~fits]] = True
        value[np.ix_(refused, uses)] = -np.inf  # refused plants do not use these routes yet
