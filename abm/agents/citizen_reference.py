"""Per-agent Mesa reference of the citizen opinion rule, to check the vectorised rule against.

The rule is the one of :mod:`abm.rules.citizens`: a synchronous one-sided bounded-confidence
round within cities (Deffuant et al. 2000) with heterogeneous confidence bounds (Lorenz 2015),
uniform redraw noise and an optional constant drift. Here every citizen is a Mesa agent that
reads its partner's *old* opinion in ``step()`` and commits its own new one in ``advance()``
(simultaneous activation), written as plainly as possible so that it can be trusted by reading.
It is slow on purpose: it exists for tests (``tests/test_citizen_reference.py``) and for the
speed ratio in ``benchmarks/bench_citizens.py``, never for model runs. Between the two sits the
numpy reference of the compiled kernels (:mod:`abm.kernels`), which the compiled loops match
bit for bit.
"""

from __future__ import annotations

import mesa
import numpy as np
import numpy.typing as npt

F32Array = npt.NDArray[np.float32]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ReferenceCitizen(mesa.Agent):
    """One citizen: meets a random partner of its city and moves towards it if close enough."""

    model: ReferenceOpinionModel

    def __init__(
        self, model: ReferenceOpinionModel, city: int, support: float, epsilon: float
    ) -> None:
        super().__init__(model)
        self.city = city
        self.support = support
        self.epsilon = epsilon
        self.next_support = support

    def step(self) -> None:
        """Compute the new opinion from one partner's old opinion (Deffuant et al. 2000)."""
        m = self.model
        self.next_support = self.support
        if m.active_share < 1.0 and m.rng.random() >= m.active_share:
            return
        members = m.city_members[self.city]
        # the partner is any member of the city, possibly the citizen itself
        partner = members[int(m.rng.random() * len(members))]
        diff = partner.support - self.support
        if abs(diff) < self.epsilon:
            self.next_support = self.support + m.mu * diff

    def advance(self) -> None:
        """Commit the opinion computed in ``step()``."""
        self.support = self.next_support

    def redraw(self) -> None:
        """With probability ``noise_prob`` forget the opinion and draw a new uniform one."""
        m = self.model
        if m.rng.random() < m.noise_prob:
            self.support = float(m.rng.random())

    def drift(self) -> None:
        """Add the constant driver term, keeping the opinion in [0, 1]."""
        self.support = min(max(self.support + self.model.drift, 0.0), 1.0)


class ReferenceOpinionModel(mesa.Model):
    """Citizens of several cities as Mesa agents; one ``step()`` is one opinion time step.

    A step is ``rounds_per_step`` bounded-confidence rounds (each a ``step``/``advance`` pass
    over all agents, each citizen taking part with probability ``active_share``), then redraw
    noise with probability ``noise_prob`` per citizen, then the constant ``drift`` (clipped to
    [0, 1]) if it is non-zero. Citizens are created city by city in the order of ``support``.
    """

    def __init__(
        self,
        city_sizes: npt.ArrayLike,
        support: npt.ArrayLike,
        epsilon: npt.ArrayLike,
        mu: float,
        noise_prob: float,
        seed: int,
        active_share: float = 1.0,
        rounds_per_step: int = 1,
        drift: float = 0.0,
    ) -> None:
        super().__init__(rng=int(seed))
        sizes = np.asarray(city_sizes, dtype=np.int64)
        x = np.asarray(support, dtype=np.float64)
        eps = np.asarray(epsilon, dtype=np.float64)
        if sizes.ndim != 1 or np.any(sizes < 1):
            raise ValueError(f"city_sizes must be a 1-d array of positive sizes, got {sizes}")
        if x.shape != (int(sizes.sum()),) or eps.shape != x.shape:
            raise ValueError(
                f"support {x.shape} and epsilon {eps.shape} must both have "
                f"sum(city_sizes) = {int(sizes.sum())} entries"
            )
        if not 0.0 <= active_share <= 1.0 or not 0.0 <= noise_prob <= 1.0:
            raise ValueError(
                f"active_share={active_share} and noise_prob={noise_prob} must be in [0, 1]"
            )
        if rounds_per_step < 1:
            raise ValueError(f"rounds_per_step must be >= 1, got {rounds_per_step}")
        self.mu = float(mu)
        self.noise_prob = float(noise_prob)
        self.active_share = float(active_share)
        self.rounds_per_step = int(rounds_per_step)
        self.drift = float(drift)
        self.citizens: list[ReferenceCitizen] = []
        self.city_members: list[list[ReferenceCitizen]] = []
        start = 0
        for city, size in enumerate(sizes.tolist()):
            members = [
                ReferenceCitizen(self, city, float(x[i]), float(eps[i]))
                for i in range(start, start + size)
            ]
            self.city_members.append(members)
            self.citizens.extend(members)
            start += size

    def step(self) -> None:
        """Bounded-confidence rounds (simultaneous activation), redraw noise, then drift."""
        for _ in range(self.rounds_per_step):
            self.agents.do("step")
            self.agents.do("advance")
        self.agents.do("redraw")
        if self.drift != 0.0:
            self.agents.do("drift")

    def support_array(self) -> FloatArray:
        """Current opinions in creation order (city by city), as in the input ``support``."""
        return np.fromiter((a.support for a in self.citizens), np.float64, len(self.citizens))


def city_blocks(city_sizes: npt.ArrayLike) -> tuple[IntArray, F32Array]:
    """Per-citizen first index and size of its city: the layout ``deffuant_round`` takes."""
    sizes = np.asarray(city_sizes, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return np.repeat(start, sizes), np.repeat(sizes, sizes).astype(np.float32)
