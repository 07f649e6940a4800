"""Iris training, unchanged, on the server stack: the run through MLflow's REST API, the
artifacts in the S3 bucket, and the MLflow UI in a headless browser."""

from __future__ import annotations

from pathlib import Path

from tests.browser import colours, find_chromium, needs_chromium
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
    from playwright.sync_api import sync_playwright

    url = f"{stack.settings.mlflow_url}/#/experiments/{iris_run.mlflow['experiment_id']}/runs"
    screenshot = tmp_path / "mlflow_iris_runs.png"
    user, password = stack.settings.mlflow_auth()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(), args=["--no-sandbox"], headless=True
        )
        try:
            # The server wants HTTP basic auth on the page and on every API call it makes.
            context = browser.new_context(
                viewport={"width": 1600, "height": 1000},
                http_credentials={"username": user, "password": password},
            )
            page = context.new_page()
            page.goto(url, timeout=120_000)
            page.get_by_text("stack-iris").first.wait_for(timeout=120_000)
            dom = page.content()
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    assert "stack-iris" in dom, "the runs table does not list the Iris run"
    assert "iris-classifier" in dom
    # A drawn page, not a blank or error screen of one or two colours.
    assert colours(screenshot) > 50
    print(f"MLflow UI screenshot: {screenshot}")
