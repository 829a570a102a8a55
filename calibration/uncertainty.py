"""Parameter uncertainty apart from seed noise: posterior draws shared by pairs of seeds.

With ``--posterior``, a comparison of R seeds uses R/2 posterior draws, each for two
consecutive seeds (the same draws in every scenario). A lever's paired effect ``d`` then varies
between seeds of one draw (seed noise, variance ``s2_seed``) and between draws (parameter
uncertainty). One-way analysis of variance separates them: ``s2_seed`` = mean within-draw
variance, ``s2_param`` = max(variance of the draw means - s2_seed / m, 0) for m seeds per draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

SEEDS_PER_DRAW = 2


def paired_draws(post: Any, n_seeds: int, seed: int) -> list[dict[str, float]]:
    """One parameter set per seed, each posterior draw shared by ``SEEDS_PER_DRAW`` seeds."""
    n_draws = -(-n_seeds // SEEDS_PER_DRAW)
    draws = post.sample(n_draws, seed)
    return [draws[i // SEEDS_PER_DRAW] for i in range(n_seeds)]


def split_uncertainty(
    summaries: Mapping[str, Sequence[Any]], baseline: str, outcomes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per scenario and outcome: mean effect, seed-noise sd and parameter sd of the effect."""
    reference = {run.seed: run for run in summaries[baseline]}
    rows = []
    for name, runs in summaries.items():
        if name == baseline:
            continue
        ordered = [run for run in runs if run.seed in reference]
        names = outcomes or list(ordered[0].headline) if ordered else []
        for outcome in names:
            d = np.array(
                [run.headline[outcome] - reference[run.seed].headline[outcome] for run in ordered],
                dtype=float,
            )
            m = SEEDS_PER_DRAW
            k = len(d) // m
            if k < 2:
                continue
            groups = d[: k * m].reshape(k, m)
            s2_seed = float(np.mean(np.var(groups, axis=1, ddof=1)))
            s2_param = max(float(np.var(groups.mean(axis=1), ddof=1)) - s2_seed / m, 0.0)
            total = s2_seed + s2_param
            rows.append(
                {
                    "scenario": name,
                    "outcome": outcome,
                    "draws": k,
                    "seeds_per_draw": m,
                    "mean_difference": float(d.mean()),
                    "sd_seed_noise": float(np.sqrt(s2_seed)),
                    "sd_parameter": float(np.sqrt(s2_param)),
                    "parameter_share_of_variance": s2_param / total if total > 0 else 0.0,
                }
            )
    return pd.DataFrame(rows)
