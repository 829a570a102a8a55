"""The ``ema_workbench`` package, imported without its warning about the optional ipyparallel.

``ema_workbench`` warns at import that ``ipyparallel`` (for its ``IpyparallelEvaluator``) is
not installed; govsim does not use that evaluator, and warnings are errors in the tests.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
    import ema_workbench as ema

__all__ = ["ema"]
