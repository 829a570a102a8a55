"""Robust lever rankings (issue 13): which recommendation holds up across what we do not know.

A study (:mod:`~experiments.robustness.definition`) samples scenarios: joint posterior draws
of the calibrated parameters, deep uncertainties beyond the posterior (capex, prices, the
staff rule as a category) and run seeds (:mod:`~experiments.robustness.run`). In every
scenario the baseline, each lever alone and each package are run; the analysis
(:mod:`~experiments.robustness.analysis`) gives effects raw and per EUR 1 bn per city group,
the probability of ranking first / in the top three, regret against the best in each
scenario, and PRIM boxes of where a lever drops out or a package fails its goal.
``govsim robustness`` (:mod:`~experiments.robustness.command`) writes them with a manifest.
"""

from experiments.robustness.command import cmd_robustness, register
from experiments.robustness.definition import DeepUncertainty, RobustnessStudy, load_study

__all__ = ["DeepUncertainty", "RobustnessStudy", "cmd_robustness", "load_study", "register"]
