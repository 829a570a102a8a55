"""Scenario discovery: PRIM boxes that say, in plain words, under which conditions a goal is met.

``govsim discover RUNS.parquet ...`` (registered by :func:`register`) runs the EMA Workbench's
PRIM (the Patient Rule Induction Method, Friedman and Fisher 1999; Kwakkel 2017), or its CART,
on the ``runs.parquet`` of a sweep and writes tables, a report and figures. The package's
modules, lowest layer first:

- :mod:`~experiments.discovery.prim`: ``ema_workbench.analysis`` behind thin views
  (:func:`prim`, :class:`PrimResult` with its trajectory, :class:`PrimBox`, :func:`cart_boxes`,
  :func:`feature_scores`, input encoding);
- :mod:`~experiments.discovery.describe`: plain words (:func:`describe`, :func:`factor_label`
  from the parameter registry and the lever briefs, :func:`goal_text`, :func:`format_number`);
- :mod:`~experiments.discovery.figures`: the peeling trajectory and box figures;
- :mod:`~experiments.discovery.inputs`: the goal, the sweep's runs and manifest, the inputs;
- :mod:`~experiments.discovery.command`: ``govsim discover`` and its ``discovery.md`` report.
"""

from experiments.discovery.command import cmd_discover, register
from experiments.discovery.describe import describe, factor_label, format_number, goal_text
from experiments.discovery.figures import plot_box, plot_trajectory
from experiments.discovery.inputs import Goal, load_runs, parse_goal
from experiments.discovery.prim import (
    MAX_P,
    MIN_COVERAGE,
    MIN_MASS,
    PASTE_ALPHA,
    PEEL_ALPHA,
    PrimBox,
    PrimResult,
    cart_boxes,
    encode_inputs,
    feature_scores,
    prim,
)

__all__ = [
    "MAX_P",
    "MIN_COVERAGE",
    "MIN_MASS",
    "PASTE_ALPHA",
    "PEEL_ALPHA",
    "Goal",
    "PrimBox",
    "PrimResult",
    "cart_boxes",
    "cmd_discover",
    "describe",
    "encode_inputs",
    "factor_label",
    "feature_scores",
    "format_number",
    "goal_text",
    "load_runs",
    "parse_goal",
    "plot_box",
    "plot_trajectory",
    "prim",
    "register",
]
