"""ZenML's dashboard in a browser: the local server shows a baseline run and its four steps.

The server is the ``make zenml-up`` one (``zenml login --local``) on a free port, with a
ZenML state and an MLflow store of the test's own; headless Chromium reaches only
127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.screens.browser import browser_session, find_browser
from tools.screens.images import count_colours
from tools.screens.zenml_server import (
    PIPELINE_STEPS,
    local_server,
    show_pipeline_run,
    skip_onboarding,
    zenml_env,
)

pytestmark = pytest.mark.skipif(
    find_browser() is None, reason="no chromium: `make test-tools` installs Debian's chromium"
)

#: One epoch on a 8 / 4 / 4 image dataset the pipeline's data step builds.
TINY_CV = {
    "dataset": {"train": 0.5, "val": 0.25, "test": 0.25, "max_images": 16},
    "synthetic": {"images": 24, "imgsz": 64},
    "train": {"epochs": 1, "imgsz": 32, "batch": 4, "plots": False},
    "tracking": {"experiment_name": "yolo-dashboard", "registered_model_name": "yolo-dash"},
}


def test_dashboard_shows_the_baseline_run_with_its_four_steps(
    tmp_path: Path, migrated_mlflow_db: Path
) -> None:
    shutil.copyfile(migrated_mlflow_db, tmp_path / "mlflow.db")
    cv = json.loads(json.dumps(TINY_CV))
    cv["dataset"] |= {"source": str(tmp_path / "coco128"), "output": str(tmp_path / "tiny")}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"cv": cv}))
    env = zenml_env(tmp_path / "zenml", tmp_path)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path / 'mlflow.db'}"

    with local_server(env) as server:
        summary_path = tmp_path / "baseline.json"
        result = subprocess.run(
            [sys.executable, "-m", "src.zenml_pipelines.run_yolo_pipeline_baseline",
             "--params", str(params), "--runs-dir", str(tmp_path / "runs"),
             "--summary-out", str(summary_path)],
            cwd=tmp_path, env=server.env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-4000:]
        run_id = json.loads(summary_path.read_text())["zenml_run_id"]
        # The run was stored by the server, not by a local store beside it.
        assert server.api(f"runs/{run_id}")["body"]["status"] == "completed"

        skip_onboarding(server)
        with browser_session(viewport=(1280, 900)) as session:
            shot = tmp_path / "run.png"
            text, steps = show_pipeline_run(session, server, run_id, shot)
            refused = list(session.refused)

    assert steps == list(PIPELINE_STEPS), text[:2000]
    assert "completed" in text
    assert "Add your account details" not in text  # past the onboarding survey
    assert count_colours(shot) > 200  # a drawn DAG, not a blank or loading page
    assert not [url for url in refused if "127.0.0.1" in url]
    # Stopped with the test: nothing answers on the port any more.
    with pytest.raises(OSError):
        server.api("info")
