"""Known-answer test functions with analytic sensitivity indices (test code, not the model).

``govsim sensitivity --model known_answer:ishigami`` analyses them like any user function; the
tests put ``tests/`` on the import path (pytest does), elsewhere run with ``PYTHONPATH=tests``.
"""

from __future__ import annotations

import math


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> float:
    """The Ishigami function (Ishigami and Homma 1990), a known-answer test of Sobol indices.

    With x1..x3 uniform on [-pi, pi], a = 7 and b = 0.1: S1 = (0.3139, 0.4424, 0) and
    ST = (0.5576, 0.4424, 0.2437).
    """
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, tuple[float, float, float]]:
    """Analytic S1 and ST of :func:`ishigami` on [-pi, pi]^3 (Sobol' and Levitan 1999)."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 / 18 - b**2 * pi**8 / 50
    total = v1 + v2 + v13
    return {
        "S1": (v1 / total, v2 / total, 0.0),
        "ST": ((v1 + v13) / total, v2 / total, v13 / total),
    }
