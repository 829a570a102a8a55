"""Make the committed posterior's medians the model's default parameters.

Rewrites, in ``abm/config.py``, the default value and the source of every parameter in
``calibration/posterior/summary.csv``: the value becomes the posterior median (3 significant
digits) and the source ``calibrated: posterior median of <run id> (prior: <old source>)``.
Run after ``govsim calibrate --export``; ``tests/test_posterior.py`` checks the two agree.
Then run ``python scripts/update_odd_table.py`` and ``python scripts/update_baseline.py``.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calibration.posterior import POSTERIOR_DIR, load_posterior, rounded  # noqa: E402

CONFIG = ROOT / "abm" / "config.py"
PRIOR = re.compile(r"\(prior: (.*)\)$")


def calibrated_source(old: str, run_id: str) -> str:
    """The source text of a calibrated parameter, keeping the prior's original source."""
    match = PRIOR.search(old)
    prior = match.group(1) if old.startswith("calibrated:") and match else old
    return f"calibrated: posterior median of {run_id} (prior: {prior})"


def _offset(lines: list[bytes], lineno: int, col: int) -> int:
    """Byte offset of an AST position (``col`` counts UTF-8 bytes, as ast does)."""
    return sum(len(line) for line in lines[: lineno - 1]) + col


def string_literal(text: str, indent: int = 8, width: int = 100) -> str:
    """``text`` as Python string literal(s), implicitly concatenated over lines that fit."""
    room = width - indent - 3  # two quotes and the trailing comma
    words = text.split(" ")
    chunks, line = [], ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if line and len(json.dumps(candidate, ensure_ascii=False)) - 2 > room:
            chunks.append(line + " ")
            line = word
        else:
            line = candidate
    chunks.append(line)
    quoted = [json.dumps(c, ensure_ascii=False) for c in chunks]
    return ("\n" + " " * indent).join(quoted)


def rewrite(text: str, values: dict[str, float], run_id: str) -> str:
    """``text`` of abm/config.py with the given parameters' defaults and sources replaced."""
    tree = ast.parse(text)
    lines = text.encode().splitlines(keepends=True)
    edits: list[tuple[int, int, bytes]] = []
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Parameters")
    found = set()
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name = node.target.id
        if name not in values or not isinstance(node.value, ast.Call):
            continue
        value_node, source_node = node.value.args[0], node.value.args[4]
        assert isinstance(source_node, ast.Constant) and isinstance(source_node.value, str)
        for target, new in (
            (value_node, repr(rounded(values[name]))),
            (source_node, string_literal(calibrated_source(source_node.value, run_id))),
        ):
            assert target.end_lineno is not None and target.end_col_offset is not None
            start = _offset(lines, target.lineno, target.col_offset)
            end = _offset(lines, target.end_lineno, target.end_col_offset)
            edits.append((start, end, new.encode()))
        found.add(name)
    missing = set(values) - found
    if missing:
        raise SystemExit(f"parameters not found in {CONFIG}: {sorted(missing)}")
    data = text.encode()
    for start, end, new in sorted(edits, reverse=True):
        data = data[:start] + new + data[end:]
    return data.decode()


def main() -> int:
    post = load_posterior(POSTERIOR_DIR)
    text = rewrite(CONFIG.read_text(), post.point_estimate(), post.run_id)
    CONFIG.write_text(text)
    ruff = Path(sys.executable).parent / "ruff"
    subprocess.run([str(ruff), "format", "-q", str(CONFIG)], check=False)
    print(f"set {len(post.names)} defaults in {CONFIG} to the medians of {post.run_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
