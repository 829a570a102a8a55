"""Distances between simulated and observed survey answers that respect each item's n.

Each item contributes its deviance (likelihood-ratio G statistic),
``G = 2 sum_k O_k log(O_k / E_k)``, with ``O_k = n * observed share`` and ``E_k = n * p_k``, the
simulated expected share ``p_k`` smoothed by a pseudo-count of half a respondent per category
(domain §6: multinomial log-likelihood with a pseudo-count). Multi-select options are
independent yes/no answers, each a binomial deviance. An item answered by 62 cities therefore
weighs as 62 answers, not as a census; under a correct model each item's G is about its degrees
of freedom (categories - 1), so the total can be read against the number of fitted categories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from abm.survey import ITEM_BY_ID
from calibration.targets import Target, TargetError, TargetSet

PSEUDO_COUNT = 0.5


def aligned_shares(target: Target, simulated: np.ndarray) -> np.ndarray:
    """The simulated shares reordered to the target's categories (labels must match)."""
    item = ITEM_BY_ID[target.id]
    order = []
    for label in target.categories:
        if label not in item.categories:
            raise TargetError(
                f"{target.file}: target '{target.id}': categories: '{label}' is not an answer "
                f"the model gives; allowed: {', '.join(item.categories)}"
            )
        order.append(item.categories.index(label))
    return np.asarray(simulated, dtype=float)[order]


def _xlogx_ratio(observed: np.ndarray, expected: np.ndarray) -> float:
    mask = observed > 0
    return float(np.sum(observed[mask] * np.log(observed[mask] / expected[mask])))


def item_deviance(target: Target, simulated: np.ndarray) -> float:
    """Deviance G of one item's simulated shares (model category order) against the target."""
    return deviance(target, aligned_shares(target, simulated))


def deviance(target: Target, p: np.ndarray) -> float:
    """Deviance G of shares ``p`` given in the target's category order."""
    n = float(target.n)
    if target.kind == "multi_select":
        total = 0.0
        for obs, sim in zip(target.shares, p, strict=True):
            o = n * np.array([obs, 1.0 - obs])
            e = (n * np.array([sim, 1.0 - sim]) + PSEUDO_COUNT) * n / (n + 2 * PSEUDO_COUNT)
            total += 2.0 * _xlogx_ratio(o, e)
        return total
    k = p.size
    o = n * np.asarray(target.shares, dtype=float)
    e = (n * p / max(p.sum(), 1e-12) + PSEUDO_COUNT) * n / (n + k * PSEUDO_COUNT)
    return 2.0 * _xlogx_ratio(o, e)


def degrees_of_freedom(target: Target) -> int:
    """Free observed proportions of an item: K - 1, or K for multi-select."""
    k = len(target.categories)
    return k if target.kind == "multi_select" else k - 1


@dataclass(frozen=True)
class SurveyDistance:
    """Sum of item deviances over the fitted targets; a callable pyabc distance.

    ``distance(x, x0)`` takes pyabc's simulated and observed summary-statistic dicts (item id ->
    shares); the observed shares and n come from the targets, so ``x0`` is only checked for the
    same items.
    """

    targets: TargetSet

    def __call__(self, x: Mapping[str, np.ndarray], x0: Mapping[str, np.ndarray]) -> float:
        return float(sum(item_deviance(t, x[i]) for i, t in self.targets.items()))


def observed_statistics(targets: TargetSet) -> dict[str, np.ndarray]:
    """Observed shares as pyabc's observed summary statistics, in the model's category order."""
    out = {}
    for tid, target in targets.items():
        item = ITEM_BY_ID[tid]
        shares = np.zeros(len(item.categories))
        for label, share in zip(target.categories, target.shares, strict=True):
            shares[item.categories.index(label)] = share
        out[tid] = shares
    return out


def modelled(targets: Iterable[str]) -> list[str]:
    """The target ids the synthetic survey answers."""
    return [t for t in targets if t in ITEM_BY_ID]
