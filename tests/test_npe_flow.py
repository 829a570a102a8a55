"""The BayesFlow coupling-flow NPE (optional extra ``npe``; ``.ci/run`` installs it).

Known answer: theta ~ U(0,1)^2 and x = (theta_a, theta_a + theta_b) + N(0, 0.05), the problem
of tests/test_npe.py. The posterior is narrow (sd about 0.05) with a and b negatively
correlated; a calibrated estimator's 90% intervals cover about 90% of true values.

JAX starts threads on import and objects to a later ``os.fork()``, and the test workers fork
(ABC, Dask), so everything that imports it runs in a fresh interpreter here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from calibration import npe_flow
from experiments.cli import main

ROOT = Path(__file__).resolve().parents[1]
needs_extra = pytest.mark.skipif(
    not npe_flow.available(), reason="optional extra 'npe' not installed"
)

KNOWN_ANSWER = """
import json, warnings
import numpy as np
warnings.filterwarnings("ignore", category=DeprecationWarning)
from calibration import npe_flow
rng = np.random.default_rng(1)
def simulate(theta):
    noise = rng.normal(0.0, 0.05, (len(theta), 2))
    return np.c_[theta[:, 0] + noise[:, 0], theta.sum(axis=1) + noise[:, 1]]
train = rng.random((2000, 2))
est = npe_flow.FlowNPE(("a", "b"), np.zeros(2), np.ones(2), seed=2, epochs=60)
est.fit(train, simulate(train))
truth = rng.uniform(0.2, 0.8, (150, 2))
q = est.marginal_quantiles(simulate(truth), [0.05, 0.25, 0.75, 0.95])
draws = est.sample(np.array([[0.5, 1.0]]), 2000, np.random.default_rng(3))
print(json.dumps({
    "history": est.history,
    "q_shape": list(q.shape),
    "cover90": ((truth >= q[:, 0]) & (truth <= q[:, 3])).mean(axis=0).tolist(),
    "cover50": ((truth >= q[:, 1]) & (truth <= q[:, 2])).mean(axis=0).tolist(),
    "width": (q[:, 3] - q[:, 0]).mean(axis=0).tolist(),
    "draws_shape": list(draws.shape),
    "inside": bool(np.all((draws > 0.0) & (draws < 1.0))),
    "corr": float(np.corrcoef(draws.T)[0, 1]),
}))
"""


def _fresh_python(code: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@needs_extra
def test_flow_known_answer_coverage_and_correlation() -> None:
    got = json.loads(_fresh_python(KNOWN_ANSWER).strip().splitlines()[-1])
    assert got["history"] and all(abs(v) < 1e6 for v in got["history"])
    assert got["q_shape"] == [150, 4, 2]
    # 150 surveys: a binomial 90% share has sd 0.025, so the band is about +-3 sd
    assert all(0.80 < c < 0.98 for c in got["cover90"]), got["cover90"]
    assert all(0.35 < c < 0.65 for c in got["cover50"]), got["cover50"]
    assert all(w < 0.35 for w in got["width"]), got["width"]  # the prior's 90% width is 0.9
    assert got["draws_shape"] == [2000, 2] and got["inside"]  # bounded coordinates
    assert got["corr"] < -0.3  # x_b pins a + b: a and b trade off


@needs_extra
def test_calibrate_engine_npe_flow_writes_both_neural_engines(tmp_path: Path) -> None:
    """``--engine npe_flow`` trains the flow beside the Gaussian NPE on one table."""
    out = tmp_path / "flow"
    args = ["calibrate", "--out", str(out), "--engine", "npe_flow", "--simulations", "40"]
    args += ["--coverage-surveys", "6", "--population", "20", "--ppc-draws", "2", "--jobs", "1"]
    code = (
        "import sys, warnings; warnings.filterwarnings('ignore');"
        f"from experiments.cli import main; sys.exit(main({args!r}))"
    )
    _fresh_python(code)
    import pandas as pd

    cov = pd.read_csv(out / "coverage.csv")
    assert set(cov["engine"]) == {"npe", "npe_flow", "abc_rejection"}
    assert (cov["n_surveys"] == 6).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == "npe_flow" and set(manifest["engines"]) == {"npe", "npe_flow"}
    draws = pd.read_csv(out / "draws.csv")
    assert len(draws) > 0


def test_sampling_before_fit_and_bad_shapes_fail_clearly() -> None:
    import numpy as np

    est = npe_flow.FlowNPE(("a", "b"), np.zeros(2), np.ones(2))
    with pytest.raises(RuntimeError, match="fit"):
        est.sample(np.zeros((1, 2)), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="do not match"):
        est.fit(np.zeros((10, 3)), np.zeros((10, 2)))


def test_missing_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(npe_flow, "available", lambda: False)
    code = main(["calibrate", "--out", str(tmp_path / "x"), "--engine", "npe_flow"])
    assert code == 2
    assert ".[npe]" in capsys.readouterr().err
