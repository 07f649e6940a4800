"""tools/bench/report.py: the reports written from fake results (no timing is asserted)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.bench import cases, harness, report


def fake_result(id_: str, a: list[float], b: list[float], target: str = "≤ 2.0") -> harness.Result:
    result = harness.Result(
        id=id_, what=f"what {id_}", target=target, a_label="on", b_label="off", a=a, b=b
    )
    result.value = harness.ratio(a, b)
    result.status = harness.judge(result.value, target)
    return result


def test_reports_have_the_table_machine_and_samples(tmp_path: Path) -> None:
    results = [fake_result("B1", [3.0, 3.2, 2.8], [1.0, 1.1, 0.9])]
    md_path, json_path = report.write_reports(results, tmp_path, "python -m tools.bench --only B1")
    text = md_path.read_text()
    assert "| B1 | what B1 | on | off | 3.00 s | 1.00 s | 3.000 | ≤ 2.0 | **fail** |" in text
    assert "## Machine" in text and "cores" in text and "mlflow" in text
    data = json.loads(json_path.read_text())
    assert data["results"][0]["a"] == [3.0, 3.2, 2.8]
    assert data["results"][0]["medians"] == {"a": 3.0, "b": 1.0}
    assert data["machine"]["cores"] >= 1


def test_reports_keep_earlier_ids_unless_fresh(tmp_path: Path) -> None:
    report.write_reports([fake_result("B6", [0.5], [1.0], "≤ 1.5")], tmp_path, "first")
    report.write_reports([fake_result("B1", [2.0], [1.0])], tmp_path, "second")
    ids = [r["id"] for r in json.loads((tmp_path / "bench.json").read_text())["results"]]
    assert ids == ["B1", "B6"]
    report.write_reports([fake_result("B1", [2.0], [1.0])], tmp_path, "third", merge=False)
    ids = [r["id"] for r in json.loads((tmp_path / "bench.json").read_text())["results"]]
    assert ids == ["B1"]


def test_baseline_adds_a_before_after_table_that_survives_merges(tmp_path: Path) -> None:
    before_dir, after_dir = tmp_path / "before", tmp_path / "after"
    report.write_reports([fake_result("B1", [9.0], [2.0])], before_dir, "before")
    baseline = report.read_baseline(before_dir / "bench.json", "old code")
    report.write_reports([fake_result("B1", [5.0], [2.5])], after_dir, "after", baseline=baseline)
    report.write_reports([fake_result("B6", [0.5], [1.0], "≤ 1.5")], after_dir, "again")
    text = (after_dir / "bench.md").read_text()
    assert "## Before / after (old code)" in text
    assert "| B1 | 9.00 s / 2.00 s | 4.500 | 5.00 s / 2.50 s | 2.000 | ≤ 2.0 |" in text
    assert "Where the time goes" not in text  # B1 passes at 2.00: no remedy text


def test_a_missed_target_explains_where_the_time_goes(tmp_path: Path) -> None:
    report.write_reports([fake_result("B2", [3.0], [1.0], "≤ 1.5")], tmp_path, "x")
    assert "ruamel.yaml" in (tmp_path / "bench.md").read_text()


def test_the_notes_file_is_read_by_section_and_unwrapped(tmp_path: Path) -> None:
    path = tmp_path / "NOTES.md"
    path.write_text("# Title\n\nIntro.\n\n## B2\n\nOne\nline.\n\nTwo.\n\n## B4\nFour.\n")
    assert report.load_notes(path) == {"B2": "One line.\n\nTwo.", "B4": "Four."}


def test_the_notes_cover_known_cases_and_leave_the_targets_to_the_cases() -> None:
    notes = report.load_notes()
    assert {"B1", "B2", "B3", "B4"} <= set(notes) <= set(cases.BENCHES)
    for case_id, text in notes.items():
        limit = re.sub(r"[^0-9.]", "", cases.BENCHES[case_id].target)
        assert not re.search(rf"(?<![\d.]){re.escape(limit)}(?!\d)", text), case_id


def test_a_missed_target_is_explained_after_the_target_itself(tmp_path: Path) -> None:
    result = fake_result("B2", [3.0], [1.0], "≤ 1.5")
    report.write_reports([result], tmp_path, "x", notes={"B2": "DVC's start-up."})
    text = (tmp_path / "bench.md").read_text()
    assert "what meeting the target (≤ 1.5) would take: DVC's start-up." in text
