"""``benchmarks/bench_ratio.py`` runs end to end and reports govsim/skeleton ratios.

No timing assertions: only that ``--quick`` produces (and writes as JSON) the expected keys with
positive numbers, that the skeleton is called with govsim's population shapes, and that a
missing skeleton stops the script with a message naming the path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from abm.model import GovernanceModel

Loader = Callable[[str], ModuleType]

# a stand-in skeleton that records its calls, one JSON line per call
FAKE_SKELETON = """
import json, os
def run(n, steps, mc=False, seed=0):
    with open(os.environ["FAKE_SKELETON_LOG"], "a") as log:
        log.write(json.dumps([n, steps, mc, seed]) + "\\n")
"""

PART_KEYS = {
    "pairs",
    "skeleton_call",
    "skeleton_seconds",
    "govsim_seconds",
    "ratio",
    "cpu_ratio",
    "ratios",
    "target_median_ratio",
    "meets_target",
}


def assert_summary_positive(part: dict[str, object], *keys: str) -> None:
    """Each key holds {"min": x, "median": y} with 0 < x <= y < inf."""
    for key in keys:
        value = part[key]
        assert isinstance(value, dict) and value.keys() == {"min", "median"}, (key, value)
        assert 0 < value["min"] <= value["median"] < float("inf"), (key, value)


def test_bench_ratio_quick(
    tmp_path: Path, load_benchmark: Loader, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both configurations, memory and profile are reported, printed and written as JSON."""
    bench = load_benchmark("bench_ratio")
    if not bench.skeleton_path().is_file():
        pytest.skip(f"the shared skeleton is not at {bench.skeleton_path()}")
    out = tmp_path / "ratio.json"
    result = bench.main(["--quick", "--json", str(out)])

    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert {"command", "environment", "skeleton", "calibration", "eu_scale", "profile"} <= set(
        result
    )
    assert result["quick"] is True
    for key, pairs in (("calibration", 2), ("eu_scale", 1)):
        part = result[key]
        assert part.keys() >= PART_KEYS, key
        assert part["pairs"] == pairs == len(part["ratios"])
        assert_summary_positive(
            part,
            "skeleton_seconds",
            "govsim_seconds",
            "ratio",
            "cpu_ratio",
            "skeleton_cpu_seconds",
            "govsim_cpu_seconds",
        )
        for clock in ("", "cpu_"):
            ratios = [
                g / s
                for g, s in zip(
                    part[f"govsim_{clock}seconds_per_pair"],
                    part[f"skeleton_{clock}seconds_per_pair"],
                    strict=True,
                )
            ]
            assert part[f"{clock}ratios"] == pytest.approx(ratios)
        assert part["meets_target"] == (part["ratio"]["median"] <= part["target_median_ratio"])
    assert result["calibration"]["target_median_ratio"] == 1.5
    assert result["eu_scale"]["target_median_ratio"] == 1.2
    assert result["calibration"]["govsim_shape"]["steps_per_year"] == 1
    assert result["eu_scale"]["govsim_shape"]["steps_per_year"] == 4
    mem = result["eu_scale"]["memory"]
    assert mem["peak_rss_mb"] >= mem["rss_after_imports_mb"] > 0
    assert mem["meets_target"] == (mem["peak_rss_mb"] <= 1024.0)
    stages = {row["stage"] for row in result["profile"]["stages"]}
    assert {"build (GovernanceModel.__init__)", "citizens.update_opinions"} <= stages

    printed = capsys.readouterr().out
    assert "ratio min / median" in printed and "EU-scale peak memory" in printed
    assert printed.count("PASS") + printed.count("FAIL") == 3  # two ratios and the memory


def test_skeleton_gets_govsim_shapes(
    tmp_path: Path, load_benchmark: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The skeleton runs with govsim's citizens and steps, numpy citizens, once per govsim run."""
    bench = load_benchmark("bench_ratio")
    fake, log = tmp_path / "fake_skeleton.py", tmp_path / "calls.jsonl"
    fake.write_text(FAKE_SKELETON, encoding="utf-8")
    monkeypatch.setenv("GOVSIM_SKELETON", str(fake))
    monkeypatch.setenv("FAKE_SKELETON_LOG", str(log))

    result = bench.main(["--quick", "--skip-eu", "--pairs", "3"])

    assert "eu_scale" not in result
    assert result["skeleton"] == str(fake.resolve())
    config = bench.scenario(bench.CALIBRATION_TOML, quick=True)
    citizens = GovernanceModel(config, 0).citizens.n
    steps = config.n_years * config.steps_per_year
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    # one warm-up, then seeds 1..3 as govsim
    assert calls == [[citizens, steps, False, seed] for seed in range(4)]
    assert result["calibration"]["skeleton_call"] == {
        "n_citizens": citizens,
        "steps": steps,
        "mesa_citizens": False,
    }
    eu_config = bench.scenario(bench.EU_SCALE_TOML, quick=True)
    eu = bench.skeleton_shape(eu_config)
    assert (eu["n_citizens"], eu["steps"], eu["mesa_citizens"]) == (
        GovernanceModel(eu_config, 0).citizens.n,
        4 * eu_config.n_years,
        False,
    )


def test_missing_skeleton_is_a_clear_error(
    tmp_path: Path,
    load_benchmark: Loader,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A missing skeleton, or one without run(), exits 2 naming the file, before any run."""
    bench = load_benchmark("bench_ratio")
    missing = tmp_path / "nowhere" / "skeleton_anchor.py"
    monkeypatch.setenv("GOVSIM_SKELETON", str(missing))
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--quick", "--json", str(tmp_path / "out.json")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"performance skeleton not found: {missing}" in err and "GOVSIM_SKELETON" in err
    assert not (tmp_path / "out.json").exists()

    no_run = tmp_path / "no_run.py"
    no_run.write_text("def walk(n):\n    return n\n", encoding="utf-8")
    monkeypatch.setenv("GOVSIM_SKELETON", str(no_run))
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--quick"])
    assert exit_info.value.code == 2
    assert f"{no_run}: has no function run(" in capsys.readouterr().err


def test_default_skeleton_is_beside_the_repository(
    load_benchmark: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the override the skeleton is ../shared/perf/skeleton_anchor.py from the repo root."""
    bench = load_benchmark("bench_ratio")
    monkeypatch.delenv("GOVSIM_SKELETON", raising=False)
    repo = Path(str(bench.__file__)).resolve().parents[1]
    assert bench.skeleton_path() == repo.parent / "shared" / "perf" / "skeleton_anchor.py"
