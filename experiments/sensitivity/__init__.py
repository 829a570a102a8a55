"""Global sensitivity analysis (SALib): Morris screening, Sobol first/total indices and PAWN.

Which factors (levers, uncertain parameters, or whole recommendation packages) move an
outcome, and does the answer survive the model's own randomness? The study is data
(:class:`Study`: method, factors with ranges and groups, base sample size, master seed); the
model is either the governance model, run through :func:`experiments.sweep.run_sweep` (cached
and resumable), or any Python function ``f(**factors) -> float | dict[str, float]``
(``--model module:function``), so sub-models can be analysed the same way.

Method and estimator choices, stated once:

- **Designs.** Morris: ``N`` random one-at-a-time trajectories on a 4-level grid (Morris
  1991; Campolongo et al. 2007 for mu*). Sobol: Saltelli's cross-sampling of a scrambled
  Sobol' sequence, first and total order only (``N * (G + 2)`` rows for ``G`` factors or
  groups; Saltelli et al. 2010 estimators). PAWN: ``N`` scrambled Sobol' points, ``S = 10``
  conditioning slides, KS distance (Pianosi and Wagener 2015, 2018).
- **Dummy factor.** Every design carries one extra factor, :data:`DUMMY` in [0, 1], that the
  model never sees (Khorashadi Zadeh et al. 2017). Its index is the no-influence threshold:
  a factor is flagged ``above_dummy`` when the lower end of its interval lies above the
  upper end of the dummy's. Design rows that differ only in the dummy are run once. Because
  runs share seeds (common random numbers), the dummy's Sobol and Morris indices are exactly
  zero; its PAWN index is the finite-sample KS noise floor.
- **Replicates.** With ``R`` replicates per design point (the same ``R`` seeds at every point),
  indices are computed on the replicate-mean output. ``noise.csv`` gives the share of the
  variance of single runs due to seeds (mean within-point variance / total variance, by a
  one-way ANOVA over points, :func:`noise_summary`) and the share left in the replicate means.
- **Intervals.** ``ci_low``/``ci_high`` are design intervals: SALib's bootstrap over design
  rows for Sobol and Morris (normal approximation). PAWN has none: bootstrapping rows
  inflates KS distances, so its percentile intervals miss the estimate; the dummy's PAWN
  index is the sampling-noise floor instead (Pianosi and Wagener 2018).
  ``noise_ci_low``/``noise_ci_high`` are percentile intervals over ``B`` bootstrap resamples
  of the replicates: each resample draws ``R`` replicate indices with replacement, the
  *same* draw at every point, so the resampled means keep common random numbers, and
  recomputes the indices.
- **Convergence at N/2 and N.** The first half of each design is itself a valid design of
  half the size: the first ``N/2`` base points of a scrambled Sobol' sequence (``N`` a power
  of two) are a Sobol' net, SALib lays out Saltelli rows point by point, and Morris
  trajectories are independent. ``convergence.csv`` reports, per index, the largest absolute
  change between the indices of the first half and of the whole design (for Sobol, max |dST|).
- **Groups.** ``grouped=True`` samples and analyses recommendation packages (``Factor.group``;
  an ungrouped factor is its own group) with SALib's ``groups``: Sobol indices of a group
  are closed/total indices of the set of factors; Morris moves a group's factors together;
  PAWN (SALib) averages the factors of a group.

Seeds: one master seed; the design, SALib's resampling and the replicate bootstrap each get a
child seed (:func:`child_seed`). SALib's Sobol analysis treats seed 0 as "no seed" and then
draws from numpy's global generator, and its PAWN analysis reseeds the global generator, so
child seeds are never 0 and PAWN (which draws nothing) is called without a seed.

The package, from the study's definition to the command line (each module imports only the
ones above it):

- :mod:`~experiments.sensitivity.design`: :class:`Study`, factors, samplers and the dummy;
- :mod:`~experiments.sensitivity.analysis`: the Morris, Sobol and PAWN estimators, the replicate
  bootstrap, convergence and the noise summary;
- :mod:`~experiments.sensitivity.evaluate`: the model as a Python function (``--model``) or the
  governance model through :func:`experiments.sweep.run_sweep`;
- :mod:`~experiments.sensitivity.study`: :func:`run_study` (sample, evaluate, analyse);
- :mod:`~experiments.sensitivity.figures` and :mod:`~experiments.sensitivity.outputs`: charts and
  the results directory;
- :mod:`~experiments.sensitivity.command`: ``govsim sensitivity`` (:func:`register`).
"""

from experiments.sensitivity.analysis import (
    CONF_LEVEL,
    DEFAULT_BOOTSTRAP,
    DESIGN_RESAMPLES,
    INDEX_COLUMNS,
    MAIN_INDEX,
    OutcomeResult,
    analyse,
    analyse_outcome,
    convergence_table,
    noise_summary,
    row_means,
)
from experiments.sensitivity.command import cmd_sensitivity, register
from experiments.sensitivity.design import (
    DEFAULT_SAMPLES,
    DUMMY,
    DUMMY_LABEL,
    METHODS,
    MIN_SAMPLES,
    MORRIS_LEVELS,
    PAWN_SLIDES,
    FactorSpec,
    Study,
    check_study,
    factors_of,
    half_design,
    parse_factors,
)
from experiments.sensitivity.evaluate import (
    Evaluator,
    ModelFunction,
    evaluate_function,
    function_evaluator,
    load_function,
    sweep_evaluator,
    takes_seed,
)
from experiments.sensitivity.figures import _axis_label, _file_stem, plot_indices
from experiments.sensitivity.outputs import STUDY_FILE, output_names, write_outputs
from experiments.sensitivity.study import StudyResult, run_study

__all__ = [
    "CONF_LEVEL",
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_SAMPLES",
    "DESIGN_RESAMPLES",
    "DUMMY",
    "DUMMY_LABEL",
    "INDEX_COLUMNS",
    "MAIN_INDEX",
    "METHODS",
    "MIN_SAMPLES",
    "MORRIS_LEVELS",
    "PAWN_SLIDES",
    "STUDY_FILE",
    "Evaluator",
    "FactorSpec",
    "ModelFunction",
    "OutcomeResult",
    "Study",
    "StudyResult",
    "_axis_label",  # experiments.report labels its charts like these
    "_file_stem",  # experiments.report finds indices_<stem>.csv by it
    "analyse",
    "analyse_outcome",
    "check_study",
    "cmd_sensitivity",
    "convergence_table",
    "evaluate_function",
    "factors_of",
    "function_evaluator",
    "half_design",
    "load_function",
    "noise_summary",
    "output_names",
    "parse_factors",
    "plot_indices",
    "register",
    "row_means",
    "run_study",
    "sweep_evaluator",
    "takes_seed",
    "write_outputs",
]
