"""Seeded random streams: one named, independent generator per draw site.

Every stream is derived from the run seed and the stream's *name* (not its creation order), so
adding a policy or a new draw site never shifts the draws of another: baseline and intervention
runs with one seed share their randomness (common random numbers).
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for draw site ``name`` in a run with ``seed``."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))
    )


class Streams:
    """Lazily created named streams for one run."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._cache: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            gen = self._cache[name] = stream(self.seed, name)
        return gen


# --- seeds of experiments, derived by purpose name ------------------------------------------
#
# Every seed an experiment derives from a user's master seed is made here, named by what it is
# for. The entropy word of each purpose is the one the project has always used for it, so that
# committed results (the calibrated posterior, pinned tables) keep reproducing; a new purpose
# takes the CRC-32 of its name, like the model's streams.
_PURPOSE_WORD: dict[str, int] = {
    "survey": 0x5EED,  # govsim survey: which cities answer, their answers
    "posterior_draws": 0x9E3779B9,  # parameter sets drawn from a committed posterior
    "calibration_export": 7,  # resampled draws and predictive checks of a calibration
    "sensitivity_design": 1,  # the sample of a sensitivity study
    "sensitivity_analysis": 2,  # SALib's estimators
    "bootstrap": 3,  # bootstrap resampling of sensitivity indices
    # issue 13: independent replicate seeds per design row, and robustness scenario sampling
    "point_replicates": zlib.crc32(b"point_replicates"),
    "robustness_scenarios": zlib.crc32(b"robustness_scenarios"),
    # calibration engines (issue 12): CRC-32 of the name
    "npe_prior": zlib.crc32(b"npe_prior"),  # reference-table parameter sets from the prior
    "npe_posterior": zlib.crc32(b"npe_posterior"),  # NPE draws for the real survey
    "sbc": zlib.crc32(b"sbc"),  # posterior draws of the coverage test
    "survey_sample": zlib.crc32(b"survey_sample"),  # drawn synthetic surveys of the engines
}
PURPOSES: tuple[str, ...] = (*_PURPOSE_WORD, "replicates", "experiment_design")


def _check_master(master_seed: int) -> int:
    if isinstance(master_seed, bool) or not isinstance(master_seed, int | np.integer):
        raise TypeError(f"master_seed must be an integer, got {master_seed!r}")
    if master_seed < 0:
        raise ValueError(f"master_seed must be >= 0, got {master_seed}")
    return int(master_seed)


def seed_sequence(master_seed: int, purpose: str) -> np.random.SeedSequence:
    """The seed sequence of ``purpose`` under ``master_seed`` (independent across purposes)."""
    master = _check_master(master_seed)
    if purpose == "experiment_design":
        # the first spawned child of the master sequence (independent of replicate seeds)
        return np.random.SeedSequence(master).spawn(1)[0]
    if purpose == "replicates":
        return np.random.SeedSequence(master)
    word = _PURPOSE_WORD.get(purpose)
    if word is None:
        raise ValueError(f"unknown seed purpose {purpose!r}; known: {', '.join(PURPOSES)}")
    return np.random.SeedSequence([master, word])


def generator(master_seed: int, purpose: str) -> np.random.Generator:
    """A generator for ``purpose`` under ``master_seed``."""
    return np.random.default_rng(seed_sequence(master_seed, purpose))


def child_seed(master_seed: int, purpose: str) -> int:
    """One seed in [1, 2^31 - 1] for ``purpose`` (never 0, so any library accepts it)."""
    words = seed_sequence(master_seed, purpose).generate_state(1, np.uint32)
    return int(words[0]) % (2**31 - 1) + 1


def design_seed(master_seed: int) -> int:
    """The 32-bit seed of an experiment's design sampler, independent of its run seeds."""
    return int(seed_sequence(master_seed, "experiment_design").generate_state(1, np.uint32)[0])


def replicate_seeds(master_seed: int, replicates: int) -> list[int]:
    """Distinct replicate seeds derived from ``master_seed`` (0 is a valid master seed).

    The seeds are the 32-bit words of ``numpy.random.SeedSequence(master_seed)``, so they are
    deterministic, and the first k seeds of a longer list equal the list for k replicates.
    """
    sequence = seed_sequence(master_seed, "replicates")
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    words = replicates
    while True:
        unique = list(dict.fromkeys(int(s) for s in sequence.generate_state(words, np.uint32)))
        if len(unique) >= replicates:
            return unique[:replicates]
        words += replicates - len(unique)  # a 32-bit collision: draw a few more words


def point_seeds(master_seed: int, points: int, replicates: int) -> np.ndarray:
    """Independent run seeds, one per (design point, replicate): shape (points, replicates).

    Unlike :func:`replicate_seeds` (the same seeds at every point: common random numbers),
    every point gets its own seeds, so seed noise is not shared between points and a
    sensitivity study can estimate it. Seeds come from the ``point_replicates`` purpose and
    are distinct within the array; row ``i`` does not depend on ``points``.
    """
    if points < 0 or replicates < 1:
        raise ValueError(f"need points >= 0 and replicates >= 1, got {points}, {replicates}")
    base = seed_sequence(master_seed, "point_replicates")
    out = np.empty((points, replicates), dtype=np.int64)
    seen: set[int] = set()
    for i in range(points):
        words = np.random.SeedSequence(base.entropy, spawn_key=(i,)).generate_state(
            2 * replicates, np.uint32
        )
        row = [w for w in dict.fromkeys(int(x) for x in words) if w not in seen][:replicates]
        k = 0
        while len(row) < replicates:  # 32-bit collisions: take the next free integers
            candidate = (int(words[0]) + 1 + k) % 2**32
            k += 1
            if candidate not in seen and candidate not in row:
                row.append(candidate)
        seen.update(row)
        out[i] = row
    return out


def parameter_seed(values: dict[str, float] | Any, replicate: int = 0) -> int:
    """A model seed derived from parameter values (a calibration particle's own seed)."""
    text = ",".join(f"{k}={float(values[k])!r}" for k in sorted(values)) + f";{replicate}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
