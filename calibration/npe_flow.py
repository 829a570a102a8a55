"""Neural posterior estimation with a normalising flow from BayesFlow (optional extra ``npe``).

The same amortised estimator as :class:`calibration.npe.GaussianNPE` (trained on the same
reference table of (theta, drawn survey) pairs, used through the same ``fit`` / ``sample`` /
``marginal_quantiles`` methods), but the posterior is an affine coupling flow (BayesFlow 2,
Radev et al. 2020, 2023; Keras 3 on the JAX backend, CPU), so it is not restricted to one
Gaussian in the unbounded coordinates: skewed, banana-shaped or multimodal posteriors are
representable. ``govsim calibrate --engine npe_flow`` trains both on one table and reports
their coverage side by side.

BayesFlow with JAX adds about 900 MB and 2.5 minutes to a fresh install (measured in a new
venv on this project's machine), so it is an optional extra: ``pip install -e '.[npe]'``;
``.ci/run`` installs it and runs the reduced test (``tests/test_npe_flow.py``). Without it the
estimator raises :class:`FlowUnavailable` with that instruction.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.npe import to_bounded, to_unbounded

EPOCHS = 200  # upper limit; early stopping on the validation loss ends training sooner
PATIENCE = 20  # epochs without validation improvement before stopping (best weights kept)
BATCH = 64
VALIDATION_SHARE = 0.1
LEARNING_RATE = 5e-4  # BayesFlow's default initial rate (cosine decay over the epochs)
QUANTILE_DRAWS = 1000  # flow draws per survey for marginal quantiles
INSTALL_HINT = "pip install -e '.[npe]'  (BayesFlow >= 2.1 with JAX)"


class FlowUnavailable(RuntimeError):
    """The optional BayesFlow extra is not installed."""


def _bayesflow() -> tuple[Any, Any]:
    """(bayesflow, keras) on the JAX backend, or FlowUnavailable saying how to install them."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    for name in ("bayesflow", "jax._src.xla_bridge"):  # one INFO line per sampling call
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        import bayesflow
        import keras
    except ImportError as exc:  # pragma: no cover - exercised where the extra is missing
        raise FlowUnavailable(
            f"the flow NPE engine needs the optional extra 'npe': {INSTALL_HINT} ({exc})"
        ) from exc
    return bayesflow, keras


def available() -> bool:
    """Whether BayesFlow and JAX are installed (looked up, not imported: see the module doc)."""
    return all(importlib.util.find_spec(name) is not None for name in ("bayesflow", "jax"))


@dataclass
class FlowNPE:
    """A coupling-flow posterior q(theta | x) over box-bounded parameters."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    seed: int = 0
    epochs: int = EPOCHS
    batch_size: int = BATCH
    history: list[float] = field(default_factory=list)  # validation loss per epoch
    _workflow: Any = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def fit(self, theta: np.ndarray, x: np.ndarray) -> FlowNPE:
        """Train on (theta, x) pairs: theta in bounded coordinates, x the summary vectors."""
        theta = np.asarray(theta, dtype=float)
        x = np.asarray(x, dtype=float)
        if theta.shape[0] != x.shape[0] or theta.shape[1] != self.dim:
            raise ValueError(f"theta {theta.shape} and x {x.shape} do not match {self.dim} names")
        bf, keras = _bayesflow()
        keras.utils.set_random_seed(self.seed)
        t = to_unbounded(theta, self.low, self.high).astype("float32")
        order = np.random.default_rng(self.seed).permutation(len(t))
        n_val = max(int(VALIDATION_SHARE * len(t)), 1)
        val, train = order[:n_val], order[n_val:]
        self._workflow = bf.BasicWorkflow(
            inference_network=bf.networks.CouplingFlow(),
            inference_variables=["theta"],
            inference_conditions=["x"],
            standardize=["inference_variables", "inference_conditions"],
            initial_learning_rate=LEARNING_RATE,
        )
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=PATIENCE, restore_best_weights=True
        )
        fitted = self._workflow.fit_offline(
            {"theta": t[train], "x": x[train].astype("float32")},
            epochs=self.epochs,
            batch_size=self.batch_size,
            validation_data={"theta": t[val], "x": x[val].astype("float32")},
            callbacks=[stop],
            verbose=0,
        )
        self.history = [float(v) for v in fitted.history.get("val_loss", [])]
        return self

    def _draws(self, x: np.ndarray, n: int, seed: int) -> np.ndarray:
        """(rows, n, parameters) draws in bounded coordinates for each summary row of ``x``."""
        if self._workflow is None:
            raise RuntimeError("FlowNPE.fit must be called before sampling")
        rows = np.atleast_2d(np.asarray(x, dtype=float)).astype("float32")
        out = self._workflow.sample(num_samples=n, conditions={"x": rows}, seed=seed)
        t = np.asarray(out["theta"], dtype=float).reshape(len(rows), n, self.dim)
        return np.asarray(to_bounded(t, self.low, self.high))

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` posterior draws (bounded coordinates) for one summary vector ``x``."""
        return self._draws(x, n, int(rng.integers(2**31 - 1)))[0]

    def marginal_quantiles(self, x: np.ndarray, qs: Sequence[float]) -> np.ndarray:
        """(rows, len(qs), parameters) posterior marginal quantiles for each summary row."""
        draws = self._draws(x, QUANTILE_DRAWS, self.seed + 1)
        return np.moveaxis(np.quantile(draws, np.asarray(qs, dtype=float), axis=1), 0, 1)
