"""`make dvc-plots` writes a page that draws every plot with the network off."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import colours, needs_chromium, run_chromium
from tests.repo_copy import copy_with_store

#: Every plot of dvc.yaml: the id vega-embed draws it into, and its data file.
PLOTS = {
    "reports_evaluation_predictions_csv": "reports/evaluation/predictions.csv",
    "reports_evaluation_per_class_metrics_csv": "reports/evaluation/per_class_metrics.csv",
    "reports_cv_dataset_boxes_per_split_csv": "reports/cv_dataset/boxes_per_split.csv",
    "reports_cv_dataset_box_sizes_csv": "reports/cv_dataset/box_sizes.csv",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _marks(dom: str) -> dict[str, dict[str, int]]:
    """Return, per plot id, the most data marks of each kind (rect, symbol) one layer drew.

    A layered plot (the confusion matrix: cells, their outlines, labels) has several groups.
    """
    parts = re.split(r'<div id="(reports_[a-z_]+)"', dom)
    drawn: dict[str, dict[str, int]] = {}
    for plot_id, chunk in zip(parts[1::2], parts[2::2], strict=True):
        kinds = drawn.setdefault(plot_id, {})
        for kind, body in re.findall(r'<g class="mark-(\w+) role-mark[^"]*"[^>]*>(.*?)</g>', chunk):
            kinds[kind] = max(kinds.get(kind, 0), body.count("<path"))
    return drawn


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Path:
    """Return the plots page of a fresh copy after the stages that write plot data ran."""
    repo, env = copy_with_store(tmp_path_factory.mktemp("dvc-plots"), migrated_mlflow_db)
    for name in PLOTS.values():  # written by the stages below, not taken from the working tree
        (repo / name).unlink(missing_ok=True)
    subprocess.run(["dvc", "repro", "evaluate", "make_tiny_person"], cwd=repo, env=env,
                   check=True, capture_output=True)  # fmt: skip
    out = repo / "reports" / "plots"
    result = subprocess.run(
        [sys.executable, "tools/render_dvc_plots.py", "--out", str(out)],
        cwd=repo, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return out / "index.html"


def test_the_page_loads_nothing_from_the_internet(page: Path) -> None:
    html = page.read_text()
    assert '<script src="vega-bundle.js"></script>' in html
    assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]
    assert (page.parent / "vega-bundle.js").stat().st_size > 500_000  # Vega + Vega-Lite + embed
    assert html.count("vegaEmbed(") == len(PLOTS)


@needs_chromium
def test_every_plot_is_drawn_offline(page: Path, tmp_path: Path) -> None:
    url = page.as_uri()
    dom = run_chromium(url, "--dump-dom", profile=tmp_path / "dom", offline=True, budget_ms=10000)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # vega-embed adds its class and an SVG per plot once Vega has drawn it; each data mark
    # (a bar, a confusion cell, a point) is one path of the plot's mark group.
    assert dom.stdout.count('class="vega-embed') == len(PLOTS)
    drawn = _marks(dom.stdout)
    assert list(drawn) == list(PLOTS)
    repo = page.parent.parent.parent
    rows = {plot_id: _rows(repo / name) for plot_id, name in PLOTS.items()}
    assert drawn["reports_evaluation_predictions_csv"]["rect"] == 9  # 3 x 3 classes
    assert drawn["reports_evaluation_per_class_metrics_csv"]["rect"] == len(
        rows["reports_evaluation_per_class_metrics_csv"]
    )
    assert drawn["reports_cv_dataset_boxes_per_split_csv"]["rect"] == 3  # train, val, test
    boxes = rows["reports_cv_dataset_box_sizes_csv"]
    assert len(boxes) > 50 and drawn["reports_cv_dataset_box_sizes_csv"]["symbol"] == len(boxes)
    for title in ("Iris confusion matrix", "boxes per split", "box width and height"):
        assert title in dom.stdout
    screenshot = tmp_path / "plots.png"
    shot = run_chromium(
        url, f"--screenshot={screenshot}", profile=tmp_path / "shot", offline=True,
        window=(1280, 1000), budget_ms=10000,
    )  # fmt: skip
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    assert colours(screenshot) > 50  # drawn charts, not a blank page
