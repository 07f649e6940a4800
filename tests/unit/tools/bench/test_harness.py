"""tools/bench/harness.py: statistics, alternation, verdicts and failing cases, with fake timings.

No timing is asserted anywhere: the benchmark itself is run by `make bench`, not by tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.bench import harness


def test_median_and_ratio() -> None:
    assert harness.median([3.0, 1.0, 2.0]) == 2.0
    assert harness.median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert harness.median([]) is None
    assert harness.ratio([4.0, 4.0, 5.0], [2.0, 2.0, 1.0]) == 2.0
    assert harness.ratio([], [1.0]) is None
    assert harness.ratio([1.0], [0.0]) is None


@pytest.mark.parametrize(
    ("value", "target", "verdict"),
    [
        (1.99, "≤ 2.0", "pass"),
        (2.0, "≤ 2.0", "pass"),
        (2.01, "≤ 2.0", "fail"),
        (1.0, "<= 1.5", "pass"),
        (0.0, "= 0", "pass"),
        (1.0, "= 0", "fail"),
        (None, "≤ 1.2", "error"),
        (123.0, "report", "report"),
    ],
)
def test_judge(value: float | None, target: str, verdict: str) -> None:
    assert harness.judge(value, target) == verdict


@pytest.mark.parametrize(
    ("a", "b", "verdict"),
    [
        ([20.0, 25.0, 40.0], [700.0], "pass"),
        ([31.0, 32.0, 20.0], [700.0], "fail"),
        ([20.0], [721.0], "fail"),
        ([20.0], [], "pass"),  # the slow lane not run: judged on the fast one alone
        ([], [], "error"),
    ],
)
def test_per_side_targets_bound_each_sides_median(
    a: list[float], b: list[float], verdict: str
) -> None:
    result = harness.Result(id="B9", what="lanes", target="A ≤ 30 s, B ≤ 720 s", a=a, b=b)
    assert harness.judge_result(result, result.target) == verdict


def test_a_plain_target_is_judged_on_the_value() -> None:
    result = harness.Result(id="B1", what="ratio", target="≤ 2.0", value=2.5)
    assert harness.judge_result(result, result.target) == "fail"


def test_alternate_discards_warmup_and_swaps_the_order() -> None:
    calls: list[str] = []
    counter = {"a": 0, "b": 0}

    def side(name: str) -> float:
        calls.append(name)
        counter[name] += 1
        return float(counter[name])

    a, b = harness.alternate(lambda: side("a"), lambda: side("b"), repeats=4, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert a == [2.0, 3.0, 4.0, 5.0] and b == [2.0, 3.0, 4.0, 5.0]  # warm-up values dropped


def test_a_failing_benchmark_becomes_an_error_result() -> None:
    def broken(ctx: harness.Context, result: harness.Result) -> None:
        raise harness.BenchError("dvc repro exited 1")

    def missing(ctx: harness.Context, result: harness.Result) -> None:
        raise harness.BenchError("not available: src/train_cv.py not in the working tree yet")

    ctx = harness.Context(tmp=Path("/nonexistent"), repeats=1, warmup=0, profile=False)
    spec = harness.Bench("B9", "x", "a", "b", "≤ 1.0", broken)
    assert harness.measure(spec, ctx).status == "error"
    spec = harness.Bench("B9", "x", "a", "b", "≤ 1.0", missing)
    result = harness.measure(spec, ctx)
    assert result.status == "not available" and "train_cv" in result.notes[0]


def test_the_copy_env_has_its_own_stores_and_the_what_if_settings_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENML_STORE_URL", "http://shared.invalid")
    ctx = harness.Context(
        tmp=tmp_path, repeats=1, warmup=0, profile=False, extra_env={"YOLO_OFFLINE": "0"}
    )
    env = ctx.bench_env(tmp_path / "work", EXTRA="1")
    assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'work' / 'mlflow.db'}"
    assert env["PATH"].startswith(str(harness.VENV_BIN))
    assert "ZENML_STORE_URL" not in env
    assert env["EXTRA"] == "1" and env["YOLO_OFFLINE"] == "0"
    assert harness.bench_env(tmp_path)["YOLO_OFFLINE"] == "1"  # nothing kept between calls
