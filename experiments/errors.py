"""Errors the command line reports without a traceback, and its exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # input the user can fix; argparse uses 2 for usage errors as well


class BadInput(Exception):
    """Input the user can fix (file, option, output place); reported without a traceback."""
