"""The BayesFlow coupling-flow NPE (optional extra ``npe``; ``.ci/run`` installs it).

Known answer: theta ~ U(0,1)^2 and x = (theta_a, theta_a + theta_b) + N(0, 0.05), the problem
of tests/test_npe.py. The posterior is narrow (sd about 0.05) with a and b negatively
correlated; a calibrated estimator's 90% intervals cover about 90% of true values.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import pytest

from calibration import npe_flow

pytest.importorskip("bayesflow", reason="optional extra 'npe' not installed")
# Keras 3.15's variables call numpy's __array__ without the copy keyword (its warning, not ours)
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def _simulate(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.normal(0.0, 0.05, (len(theta), 2))
    return np.c_[theta[:, 0] + noise[:, 0], theta.sum(axis=1) + noise[:, 1]]


def test_flow_known_answer_coverage_and_correlation() -> None:
    rng = np.random.default_rng(1)
    train = rng.random((2000, 2))
    est = npe_flow.FlowNPE(("a", "b"), np.zeros(2), np.ones(2), seed=2, epochs=60)
    est.fit(train, _simulate(train, rng))
    assert len(est.history) > 0 and np.all(np.isfinite(est.history))
    truth = rng.uniform(0.2, 0.8, (150, 2))
    q = est.marginal_quantiles(_simulate(truth, rng), [0.05, 0.25, 0.75, 0.95])
    assert q.shape == (150, 4, 2)
    cover90 = ((truth >= q[:, 0]) & (truth <= q[:, 3])).mean(axis=0)
    cover50 = ((truth >= q[:, 1]) & (truth <= q[:, 2])).mean(axis=0)
    # 150 surveys: a binomial 90% share has sd 0.025, so the band is about +-3 sd
    assert np.all((cover90 > 0.80) & (cover90 < 0.98)), cover90
    assert np.all((cover50 > 0.35) & (cover50 < 0.65)), cover50
    width = (q[:, 3] - q[:, 0]).mean(axis=0)
    assert np.all(width < 0.35), width  # learnt: the prior's 90% width is 0.9
    draws = est.sample(np.array([[0.5, 1.0]]), 2000, np.random.default_rng(3))
    assert draws.shape == (2000, 2)
    assert np.all((draws > 0.0) & (draws < 1.0))  # bounded coordinates
    assert np.corrcoef(draws.T)[0, 1] < -0.3  # x_b pins a + b: a and b trade off


def test_sampling_before_fit_and_bad_shapes_fail_clearly() -> None:
    est = npe_flow.FlowNPE(("a", "b"), np.zeros(2), np.ones(2))
    with pytest.raises(RuntimeError, match="fit"):
        est.sample(np.zeros((1, 2)), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="do not match"):
        est.fit(np.zeros((10, 3)), np.zeros((10, 2)))


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_bayesflow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "bayesflow":
            raise ImportError("No module named 'bayesflow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_bayesflow)
    assert not npe_flow.available()
    with pytest.raises(npe_flow.FlowUnavailable, match=r"\.\[npe\]"):
        npe_flow.FlowNPE(("a",), np.zeros(1), np.ones(1)).fit(np.zeros((4, 1)), np.zeros((4, 1)))
