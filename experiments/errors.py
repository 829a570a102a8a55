"""Errors the command line reports without a traceback (exit code 2)."""

from __future__ import annotations


class BadInput(Exception):
    """Input the user can fix (file, option, output place); reported without a traceback."""
