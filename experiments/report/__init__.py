"""``govsim report RESULTS_DIR``: a self-contained HTML and Markdown report of a results directory.

``write_report`` reads ``manifest.json`` to tell which command wrote the directory (its
``kind``: run, compare, demo, sweep, sensitivity, case or calibration, read by
``experiments.results.read_manifest``), and writes, into ``RESULTS_DIR/report/`` unless told
otherwise::

    report.html   self-contained: figures embedded as PNG data URIs, key tables inline
    report.md     the same report in Markdown, figures and tables linked
    figures/      every figure as PNG and SVG (Okabe-Ito colours, units on the axes)
    tables/       every table as CSV, copied from the directory or derived from it

A report opens with "Findings": a few generated sentences on what the results show, each with
its interval and run ID, and the caveats (what is calibrated and assumed, what the model does
not represent). Every figure caption and the headline table carry the run ID, the command that
reproduces the directory is printed at the top, a methods paragraph is generated from the
manifest (model and code version, scenarios, replicates and seeds, calibration used, wall time)
and a "How to cite" block from ``CITATION.cff``. A missing data file leaves its part out with a
note; a missing, malformed or unknown manifest is bad input (exit code 2) and leaves nothing
behind, since the report is written to a temporary directory that is renamed into place when
complete.

The package, in the order a report is made: ``schema`` (the manifest keys each kind needs),
``document`` (the report being built: sections, figures, tables, headline numbers), one module
per group of kinds (``runs``: run, compare, demo; ``studies``: sweep, sensitivity; ``case``;
``calibration``) with ``figures`` (their charts), ``findings`` (the sentences the report opens
with: results with intervals and run ID, and caveats), ``methods`` (methods paragraph,
citation), ``render`` (HTML and Markdown) and ``command`` (``write_report`` and ``govsim
report``).
"""

from experiments.report.command import BUILDERS, cmd_report, register, write_report
from experiments.report.document import Build, FigureRef, Headline, Section, TableRef
from experiments.report.methods import calibrated_defaults, citation, load_citation, methods
from experiments.report.schema import KINDS, OPTIONAL, PARAMETER_KEYS, REQUIRED, read_manifest
from experiments.results import Manifest

__all__ = [
    "BUILDERS",
    "KINDS",
    "OPTIONAL",
    "PARAMETER_KEYS",
    "REQUIRED",
    "Build",
    "FigureRef",
    "Headline",
    "Manifest",
    "Section",
    "TableRef",
    "calibrated_defaults",
    "citation",
    "cmd_report",
    "load_citation",
    "methods",
    "read_manifest",
    "register",
    "write_report",
]
