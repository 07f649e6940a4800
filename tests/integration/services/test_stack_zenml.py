"""The ZenML baseline pipeline, unchanged, on the server stack: S3 artifact store and the
MLflow experiment tracker over HTTP (tiny dataset, one epoch at 64 px: CPU is scarce)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from src.zenml_setup.server_stack import SERVER_ARTIFACT_STORE_NAME, SERVER_TRACKER_NAME
from tests.integration.services.conftest import PY, Stack
from tools.screens.browser import browser_session, find_browser
from tools.screens.images import count_colours
from tools.screens.zenml_server import (
    PIPELINE_STEPS,
    LocalServer,
    api_token,
    log_in,
    show_pipeline_run,
    skip_onboarding,
)


def _tiny_params(root: Path) -> Path:
    params = {
        "cv": {
            "dataset": {
                "source": str(root / "coco128"),
                "output": str(root / "tiny_person"),
                "train": 0.5,  # of 16 images: 8 / 4 / 4
                "val": 0.25,
                "test": 0.25,
                "max_images": 16,
                "seed": 0,
            },
            "synthetic": {"images": 24, "imgsz": 64, "seed": 0},
            "train": {
                "epochs": 1,
                "imgsz": 64,
                "batch": 4,
                "workers": 0,
                "device": "cpu",
                "plots": False,
            },
            "grid": {"epochs": [1], "imgsz": [64], "lr0": [0.01]},
            "tracking": {
                "experiment_name": "yolo-stack-test",
                "registered_model_name": "yolo-stack-test",
            },
        }
    }
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_baseline_pipeline_runs_on_s3_and_the_mlflow_server(stack: Stack) -> None:
    root = stack.root / "cv"
    root.mkdir()
    summary_file = root / "outcome.json"
    result = stack.run(
        PY,
        "-m",
        "src.zenml_pipelines.run_yolo_pipeline_baseline",
        "--params",
        str(_tiny_params(root)),
        "--runs-dir",
        str(root / "runs"),
        "--summary-out",
        str(summary_file),
        timeout=900,
    )
    # Selected by ZENML_STACK_NAME in the .env, not by any code change.
    assert "s3_mlflow_stack" in result.stdout
    outcome = json.loads(summary_file.read_text())
    assert outcome["status"] == "completed"

    # ZenML's artifacts (every step's outputs) are objects in the zenml bucket.
    keys = stack.bucket_keys(
        "zenml", stack.settings.zenml_artifact_path.removeprefix("s3://zenml/") + "/"
    )
    for step in ("prepare_tiny_person_dataset", "summarize_yolo_experiment"):
        assert any(f"/{step}/" in key for key in keys), (step, keys[:20])

    # The training's MLflow run is on the server, its artifacts in the mlflow bucket.
    run_id = outcome["summary"]["mlflow_run_id"]
    run = stack.mlflow_api("runs/get", run_id=run_id)["run"]
    assert run["info"]["status"] == "FINISHED"
    experiment = stack.mlflow_api("experiments/get-by-name", experiment_name="yolo-stack-test")
    assert run["info"]["experiment_id"] == experiment["experiment"]["experiment_id"]
    assert run["data"].get("metrics"), "the tracker recorded no metrics"
    assert stack.bucket_keys("mlflow", f"{run['info']['experiment_id']}/{run_id}/")

    # The stack that ran is the registered one: S3 store + MLflow tracker on the server.
    shown = stack.run(PY, "-m", "src.zenml_setup", "show")
    assert SERVER_TRACKER_NAME in shown.stdout and SERVER_ARTIFACT_STORE_NAME in shown.stdout
    assert stack.settings.mlflow_url in shown.stdout

    # The server's dashboard: its login page takes the admin account from .env, then shows
    # the run with its four steps (headless Chromium, reaching only 127.0.0.1).
    if find_browser() is None:
        return  # no chromium here: `make test-tools` installs it; the checks above stand
    settings = stack.settings
    token = api_token(settings.zenml_url, settings.zenml_username, settings.zenml_password)
    server = LocalServer(settings.zenml_url, stack.env, token=token)
    skip_onboarding(server)
    with browser_session(viewport=(1280, 900)) as session:
        log_in(session, settings.zenml_url, settings.zenml_username, settings.zenml_password)
        shot = stack.root / "cv" / "dashboard.png"
        text, steps = show_pipeline_run(session, server, outcome["zenml_run_id"], shot)
        refused = list(session.refused)
    assert steps == list(PIPELINE_STEPS), text[:2000]
    assert count_colours(shot) > 200
    assert not [url for url in refused if "127.0.0.1" in url]
