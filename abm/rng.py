"""Seeded random streams: one named, independent generator per draw site.

Every stream is derived from the run seed and the stream's *name* (not its creation order), so
adding a policy or a new draw site never shifts the draws of another: baseline and intervention
runs with one seed share their randomness (common random numbers).
"""

from __future__ import annotations

import zlib

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
