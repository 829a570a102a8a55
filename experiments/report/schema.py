"""The manifest a report reads: the keys each kind needs, their types, and the checks on them.

The kind and run ID come from ``experiments.results.read_manifest``, which never guesses
them; :func:`read_manifest` adds the keys each kind's report needs (:data:`REQUIRED`), the
optional ones it uses when present (:data:`OPTIONAL`) and a few checks beyond types. A
problem is bad input whose message names the file, the key and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from experiments import results
from experiments import sensitivity as sa
from experiments.errors import BadInput
from experiments.results import KINDS, Manifest

_TYPES: dict[str, Callable[[object], bool]] = {
    "a string": lambda v: isinstance(v, str),
    "an integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "a number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "a list": lambda v: isinstance(v, list),
    "an object": lambda v: isinstance(v, dict),
}
_EXPERIMENT = {
    "run_id": "a string",
    "baseline": "a string",
    "diff_file": "a string",
    "scenarios": "a list",
    "replicates": "an integer",
    "seeds": "a list",
}
REQUIRED: dict[str, dict[str, str]] = {
    "run": {"scenario": "a string", "seed": "an integer", "headline": "an object"},
    "compare": _EXPERIMENT,
    "demo": _EXPERIMENT,
    "sweep": {
        "outcomes": "a list",
        "factors": "a list",
        "seeds": "a list",
        "replicates": "an integer",
    },
    "sensitivity": {"study": "an object", "outcomes": "a list"},
    "case": {"run_id": "a string", "scenarios": "a list", "seeds": "a list"},
    "robustness": {"study": "an object", "counts": "an object"},
    "calibration": {
        "run_id": "a string",
        "parameters": "a list",
        "generations": "an integer",
        "population_size": "an integer",
        "targets_fit": "a list",
        "targets_held_out": "a list",
    },
}
OPTIONAL: dict[str, str] = {
    "run_id": "a string",
    "command": "a string",
    "reproduce": "a string",
    "code_version": "a string",
    "created_utc": "a string",
    "wall_time_s": "a number",
}
PARAMETER_KEYS: dict[str, str] = {
    "name": "a string",
    "unit": "a string",
    **{k: "a number" for k in ("prior_low", "prior_high", "posterior_median", "q05", "q95")},
}


def _check_keys(
    data: Mapping[str, Any], spec: Mapping[str, str], where: str, required: bool
) -> list[str]:
    """Problems with the keys of ``spec`` in ``data``: missing (if required) or mistyped."""
    problems = []
    for key, wanted in spec.items():
        if key not in data:
            if required:
                problems.append(f"key '{where}{key}' is missing; expected {wanted}")
        elif not _TYPES[wanted](data[key]):
            shown = json.dumps(data[key], default=str)[:40]
            problems.append(f"key '{where}{key}' is {shown}; expected {wanted}")
    return problems


def _kind_problems(kind: str, data: Mapping[str, Any]) -> list[str]:
    """Checks beyond key types: file names, the sensitivity method, calibration parameters."""
    problems: list[str] = []
    diff = data.get("diff_file")
    if kind in ("compare", "demo") and isinstance(diff, str) and Path(diff).name != diff:
        problems.append(f"key 'diff_file' is '{diff}'; expected a file name in the directory")
    method = data.get("study", {}).get("method") if kind == "sensitivity" else None
    if kind == "sensitivity" and method not in sa.METHODS:
        problems.append(
            f"key 'study.method' is {method!r}; expected one of {', '.join(sa.METHODS)}"
        )
    for k, item in enumerate(data.get("parameters", []) if kind == "calibration" else []):
        if not isinstance(item, dict):
            problems.append(f"key 'parameters[{k}]' is not an object; expected {{name, unit, ...}}")
            continue
        problems += _check_keys(item, PARAMETER_KEYS, f"parameters[{k}].", required=True)
    return problems


def read_manifest(results_dir: Path) -> Manifest:
    """Read and check ``results_dir/manifest.json``; BadInput names the file, key and allowed.

    The kind and run ID come from the manifest (``experiments.results.read_manifest``); the
    keys each kind's report needs are checked here.
    """
    manifest = results.read_manifest(results_dir, KINDS)
    data, kind = manifest.data, manifest.kind
    problems = _check_keys(data, REQUIRED[kind], "", required=True)
    problems += _check_keys(data, OPTIONAL, "", required=False)
    problems += _kind_problems(kind, data) if not problems else []
    if problems:
        raise BadInput("\n  ".join([f"{manifest.path} is not a valid {kind} manifest:", *problems]))
    return manifest
