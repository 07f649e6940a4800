"""Iris training, unchanged, on the server stack: the run through MLflow's REST API, the
artifacts in the S3 bucket, and the MLflow UI in a headless browser."""

from __future__ import annotations

from pathlib import Path

from tests.browser import colours, needs_chromium, run_chromium
from tests.integration.services.conftest import IrisRun, Stack


def test_iris_run_is_on_the_server(stack: Stack, iris_run: IrisRun) -> None:
    tracked = iris_run.mlflow
    assert tracked["tracking_uri"] == stack.settings.mlflow_url
    run = stack.mlflow_api("runs/get", run_id=tracked["run_id"])["run"]
    assert run["info"]["status"] == "FINISHED"
    assert run["info"]["run_name"] == "stack-iris"
    metrics = {metric["key"]: metric["value"] for metric in run["data"]["metrics"]}
    assert metrics["accuracy"] > 0.8
    experiment = stack.mlflow_api("experiments/get-by-name", experiment_name="iris-classifier")
    assert experiment["experiment"]["experiment_id"] == tracked["experiment_id"]
    # Registered through the server's registry, with the champion alias.
    model = stack.mlflow_api("registered-models/get", name="iris-classifier")["registered_model"]
    aliases = {alias["alias"]: alias["version"] for alias in model.get("aliases", [])}
    assert aliases.get("champion") == tracked["registered_version"]
    # The local outputs are written as with the embedded store.
    assert (iris_run.models_dir / "iris_model.pkl").stat().st_size > 0


def test_iris_artifacts_are_in_the_s3_bucket(stack: Stack, iris_run: IrisRun) -> None:
    tracked = iris_run.mlflow
    run_prefix = f"{tracked['experiment_id']}/{tracked['run_id']}/artifacts/"
    keys = stack.bucket_keys("mlflow", run_prefix)
    assert {
        run_prefix + name
        for name in (
            "evaluation/confusion_matrix.png",
            "evaluation/classification_report.txt",
            "metadata.json",
        )
    } <= set(keys)
    listed = stack.mlflow_api("artifacts/list", run_id=tracked["run_id"], path="evaluation")
    assert {entry["path"] for entry in listed["files"]} >= {"evaluation/confusion_matrix.png"}
    # The logged model (MLflow 3: a LoggedModel under the experiment) is in S3 too.
    model_id = tracked["model_uri"].removeprefix("models:/")
    model_keys = stack.bucket_keys("mlflow", f"{tracked['experiment_id']}/models/{model_id}/")
    assert any(key.endswith("/artifacts/MLmodel") for key in model_keys), model_keys


@needs_chromium
def test_mlflow_ui_shows_the_iris_runs(stack: Stack, iris_run: IrisRun, tmp_path: Path) -> None:
    from PIL import Image

    # The server wants HTTP basic auth: the browser sends the stack's account from the URL.
    user, password = stack.settings.mlflow_auth()
    server = stack.settings.mlflow_url.replace("http://", f"http://{user}:{password}@")
    url = f"{server}/#/experiments/{iris_run.mlflow['experiment_id']}/runs"
    dom = run_chromium(url, "--dump-dom", profile=tmp_path / "dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "stack-iris" in dom.stdout, "the runs table does not list the Iris run"
    assert "iris-classifier" in dom.stdout
    screenshot = tmp_path / "mlflow_iris_runs.png"
    shot = run_chromium(url, f"--screenshot={screenshot}", profile=tmp_path / "shot")
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    with Image.open(screenshot) as image:
        assert image.size == (1600, 1000)
    # A drawn page, not a blank or error screen of one or two colours.
    assert colours(screenshot) > 50
    print(f"MLflow UI screenshot: {screenshot}")
