"""The results explorer served by ``govsim serve``: data layer, charts, live run, Solara page."""

from __future__ import annotations

# the environment variable through which ``govsim serve`` tells the page its results root
RESULTS_ENV = "GOVSIM_RESULTS_DIR"
