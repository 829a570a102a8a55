"""Report sections of a calibration directory: posterior, fit to targets, ABC-SMC convergence."""

from __future__ import annotations

import pandas as pd

from experiments import sensitivity as sa
from experiments.report import figures as report_figures
from experiments.report.document import Build, Section, interval_frame
from experiments.report.schema import PARAMETER_KEYS
from experiments.text import label

FIT_COLUMNS = ("item", "role", "observed_mean", "simulated_mean", "q05", "q95", "within_interval")
PPC_COLUMNS = ("item", "category", "observed_share", "sim_mean", "sim_q05", "sim_q95", "role")
GENERATION_COLUMNS = ("generation", "epsilon", "acceptance_rate")


def _posterior(b: Build) -> None:
    m = b.data
    s = b.section(
        "Posterior parameters",
        f"ABC-SMC calibration: {m['generations']} generations of {m['population_size']} "
        "particles. Each parameter's posterior median and 90% interval, placed within its prior "
        "range (0 = prior low, 1 = prior high): a narrow interval means the targets inform it.",
    )
    params = pd.DataFrame(m["parameters"])[list(PARAMETER_KEYS)]
    b.derive(s, params, "parameters.csv", "Prior range and posterior of each parameter.", True)
    span = (params["prior_high"] - params["prior_low"]).where(lambda v: v != 0)
    labels = [
        f"{label(str(r.name))} ({r.unit}; prior {r.prior_low:g} to {r.prior_high:g})"
        for r in params.itertuples()
    ]
    frame = interval_frame(
        labels,
        (params["posterior_median"] - params["prior_low"]) / span,
        (params["q05"] - params["prior_low"]) / span,
        (params["q95"] - params["prior_low"]) / span,
    )
    stem = b.figure(
        s,
        "posterior",
        "Posterior median and 90% interval of each parameter as a share of its prior range.",
        f"Dot-and-whisker chart of {len(frame)} parameters' posteriors within their priors.",
    )
    report_figures.plot_intervals(
        frame,
        stem,
        b.run_id,
        xlabel="position in the prior range (0 = prior low, 1 = prior high)",
        title="posterior median and 90% interval",
        reference=None,
        xlim=(0.0, 1.0),
    )
    for r in params.itertuples():
        bounds = [r.posterior_median, r.q05, r.q95]
        b.add_headline(str(r.name), "posterior", bounds, "median, 90% interval", r.unit)


def _target_chart(
    b: Build, s: Section, stem: str, rows: pd.DataFrame, text: tuple[str, str, str]
) -> None:
    """Simulated interval (by role) against the observed value of calibration targets.

    ``rows`` has label, centre, low, high, observed and role; ``text`` is the caption, the
    x-axis label and the title.
    """
    caption, xlabel, title = text
    frame = rows.rename(columns={"role": "group"})
    path = b.figure(
        s,
        stem,
        f"{caption}: simulated mean and 90% interval at the posterior (dots, coloured by role) "
        "and the observed value (open diamonds).",
        f"Dot-and-whisker chart of {len(frame)} rows of {title}, simulated against observed.",
    )
    report_figures.plot_intervals(frame, path, b.run_id, xlabel=xlabel, title=title, reference=None)


def _fit(b: Build) -> None:
    s = b.section(
        "Fit to targets",
        "Each target's observed value against its simulated 90% interval at the posterior; "
        "`held_out` targets were not used in fitting, so they validate it.",
    )
    fit = b.read(s, "fit_table.csv", FIT_COLUMNS)
    if fit is not None:
        b.copy(s, "fit_table.csv", "Fit of every target: distance, observed, simulated.", fit)
        for role, rows in fit.groupby("role", sort=False):
            if role == "not_modelled":  # no simulated answer: counted, not tested
                b.add_headline("targets the model does not answer", "-", [len(rows)], "count", "")
                continue
            within = int(rows["within_interval"].astype(bool).sum())
            quantity = f"{role} targets within the simulated 90% interval"
            b.add_headline(quantity, "posterior", [within], "count", f"of {len(rows)} targets")
        statistic = fit["statistic"] if "statistic" in fit else pd.Series("", index=fit.index)
        for name, rows in fit.groupby(statistic.astype(str), sort=False):
            frame = interval_frame(rows["item"], rows["simulated_mean"], rows["q05"], rows["q95"])
            frame = frame.assign(observed=rows["observed_mean"].to_numpy(float))
            frame = frame.assign(role=rows["role"].to_numpy())
            what = f"targets ({name})" if name else "targets"
            stem = "fit_targets" + (f"_{sa._file_stem(name)}" if name else "")
            scale = name or "the target's own scale"
            _target_chart(b, s, stem, frame, (f"Fit of the {what}", scale, f"fit of the {what}"))
    ppc = b.read(s, "ppc.csv", PPC_COLUMNS)
    if ppc is not None:
        b.copy(s, "ppc.csv", "Posterior predictive check per target and answer category.")
        labels = ppc["item"].astype(str) + ": " + ppc["category"].astype(str)
        frame = interval_frame(labels, ppc["sim_mean"], ppc["sim_q05"], ppc["sim_q95"])
        frame = frame.assign(observed=ppc["observed_share"].to_numpy(float), role=ppc["role"])
        text = ("Share of each answer category", "share of respondents (0-1)", "answer shares")
        _target_chart(b, s, "ppc", frame, text)


def _convergence(b: Build) -> None:
    s = b.section("ABC-SMC convergence", "Tolerance and acceptance rate by generation.")
    generations = b.read(s, "generations.csv", GENERATION_COLUMNS)
    if generations is not None and (generations["epsilon"] > 0).any():
        generations = generations[generations["epsilon"] > 0]
        b.copy(s, "generations.csv", "Epsilon, ESS, simulations, acceptance rate, time.")
        stem = b.figure(
            s,
            "epsilon_trace",
            "ABC-SMC tolerance epsilon (log scale) and acceptance rate by generation.",
            f"Two line charts over {len(generations)} generations: epsilon falls, acceptance "
            "rate by generation.",
        )
        report_figures.plot_trace(generations, stem, b.run_id)
        final = [generations["epsilon"].iloc[-1]]
        b.add_headline("final tolerance epsilon", "last generation", final, "", "distance")
    b.copy(s, "posterior.csv", "Weighted posterior sample: one column per parameter and weight.")


def build_calibration(b: Build) -> None:
    """A calibration: posterior parameters, fit to targets, ABC-SMC convergence."""
    _posterior(b)
    _fit(b)
    _convergence(b)
