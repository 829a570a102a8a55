"""Documentation stays in step with the code: parameters, schedule, levers, commands."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from abm.config import PARAMETER_META
from abm.model import GovernanceModel
from abm.policies import LEVER_NAMES

ROOT = Path(__file__).resolve().parents[1]
ODD = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _schedule_calls() -> list[str]:
    """The stage calls of GovernanceModel.step, as ``module.function``, in order."""
    source = inspect.getsource(GovernanceModel.step)
    calls = re.findall(r"^\s+(?:self\.)?([a-z_]+\.[a-z_]+)\(", source, re.MULTILINE)
    # the model's and the EU agent's own stages are written with their class names in the ODD
    names = {"self": "GovernanceModel", "eu": "EUPlatform"}
    out = []
    for call in calls:
        owner, func = call.split(".", 1)
        out.append(f"{names.get(owner, owner)}.{func}")
    return out


def test_every_registry_parameter_is_documented() -> None:
    missing = [name for name in PARAMETER_META if f"`{name}`" not in ODD]
    assert not missing, f"docs/ODD.md does not mention: {missing}"


def test_schedule_in_odd_matches_step_order() -> None:
    calls = _schedule_calls()
    assert len(calls) >= 15, calls
    section = ODD.split("## 3. Process overview", 1)[1].split("## 4.", 1)[0]
    positions = []
    for call in calls:
        pos = section.find(f"`{call}`")
        assert pos >= 0, f"schedule stage {call} missing from ODD section 3"
        positions.append(pos)
    assert positions == sorted(positions), "ODD section 3 lists the stages in another order"


def test_levers_are_documented() -> None:
    for name in LEVER_NAMES:
        assert f"`{name}`" in ODD, name
        assert name in README, name


def test_readme_gives_the_two_commands() -> None:
    assert "make run" in README
    assert "make test" in README


def test_odd_parameter_table_is_generated_from_the_registry() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "update_odd_table", ROOT / "scripts" / "update_odd_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.current_rows(ODD) == module.table_rows(), (
        "docs/ODD.md parameter table differs from abm.config.registry(); "
        "run `python scripts/update_odd_table.py`"
    )
