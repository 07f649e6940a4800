"""`make dvc-plots` writes a page that draws every plot with the network off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import colours, needs_chromium, run_chromium
from tests.repo_copy import copy_with_store


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Path:
    """Return the plots page of a fresh copy after ``dvc repro evaluate``."""
    repo, env = copy_with_store(tmp_path_factory.mktemp("dvc-plots"), migrated_mlflow_db)
    subprocess.run(["dvc", "repro", "evaluate"], cwd=repo, env=env, check=True,
                   capture_output=True)  # fmt: skip
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
    assert html.count("vegaEmbed(") == 2  # the confusion matrix and the per-class bars


@needs_chromium
def test_every_plot_is_drawn_offline(page: Path, tmp_path: Path) -> None:
    url = page.as_uri()
    dom = run_chromium(url, "--dump-dom", profile=tmp_path / "dom", offline=True, budget_ms=10000)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # vega-embed adds its class and an SVG (or canvas) per plot once Vega has drawn it.
    assert dom.stdout.count('class="vega-embed') == 2
    assert dom.stdout.count("<svg") + dom.stdout.count("<canvas") >= 2
    assert "Iris confusion matrix" in dom.stdout or "<canvas" in dom.stdout
    screenshot = tmp_path / "plots.png"
    shot = run_chromium(
        url, f"--screenshot={screenshot}", profile=tmp_path / "shot", offline=True,
        window=(1280, 900), budget_ms=10000,
    )  # fmt: skip
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    assert colours(screenshot) > 50  # drawn charts, not a blank page
