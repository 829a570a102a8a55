"""The benchmark scripts run end to end in ``--quick`` mode and return complete results.

No timing assertions: only that each script's ``main`` returns (and writes as JSON) the expected
keys with positive numbers, and that the stage profiler leaves the model's functions as it found
them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

import abm.model
import abm.rules.citizens

Loader = Callable[[str], ModuleType]


def assert_positive(mapping: dict[str, object], *keys: str) -> None:
    """Each key is present and holds a positive finite number."""
    for key in keys:
        value = mapping[key]
        assert isinstance(value, int | float), f"{key}: {value!r} is not a number"
        assert 0 < value < float("inf"), f"{key}: {value!r} is not positive"


def test_bench_model_quick(tmp_path: Path, load_benchmark: Loader) -> None:
    """Calibration throughput, EU-scale time and memory, and the stage profile are all reported."""
    bench = load_benchmark("bench_model")
    out = tmp_path / "bench_model.json"
    result = bench.main(["--quick", "--output", str(out)])

    assert {"command", "environment", "calibration", "eu_scale", "profile"} <= result.keys()
    assert result["quick"] is True
    assert json.loads(out.read_text(encoding="utf-8")) == result
    cal = result["calibration"]
    assert_positive(cal, "citizens", "steps", "runs", "runs_per_s", "seconds_per_run")
    eu = result["eu_scale"]
    assert_positive(eu, "citizens", "steps", "seconds_per_run", "peak_rss_mb")
    assert eu["steps_per_year"] == 4 and cal["steps_per_year"] == 1
    assert eu["peak_rss_mb"] >= eu["rss_after_imports_mb"]

    prof = result["profile"]
    assert_positive(prof, "runs", "seconds_per_run")
    stages = {row["stage"]: row for row in prof["stages"]}
    assert "citizens.update_opinions" in stages and "funding.apply_and_award" in stages
    assert all(
        row["seconds_per_run"] >= 0.0
        for row in stages.values()
        if "unattributed" not in row["stage"]
    )
    # the rows partition the run: build + stages + unattributed + loop/results = total
    assert sum(row["share"] for row in stages.values()) == pytest.approx(1.0, rel=1e-9)
    assert len(prof["top5_stages"]) == 5 and set(prof["top5_stages"]) <= stages.keys()


def test_stage_profiler_restores_the_model(load_benchmark: Loader) -> None:
    """After profiling, module functions and model methods are the originals again."""
    bench = load_benchmark("bench_model")
    original = abm.rules.citizens.update_opinions
    config = bench.scenario(bench.CALIBRATION_TOML, quick=True)
    model = abm.model.GovernanceModel(config, 0)
    timer = bench.StageTimer()
    with bench.timed_stages(model, timer) as stages:
        assert abm.rules.citizens.update_opinions is not original
        model.step()
    assert abm.rules.citizens.update_opinions is original
    assert "begin_step" not in vars(model)
    assert set(timer.seconds) == set(stages)
    assert stages == [s.removeprefix("self.") for s in bench.schedule_stages()]


def test_bench_citizens_quick(tmp_path: Path, load_benchmark: Loader) -> None:
    """Both implementations are timed on the same citizens and the ratio is reported."""
    bench = load_benchmark("bench_citizens")
    out = tmp_path / "bench_citizens.json"
    result = bench.main(["--quick", "--output", str(out)])

    assert {"command", "environment", "vectorised", "mesa", "speed_ratio"} <= result.keys()
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert_positive(result, "citizens", "cities", "speed_ratio", "mu", "noise_prob_per_round")
    assert_positive(result["vectorised"], "rounds", "seconds_per_round")
    assert_positive(result["mesa"], "rounds", "seconds_per_round", "build_seconds")
    assert result["speed_ratio"] == pytest.approx(
        result["mesa"]["seconds_per_round"] / result["vectorised"]["seconds_per_round"]
    )


def test_bench_scaling_quick(tmp_path: Path, load_benchmark: Loader) -> None:
    """Each series reports its points (sizes built, CPU seconds) and a fitted exponent."""
    bench = load_benchmark("bench_scaling")
    out = tmp_path / "bench_scaling.json"
    result = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == result
    assert set(result["series"]) == {"citizens", "cities", "steps_per_year"}
    for part in result["series"].values():
        assert len(part["points"]) == 2 and isinstance(part["exponent"], float)
        for point in part["points"]:
            assert_positive(point, "cpu_seconds_min", "citizens", "cities", "steps")
    cities = [p["cities"] for p in result["series"]["cities"]["points"]]
    steps = [p["steps"] for p in result["series"]["steps_per_year"]["points"]]
    assert cities == [362, 500] and steps[1] == 4 * steps[0]


def test_scaling_exponent_is_the_log_log_slope(load_benchmark: Loader) -> None:
    bench = load_benchmark("bench_scaling")
    assert bench.exponent([1, 10, 100], [2.0, 20.0, 200.0]) == pytest.approx(1.0)
    assert bench.exponent([1, 4], [3.0, 6.0]) == pytest.approx(0.5)
