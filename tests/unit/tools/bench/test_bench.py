"""tools/bench: statistics, alternation, verdicts and report writing, with fake timings.

No timing is asserted anywhere: the benchmark itself is run by `make bench`, not by tests.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
_spec = importlib.util.spec_from_file_location("bench", ROOT / "tools" / "bench" / "__main__.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench"] = bench  # dataclasses look their module up by name
_spec.loader.exec_module(bench)


def test_median_and_ratio() -> None:
    assert bench.median([3.0, 1.0, 2.0]) == 2.0
    assert bench.median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert bench.median([]) is None
    assert bench.ratio([4.0, 4.0, 5.0], [2.0, 2.0, 1.0]) == 2.0
    assert bench.ratio([], [1.0]) is None
    assert bench.ratio([1.0], [0.0]) is None


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
    assert bench.judge(value, target) == verdict


def test_alternate_discards_warmup_and_swaps_the_order() -> None:
    calls: list[str] = []
    counter = {"a": 0, "b": 0}

    def side(name: str) -> float:
        calls.append(name)
        counter[name] += 1
        return float(counter[name])

    a, b = bench.alternate(lambda: side("a"), lambda: side("b"), repeats=4, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert a == [2.0, 3.0, 4.0, 5.0] and b == [2.0, 3.0, 4.0, 5.0]  # warm-up values dropped


def test_top_imports_reads_importtime_output() -> None:
    output = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        200 |   numpy.core",
            "import time:       300 |    1500000 | numpy",
            "import time:        50 |     250000 | yaml",
        ]
    )
    assert bench.top_imports(output, 5) == [(1.5, "numpy"), (0.25, "yaml")]


def fake_result(id_: str, a: list[float], b: list[float], target: str = "≤ 2.0") -> bench.Result:
    result = bench.Result(
        id=id_, what=f"what {id_}", target=target, a_label="on", b_label="off", a=a, b=b
    )
    result.value = bench.ratio(a, b)
    result.status = bench.judge(result.value, target)
    return result


def test_reports_have_the_table_machine_and_samples(tmp_path: Path) -> None:
    results = [fake_result("B1", [3.0, 3.2, 2.8], [1.0, 1.1, 0.9])]
    md_path, json_path = bench.write_reports(results, tmp_path, "python -m tools.bench --only B1")
    text = md_path.read_text()
    assert "| B1 | what B1 | on | off | 3.00 s | 1.00 s | 3.000 | ≤ 2.0 | **fail** |" in text
    assert "## Machine" in text and "cores" in text and "mlflow" in text
    data = json.loads(json_path.read_text())
    assert data["results"][0]["a"] == [3.0, 3.2, 2.8]
    assert data["results"][0]["medians"] == {"a": 3.0, "b": 1.0}
    assert data["machine"]["cores"] >= 1


def test_reports_keep_earlier_ids_unless_fresh(tmp_path: Path) -> None:
    bench.write_reports([fake_result("B6", [0.5], [1.0], "≤ 1.5")], tmp_path, "first")
    bench.write_reports([fake_result("B1", [2.0], [1.0])], tmp_path, "second")
    ids = [r["id"] for r in json.loads((tmp_path / "bench.json").read_text())["results"]]
    assert ids == ["B1", "B6"]
    bench.write_reports([fake_result("B1", [2.0], [1.0])], tmp_path, "third", merge=False)
    ids = [r["id"] for r in json.loads((tmp_path / "bench.json").read_text())["results"]]
    assert ids == ["B1"]


def test_selection_defaults_to_b1_to_b6() -> None:
    assert [b.id for b in bench.select(None, everything=False)] == [f"B{i}" for i in range(1, 7)]
    assert [b.id for b in bench.select(None, everything=True)][-1] == "B7"
    assert [b.id for b in bench.select("b6, B1", everything=False)] == ["B6", "B1"]
    with pytest.raises(SystemExit, match="unknown id"):
        bench.select("B9", everything=False)


def test_a_failing_benchmark_becomes_an_error_result() -> None:
    def broken(ctx: bench.Context, result: bench.Result) -> None:
        raise bench.BenchError("dvc repro exited 1")

    def missing(ctx: bench.Context, result: bench.Result) -> None:
        raise bench.BenchError("not available: src/train_cv.py not in the working tree yet")

    ctx = bench.Context(tmp=Path("/nonexistent"), repeats=1, warmup=0, profile=False)
    spec = bench.Bench("B9", "x", "a", "b", "≤ 1.0", broken)
    assert bench.measure(spec, ctx).status == "error"
    spec = bench.Bench("B9", "x", "a", "b", "≤ 1.0", missing)
    result = bench.measure(spec, ctx)
    assert result.status == "not available" and "train_cv" in result.notes[0]


def test_baseline_adds_a_before_after_table_that_survives_merges(tmp_path: Path) -> None:
    before_dir, after_dir = tmp_path / "before", tmp_path / "after"
    bench.write_reports([fake_result("B1", [9.0], [2.0])], before_dir, "before")
    baseline = bench.read_baseline(before_dir / "bench.json", "old code")
    bench.write_reports([fake_result("B1", [5.0], [2.5])], after_dir, "after", baseline=baseline)
    bench.write_reports([fake_result("B6", [0.5], [1.0], "≤ 1.5")], after_dir, "again")
    text = (after_dir / "bench.md").read_text()
    assert "## Before / after (old code)" in text
    assert "| B1 | 9.00 s / 2.00 s | 4.500 | 5.00 s / 2.50 s | 2.000 | ≤ 2.0 |" in text
    assert "Where the time goes" not in text  # B1 passes at 2.00: no remedy text


def test_a_missed_target_explains_where_the_time_goes(tmp_path: Path) -> None:
    bench.write_reports([fake_result("B2", [3.0], [1.0], "≤ 1.5")], tmp_path, "x")
    assert "ruamel.yaml" in (tmp_path / "bench.md").read_text()
