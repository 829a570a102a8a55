"""Compiled loops for the per-citizen arithmetic and per-city grouping, with numpy references.

Each kernel exists twice: a numpy version (the reference, written as the rule reads in
``docs/ODD.md``) and the same loop compiled by numba (``cache=True``, compiled on first use, so
importing ``abm`` does not import numba). Both do the same float32 operations in the same order,
so they agree bit for bit (``tests/test_kernels.py`` checks it on random inputs and on whole
runs). Random draws and transcendental functions (``exp``) stay in numpy in the rules: numpy's
SIMD ``exp`` and the C library's need not agree in the last bit, and each draw site keeps its
stream (``abm.rng``).

The backend is ``numba`` when numba can be imported, else ``numpy``; the environment variable
``GOVSIM_KERNELS=numpy`` or :func:`use_backend` (for tests) selects the reference.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

F32Array = npt.NDArray[np.float32]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
I32Array = npt.NDArray[np.int32]
BACKENDS: tuple[str, ...] = ("numba", "numpy")
ENV_VAR = "GOVSIM_KERNELS"
EMPTY_F32: F32Array = np.zeros(0, dtype=np.float32)
# glibc mallopt: arrays up to 32 MB come from the heap, and up to 128 MB of freed heap is kept
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 32 * 2**20
TRIM_THRESHOLD_BYTES = 128 * 2**20
ALLOCATOR_ENV_VAR = "GOVSIM_MALLOC_TUNING"


# --- the numpy reference ----------------------------------------------------------------------


def _bounded_confidence_numpy(
    support: F32Array,
    epsilon: F32Array,
    first: I32Array,
    count: F32Array,
    mu: np.float32,
    u_partner: F32Array,
    u_active: F32Array,
    active_share: np.float32,
) -> None:
    """Synchronous one-sided Deffuant round in place (empty ``u_active``: everyone takes part)."""
    partner = first + (u_partner * count).astype(first.dtype)
    diff = support[partner] - support
    move = np.abs(diff) < epsilon
    if u_active.size:
        move &= u_active < active_share
    support += mu * diff * move


def _apply_drivers_numpy(
    support: F32Array,
    city: IntArray,
    drift_city: F32Array,
    trust_drift: F32Array,
    dt: np.float32,
    employed: IntArray,
    plant: IntArray,
    job_risk: FloatArray,
    threat_scale: FloatArray,
    job_pull: np.float32,
) -> None:
    """Add ``dt`` times the city and trust drift, subtract employees' job threat, clip to [0, 1]."""
    support += dt * (drift_city[city] + trust_drift)
    risk = (job_risk[plant[employed]] * threat_scale[city[employed]]).astype(np.float32)
    support[employed] -= job_pull * risk
    np.clip(support, 0.0, 1.0, out=support)


def _adopt_numpy(adoption: F32Array, support: F32Array, rate: np.float32) -> None:
    """Adoption grows by ``rate * support * (1 - adoption)`` (in place)."""
    adoption += rate * support * (np.float32(1.0) - adoption)


def _participation_logit_numpy(
    trust: F32Array,
    offset: F32Array,
    mode_eff: F32Array,
    city: IntArray,
    intercept: np.float32,
    trust_weight: np.float32,
    mode_weight: np.float32,
    offset_weight: np.float32,
) -> F32Array:
    """The participation logit ``pi0 + pi1*trust + pi2*mode + pi3*offset`` per citizen."""
    return np.asarray(
        intercept + trust_weight * trust + mode_weight * mode_eff[city] + offset_weight * offset
    )


def _participate_numpy(
    trust: F32Array,
    u: F32Array,
    prob: F32Array,
    mode_eff: F32Array,
    city: IntArray,
    city_start: IntArray,
    city_count: IntArray,
    gain_weight: np.float32,
) -> FloatArray:
    """Participants (``u < prob``) gain trust; returns the number of participants per city.

    Citizens are sorted by city: ``city_start``/``city_count`` give each city's block.
    """
    part = u < prob
    gain = gain_weight * (mode_eff[city] / np.float32(2.0))
    trust += gain * part
    np.clip(trust, 0.0, 1.0, out=trust)
    return np.bincount(city, weights=part, minlength=city_start.size)


def _assign_plants_numpy(
    key: FloatArray,
    city: IntArray,
    city_start: IntArray,
    city_count: IntArray,
    hi: FloatArray,
    p_city: IntArray,
    order: IntArray,
) -> IntArray:
    """Employer of each citizen: the plant whose interval on the axis ``city + u`` holds its key.

    ``hi`` (sorted) ends each plant's interval, plants sorted by city (``p_city``; ``order``
    maps back to plant indices); -1 where the key falls in no interval of the own city.
    """
    slot = np.searchsorted(hi, key, side="right")
    slot_ok = slot < hi.size
    slot_c = np.minimum(slot, hi.size - 1)
    employed = slot_ok & (p_city[slot_c] == city)
    return np.asarray(np.where(employed, order[slot_c], -1).astype(np.int64))


def _rank_within_numpy(group: IntArray) -> IntArray:
    """0, 1, 2 ... for the entries of each group (a city, a country), in their given order."""
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    first = np.searchsorted(sorted_group, sorted_group, side="left")
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - first
    return rank


def _cumsum_within_numpy(group: IntArray, values: FloatArray) -> FloatArray:
    """Running total of ``values`` within each group, in order (inclusive).

    One running total over the entries sorted by group (stable), less that total just before
    the group's first entry: the compiled loop does the same additions in the same order.
    """
    order = np.argsort(group, kind="stable")
    v = values[order]
    cs = np.cumsum(v)
    sorted_group = group[order]
    first = np.searchsorted(sorted_group, sorted_group, side="left")
    before = np.where(first > 0, cs[np.maximum(first - 1, 0)], 0.0)
    out = np.empty(group.size)
    out[order] = cs - before
    return out


def _city_sums_numpy(
    x: F32Array, city_start: IntArray, squares: bool
) -> tuple[FloatArray, FloatArray]:
    """Per city block, the float64 sum of ``x`` and (if ``squares``, else zeros) of ``x**2``."""
    x64 = x.astype(np.float64)
    s1 = np.add.reduceat(x64, city_start)
    s2 = np.add.reduceat(x64 * x64, city_start) if squares else np.zeros(city_start.size)
    return s1, s2


def _sme_cash_flow_numpy(
    know_how: FloatArray,
    cash: FloatArray,
    revenue: FloatArray,
    debt: FloatArray,
    active: npt.NDArray[np.bool_],
    know_how_gain: float,
    margin_share: float,
    interest_rate: float,
    dt: float,
) -> None:
    """SMEs' know-how gain and the step's operating cash flow of active firms (in place).

    ``know_how += gain * (1 - know_how)``; ``cash += active * (m * revenue - r * debt) * dt``.
    """
    know_how += know_how_gain * (1.0 - know_how)
    cash += active * (margin_share * revenue - interest_rate * debt) * dt


def _sme_settle_numpy(
    cash: FloatArray,
    debt: FloatArray,
    revenue: FloatArray,
    active: npt.NDArray[np.bool_],
    status: IntArray,
    default_ratio: float,
    defaulted: int,
) -> None:
    """Borrow to cover negative cash, repay from positive cash, default over-indebted firms."""
    borrow = np.maximum(-cash, 0.0)
    debt += borrow
    cash += borrow
    repay = np.minimum(cash, debt)
    debt -= repay
    cash -= repay
    status[active & (debt > default_ratio * revenue)] = defaulted


NUMPY = SimpleNamespace(
    bounded_confidence=_bounded_confidence_numpy,
    apply_drivers=_apply_drivers_numpy,
    adopt=_adopt_numpy,
    participation_logit=_participation_logit_numpy,
    participate=_participate_numpy,
    assign_plants=_assign_plants_numpy,
    rank_within=_rank_within_numpy,
    cumsum_within=_cumsum_within_numpy,
    city_sums=_city_sums_numpy,
    sme_cash_flow=_sme_cash_flow_numpy,
    sme_settle=_sme_settle_numpy,
)


# --- the compiled loops -----------------------------------------------------------------------


def _bounded_confidence_loop(
    support: F32Array,
    epsilon: F32Array,
    first: I32Array,
    count: F32Array,
    mu: np.float32,
    u_partner: F32Array,
    u_active: F32Array,
    active_share: np.float32,
) -> None:
    # branch-free as in numpy (``+ mu * diff * move``): a random branch would mispredict
    old = support.copy()
    if u_active.size:
        for i in range(old.size):
            diff = old[first[i] + np.int32(u_partner[i] * count[i])] - old[i]
            move = (abs(diff) < epsilon[i]) & (u_active[i] < active_share)
            support[i] = old[i] + mu * diff * np.float32(move)
    else:
        for i in range(old.size):
            diff = old[first[i] + np.int32(u_partner[i] * count[i])] - old[i]
            support[i] = old[i] + mu * diff * np.float32(abs(diff) < epsilon[i])


def _apply_drivers_loop(
    support: F32Array,
    city: IntArray,
    drift_city: F32Array,
    trust_drift: F32Array,
    dt: np.float32,
    employed: IntArray,
    plant: IntArray,
    job_risk: FloatArray,
    threat_scale: FloatArray,
    job_pull: np.float32,
) -> None:
    for i in range(support.size):
        support[i] += dt * (drift_city[city[i]] + trust_drift[i])
    for k in range(employed.size):
        i = employed[k]
        support[i] -= job_pull * np.float32(job_risk[plant[i]] * threat_scale[city[i]])
    zero, one = np.float32(0.0), np.float32(1.0)
    for i in range(support.size):
        # numpy's clip: max with 0 then min with 1 (-0.0 becomes 0.0; NaN passes through)
        x = support[i]
        if x > zero:
            if not x < one:
                support[i] = one
        elif x == x:
            support[i] = zero


def _adopt_loop(adoption: F32Array, support: F32Array, rate: np.float32) -> None:
    one = np.float32(1.0)
    for i in range(adoption.size):
        adoption[i] += rate * support[i] * (one - adoption[i])


def _participation_logit_loop(
    trust: F32Array,
    offset: F32Array,
    mode_eff: F32Array,
    city: IntArray,
    intercept: np.float32,
    trust_weight: np.float32,
    mode_weight: np.float32,
    offset_weight: np.float32,
) -> F32Array:
    out = np.empty(trust.size, dtype=np.float32)
    for i in range(trust.size):
        out[i] = (
            intercept
            + trust_weight * trust[i]
            + mode_weight * mode_eff[city[i]]
            + offset_weight * offset[i]
        )
    return out


def _participate_loop(
    trust: F32Array,
    u: F32Array,
    prob: F32Array,
    mode_eff: F32Array,
    city: IntArray,
    city_start: IntArray,
    city_count: IntArray,
    gain_weight: np.float32,
) -> FloatArray:
    counts = np.zeros(city_start.size)
    zero, one, half = np.float32(0.0), np.float32(1.0), np.float32(2.0)
    for c in range(city_start.size):
        gain = gain_weight * (mode_eff[c] / half)
        n_part = 0
        for i in range(city_start[c], city_start[c] + city_count[c]):
            part = u[i] < prob[i]
            x = trust[i] + gain * np.float32(part)
            n_part += part
            if x > zero:
                trust[i] = x if x < one else one
            else:
                trust[i] = x if x != x else zero
        counts[c] = n_part
    return counts


def _assign_plants_loop(
    key: FloatArray,
    city: IntArray,
    city_start: IntArray,
    city_count: IntArray,
    hi: FloatArray,
    p_city: IntArray,
    order: IntArray,
) -> IntArray:
    # keys of city c lie in [c, c + 1): every hi <= c is below them, so the count of hi <= key
    # (numpy's searchsorted, side right) starts at the count of hi <= c and grows by a few plants
    plant = np.full(key.size, -1, dtype=np.int64)
    first = np.searchsorted(hi, np.arange(city_start.size).astype(np.float64), side="right")
    for c in range(city_start.size):
        for i in range(city_start[c], city_start[c] + city_count[c]):
            j = first[c]
            while j < hi.size and hi[j] <= key[i]:
                j += 1
            if j < hi.size and p_city[j] == city[i]:
                plant[i] = order[j]
    return plant


def _rank_within_loop(group: IntArray) -> IntArray:
    rank = np.empty(group.size, dtype=np.int64)
    if group.size == 0:
        return rank
    seen = np.zeros(group.max() + 1, dtype=np.int64)
    for i in range(group.size):
        rank[i] = seen[group[i]]
        seen[group[i]] += 1
    return rank


def _cumsum_within_loop(group: IntArray, values: FloatArray) -> FloatArray:
    # a counting sort gives numpy's stable order by group; then numpy's running total over that
    # order (cs[0] = v[0], cs[k] = cs[k-1] + v[k]) less its value before each group's start
    n = group.size
    out = np.empty(n)
    if n == 0:
        return out
    m = group.max() + 1
    start = np.zeros(m + 1, dtype=np.int64)
    for i in range(n):
        start[group[i] + 1] += 1
    for g in range(m):
        start[g + 1] += start[g]
    fill = start[:m].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[fill[group[i]]] = i
        fill[group[i]] += 1
    cs = np.empty(n)
    cs[0] = values[order[0]]
    for k in range(1, n):
        cs[k] = cs[k - 1] + values[order[k]]
    for k in range(n):
        i = order[k]
        first = start[group[i]]
        out[i] = cs[k] - (cs[first - 1] if first > 0 else 0.0)
    return out


# numpy's pairwise summation (``pairwise_sum`` in numpy/_core/src/umath/loops_utils.h.src),
# which ``np.add.reduce``/``reduceat`` use on contiguous float64: below 8 values a plain loop,
# up to 128 eight running sums combined as a tree, above that halves split at a multiple of 8
PAIRWISE_UNROLL, PAIRWISE_BLOCK = 8, 128


def _pairwise_sum_loop(x: F32Array, lo: int, n: int) -> tuple[float, float]:
    # the sums of x and of x**2 in float64 over x[lo:lo+n], each in numpy's order
    if n < PAIRWISE_UNROLL:
        res = res2 = 0.0
        for i in range(lo, lo + n):
            v = np.float64(x[i])
            res += v
            res2 += v * v
        return res, res2
    if n <= PAIRWISE_BLOCK:
        v0, v1, v2, v3 = (
            np.float64(x[lo]),
            np.float64(x[lo + 1]),
            np.float64(x[lo + 2]),
            np.float64(x[lo + 3]),
        )
        v4, v5, v6, v7 = (
            np.float64(x[lo + 4]),
            np.float64(x[lo + 5]),
            np.float64(x[lo + 6]),
            np.float64(x[lo + 7]),
        )
        r0, r1, r2, r3, r4, r5, r6, r7 = v0, v1, v2, v3, v4, v5, v6, v7
        q0, q1, q2, q3 = v0 * v0, v1 * v1, v2 * v2, v3 * v3
        q4, q5, q6, q7 = v4 * v4, v5 * v5, v6 * v6, v7 * v7
        i = lo + PAIRWISE_UNROLL
        end = lo + n - n % PAIRWISE_UNROLL
        while i < end:
            v0, v1, v2, v3 = (
                np.float64(x[i]),
                np.float64(x[i + 1]),
                np.float64(x[i + 2]),
                np.float64(x[i + 3]),
            )
            v4, v5, v6, v7 = (
                np.float64(x[i + 4]),
                np.float64(x[i + 5]),
                np.float64(x[i + 6]),
                np.float64(x[i + 7]),
            )
            r0 += v0
            r1 += v1
            r2 += v2
            r3 += v3
            r4 += v4
            r5 += v5
            r6 += v6
            r7 += v7
            q0 += v0 * v0
            q1 += v1 * v1
            q2 += v2 * v2
            q3 += v3 * v3
            q4 += v4 * v4
            q5 += v5 * v5
            q6 += v6 * v6
            q7 += v7 * v7
            i += PAIRWISE_UNROLL
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        res2 = ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7))
        while i < lo + n:
            v = np.float64(x[i])
            res += v
            res2 += v * v
            i += 1
        return res, res2
    half = n // 2
    half -= half % PAIRWISE_UNROLL
    a1, a2 = _pairwise_sum(x, lo, half)
    b1, b2 = _pairwise_sum(x, lo + half, n - half)
    return a1 + b1, a2 + b2


def _city_sums_loop(
    x: F32Array, city_start: IntArray, squares: bool
) -> tuple[FloatArray, FloatArray]:
    # reduceat: the block's first value, plus the pairwise sum of the rest; an empty block
    # (start >= next start) is its first value alone, as numpy defines it
    s1 = np.zeros(city_start.size)
    s2 = np.zeros(city_start.size)
    for k in range(city_start.size):
        lo = city_start[k]
        hi = city_start[k + 1] if k + 1 < city_start.size else x.size
        v = np.float64(x[lo])
        s1[k], s2[k] = v, v * v
        if hi - lo > 1:
            rest1, rest2 = _pairwise_sum(x, lo + 1, hi - lo - 1)
            s1[k] += rest1
            s2[k] += rest2
    if not squares:
        s2[:] = 0.0
    return s1, s2


def _sme_cash_flow_loop(
    know_how: FloatArray,
    cash: FloatArray,
    revenue: FloatArray,
    debt: FloatArray,
    active: npt.NDArray[np.bool_],
    know_how_gain: float,
    margin_share: float,
    interest_rate: float,
    dt: float,
) -> None:
    for i in range(cash.size):
        know_how[i] += know_how_gain * (1.0 - know_how[i])
        a = 1.0 if active[i] else 0.0  # numpy multiplies by the boolean as 1.0 or 0.0
        cash[i] += a * (margin_share * revenue[i] - interest_rate * debt[i]) * dt


def _sme_settle_loop(
    cash: FloatArray,
    debt: FloatArray,
    revenue: FloatArray,
    active: npt.NDArray[np.bool_],
    status: IntArray,
    default_ratio: float,
    defaulted: int,
) -> None:
    for i in range(cash.size):
        # numpy's maximum / minimum: the first argument unless the second is larger / smaller
        # (so -0.0 against 0.0 stays -0.0, and NaN passes through)
        b = -cash[i]
        if b < 0.0:
            b = 0.0
        debt[i] += b
        cash[i] += b
        c = cash[i]
        d = debt[i]
        repay = d if (d < c or d != d) else c
        debt[i] = d - repay
        cash[i] = c - repay
        if active[i] and debt[i] > default_ratio * revenue[i]:
            status[i] = defaulted


_pairwise_sum: Any = _pairwise_sum_loop  # replaced by its compiled version in _compile

_COMPILED: SimpleNamespace | None = None


def _compile() -> SimpleNamespace:
    """numba-compile the loops (once per process; machine code cached on disk by numba)."""
    global _COMPILED
    if _COMPILED is None:
        import numba

        def jit(fn: Callable[..., Any]) -> Any:
            return numba.njit(cache=True, nogil=True, boundscheck=False)(fn)

        # the recursive sum is looked up by its module-level name from the compiled loops
        global _pairwise_sum
        _pairwise_sum = jit(_pairwise_sum_loop)

        _COMPILED = SimpleNamespace(
            bounded_confidence=jit(_bounded_confidence_loop),
            apply_drivers=jit(_apply_drivers_loop),
            adopt=jit(_adopt_loop),
            participation_logit=jit(_participation_logit_loop),
            participate=jit(_participate_loop),
            assign_plants=jit(_assign_plants_loop),
            rank_within=jit(_rank_within_loop),
            cumsum_within=jit(_cumsum_within_loop),
            city_sums=jit(_city_sums_loop),
            sme_cash_flow=jit(_sme_cash_flow_loop),
            sme_settle=jit(_sme_settle_loop),
        )
    return _COMPILED


# --- backend choice ---------------------------------------------------------------------------


def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _default_backend() -> str:
    """``$GOVSIM_KERNELS`` if set (checked), else numba when it can be imported."""
    chosen = os.environ.get(ENV_VAR, "").strip().lower()
    if chosen:
        if chosen not in BACKENDS:
            raise ValueError(f"{ENV_VAR}={chosen!r}: allowed values are {', '.join(BACKENDS)}")
        return chosen
    return "numba" if _numba_available() else "numpy"


_backend: str | None = None


def backend() -> str:
    """The kernel backend in use: ``numba`` or ``numpy``."""
    global _backend
    if _backend is None:
        _backend = _default_backend()
    return _backend


def kernels() -> SimpleNamespace:
    """The kernel functions of the backend in use."""
    return _compile() if backend() == "numba" else NUMPY


@contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run the enclosed code with kernel backend ``name`` (tests compare the two)."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"unknown kernel backend {name!r}; allowed: {', '.join(BACKENDS)}")
    previous = backend()
    _backend = name
    try:
        yield
    finally:
        _backend = previous


# --- the allocator ----------------------------------------------------------------------------

_allocator_tuned = False


def keep_freed_memory() -> bool:
    """Let glibc reuse freed array memory instead of returning it to the OS (once per process).

    A step allocates many short-lived arrays of 0.1-8 MB (one float per citizen). glibc serves
    blocks above its mmap threshold (128 kB at first) with fresh pages and returns them on free,
    so every such temporary costs a page fault per 4 kB; at the calibration set-up that was about
    5,400 of a run's 9,400 minor faults. Raising the thresholds keeps that memory for reuse. Numbers
    do not change; peak memory rises by at most the trim threshold. No-op off glibc or with
    ``GOVSIM_MALLOC_TUNING=0``; returns whether the setting was applied.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return True
    if not sys.platform.startswith("linux") or os.environ.get(ALLOCATOR_ENV_VAR, "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    ok = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and ok
    _allocator_tuned = ok
    return ok
