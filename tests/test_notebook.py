"""docs/notebooks/quickstart.ipynb runs top to bottom on a reduced population, with the API only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "quickstart.ipynb"


def test_quickstart_uses_only_the_public_api() -> None:
    code = "\n".join(
        "".join(cell["source"])
        for cell in json.loads(NOTEBOOK.read_text())["cells"]
        if cell["cell_type"] == "code"
    )
    imports = set(re.findall(r"^\s*(?:from|import)\s+([\w.]+)", code, flags=re.MULTILINE))
    assert "govsim" in imports
    assert not imports & {"abm", "experiments", "calibration"}, imports
    assert not re.search(r"\b(abm|experiments|calibration)\.", code)


def test_quickstart_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSIM_NOTEBOOK_QUICK", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert "levers.enhanced_financing.intensity" in text  # the validation message was shown
    assert "manifest.json" in text and "own_sector_cut_pct" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
