"""Experiment seeds come from abm/rng.py by purpose name, with the values committed results use."""

from __future__ import annotations

import numpy as np
import pytest

from abm import rng


@pytest.mark.parametrize(
    ("purpose", "word"),
    [
        ("survey", 0x5EED),
        ("posterior_draws", 0x9E3779B9),
        ("calibration_export", 7),
        ("sensitivity_design", 1),
        ("sensitivity_analysis", 2),
        ("bootstrap", 3),
    ],
)
def test_purpose_sequences_keep_their_historical_entropy(purpose: str, word: int) -> None:
    # the committed posterior, pinned tables and sweep stores were made with these sequences
    got = rng.generator(12, purpose).integers(0, 2**62, size=4)
    want = np.random.default_rng(np.random.SeedSequence([12, word])).integers(0, 2**62, size=4)
    assert np.array_equal(got, want)


def test_design_and_replicate_seeds_keep_their_values() -> None:
    child = np.random.SeedSequence(5).spawn(1)[0]
    assert rng.design_seed(5) == int(child.generate_state(1, np.uint32)[0])
    words = np.random.SeedSequence(5).generate_state(3, np.uint32)
    assert rng.replicate_seeds(5, 3) == [int(w) for w in words]


def test_purposes_are_independent_and_child_seeds_never_zero() -> None:
    seeds = {rng.child_seed(s, p) for s in range(40) for p in rng.PURPOSES}
    assert 0 not in seeds
    assert len(seeds) == 40 * len(rng.PURPOSES)


def test_unknown_purpose_and_bad_master_seed_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown seed purpose 'desing'.*survey"):
        rng.seed_sequence(1, "desing")
    with pytest.raises(ValueError, match=">= 0"):
        rng.child_seed(-1, "survey")
    with pytest.raises(TypeError, match="integer"):
        rng.replicate_seeds(True, 2)  # type: ignore[arg-type]


def test_parameter_seed_depends_on_values_not_order() -> None:
    a = rng.parameter_seed({"x": 1.0, "y": 2.0})
    assert a == rng.parameter_seed({"y": 2.0, "x": 1.0})
    assert a != rng.parameter_seed({"x": 1.0, "y": 2.0}, replicate=1)
