"""``govsim report RESULTS_DIR``: build a results directory's report and write it atomically."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from experiments.errors import BadInput
from experiments.report.calibration import build_calibration
from experiments.report.case import build_case
from experiments.report.document import FIGURES, REPORT_DIR, TABLES, Build
from experiments.report.findings import findings
from experiments.report.methods import front_matter
from experiments.report.render import headline_table, render_html, render_markdown
from experiments.report.robustness import build_robustness
from experiments.report.runs import build_experiment, build_run
from experiments.report.schema import read_manifest
from experiments.report.studies import build_sensitivity, build_sweep
from experiments.results import atomic_dir

BUILDERS: dict[str, Callable[[Build], None]] = {
    "run": build_run,
    "compare": build_experiment,
    "demo": build_experiment,
    "sweep": build_sweep,
    "sensitivity": build_sensitivity,
    "case": build_case,
    "calibration": build_calibration,
    "robustness": build_robustness,
}


def _check_report_dir(out: Path) -> None:
    """Refuse to replace a non-empty directory that is not an earlier report."""
    if out.is_dir() and any(out.iterdir()) and not (out / "report.md").is_file():
        raise BadInput(
            f"output directory {out} exists, is not empty and holds no earlier report "
            "(report.md); choose another --out"
        )


def write_report(results_dir: Path, *, out: Path | None = None) -> Path:
    """Write report.html, report.md, figures/ and tables/ for ``results_dir``; return report.html.

    The report goes to ``out`` (default ``results_dir/report``), replacing an earlier report
    there. It is written to a temporary directory renamed into place when complete. Bad input
    (no directory, no or a malformed manifest, an unknown kind) raises BadInput.
    """
    results_dir = Path(results_dir)
    manifest = read_manifest(results_dir)
    target = Path(out) if out is not None else results_dir / REPORT_DIR
    _check_report_dir(target)
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / FIGURES).mkdir()
        (tmp / TABLES).mkdir()
        build = Build(results_dir, tmp, manifest)
        BUILDERS[manifest.kind](build)
        build.findings = findings(build)
        headline_table(build).to_csv(tmp / TABLES / "headline.csv", index=False)
        front = front_matter(build)
        (tmp / "report.md").write_text(render_markdown(build, front), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(build, front), encoding="utf-8")
    return target / "report.html"


def cmd_report(args: argparse.Namespace) -> int:
    """``govsim report``: write the report of one results directory."""
    path = write_report(Path(args.results_dir), out=Path(args.out) if args.out else None)
    print(f"wrote {path} and {path.with_name('report.md')} (figures/, tables/ next to them)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``govsim report``."""
    p = sub.add_parser(
        "report",
        help="turn a results directory into report.html and report.md with figures and tables",
        description=(
            "Write a self-contained report.html and a report.md (figures as PNG and SVG, "
            "tables as CSV, methods paragraph, how to cite, the reproducing command) for a "
            "directory written by govsim run, compare, demo, sweep, sensitivity, case or a "
            "calibration."
        ),
    )
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="a govsim results directory")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write the report here (default RESULTS_DIR/report; an earlier report is replaced)",
    )
    p.set_defaults(handler=cmd_report)
