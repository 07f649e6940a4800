"""The grid runner's progress: a bar with the grid's ETA on a terminal, none in a log."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from src.zenml_pipelines import run_yolo_pipeline_grid as grid
from src.zenml_pipelines.launch import PipelineOutcome


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _fake_pipeline(cv: Any, params: Any, **kwargs: Any) -> PipelineOutcome:
    """Return an outcome as a finished pipeline run reports it, without running anything."""
    metrics = {"precision": 0.5, "recall": 0.5, "map50": params.lr0, "map50_95": params.lr0}
    summary = {
        "config_name": kwargs["config_name"],
        "metrics": metrics,
        "train_seconds": 1.0,
        "mlflow_run_id": f"run-{kwargs['config_name']}",
    }
    return PipelineOutcome(summary, kwargs["run_name"], "id", "completed", False, 1.0)


@pytest.fixture
def fake_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grid, "preflight", lambda configs: None)
    monkeypatch.setattr(grid, "prepare_stack", lambda cv: None)
    monkeypatch.setattr(grid, "run_yolo_pipeline", _fake_pipeline)


@pytest.mark.parametrize("terminal", [True, False])
def test_the_grid_bar_counts_configurations_on_a_terminal_only(
    fake_grid: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    terminal: bool,
) -> None:
    stderr = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    argv = ["--no-register", "--no-report", "--runs-dir", str(tmp_path)]
    assert grid.main(argv) == 0
    out = capsys.readouterr().out
    configs = int(re.search(r"^grid: (\d+) configurations", out, re.M).group(1))  # type: ignore[union-attr]
    assert configs > 1 and len(re.findall(r"^\[\d+/\d+\] .* \.\.\.$", out, re.M)) == configs
    if not terminal:
        assert stderr.getvalue() == ""
        return
    lines = stderr.getvalue().splitlines()
    # One line before the first configuration, one after each, with the ETA of the rest.
    counts = re.findall(r"\| (\d+/\d+) \[", stderr.getvalue())
    assert (
        counts
        == [f"{done}/{configs}" for done in range(configs + 1)]
        == [
            re.search(r"\| (\d+/\d+) \[", line).group(1)  # type: ignore[union-attr]
            for line in lines
        ]
    )
    assert all(line.startswith("grid: ") and "config" in line for line in lines)
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, ", lines[1])  # elapsed < ETA
