"""`make screenshots` refuses, before any run, a params file whose YOLO runs draw no plots."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.screenshots import check_plots_on


def test_plots_off_is_refused_in_one_line_naming_the_field(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("cv:\n  train:\n    plots: false\n")
    with pytest.raises(SystemExit, match=r"^error: params.yaml: cv.train.plots is false; "):
        check_plots_on(params)
    params.write_text("cv:\n  train:\n    plots: true\n")
    check_plots_on(params)  # accepted: nothing raised
