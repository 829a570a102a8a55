"""``--posterior [DIR]`` for every command that runs the model, without importing the CLI.

Commands that live below ``experiments.cli`` (case, sweep, sensitivity) add the option and read
the posterior through here, so no import cycle runs back to the CLI or to ``experiments.compare``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from calibration.posterior import Posterior, PosteriorError, load_posterior
from experiments.errors import BadInput


def posterior_option(p: argparse.ArgumentParser) -> None:
    """``--posterior [DIR]``: sample the calibrated parameters from a posterior."""
    p.add_argument(
        "--posterior",
        nargs="?",
        const="",
        metavar="DIR",
        help="draw the calibrated parameters from a posterior, one draw per seed "
        "(default DIR: the committed calibration/posterior)",
    )


def load_posterior_arg(args: argparse.Namespace) -> Posterior:
    """The posterior named by ``--posterior`` (empty: the committed one); records it in args."""
    try:
        post = load_posterior(Path(args.posterior) if args.posterior else None)
    except PosteriorError as exc:
        raise BadInput(str(exc)) from exc
    args.posterior_info = post.describe()
    return post
