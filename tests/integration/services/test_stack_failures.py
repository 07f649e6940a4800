"""Servers going away: one clear error line, local outputs kept, runs marked FAILED."""

from __future__ import annotations

import shutil
from pathlib import Path

from src.io_utils import sha256_file
from tests.integration.services.conftest import PY, IrisRun, Stack


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _runs_named(stack: Stack, experiment_id: str, run_name: str) -> list[dict[str, object]]:
    import json
    import urllib.request

    body = json.dumps(
        {"experiment_ids": [experiment_id], "filter": f"attributes.run_name = '{run_name}'"}
    ).encode()
    request = urllib.request.Request(
        f"{stack.settings.mlflow_url}/api/2.0/mlflow/runs/search",
        data=body,
        headers={"Content-Type": "application/json", **stack.mlflow_auth_header()},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return [run["info"] for run in json.loads(response.read()).get("runs", [])]


def _train(stack: Stack, iris_run: IrisRun, models_dir: Path, run_name: str) -> tuple[int, str]:
    result = stack.run(
        PY,
        "-m",
        "src.training.train",
        "--data-dir",
        str(iris_run.data_dir),
        "--models-dir",
        str(models_dir),
        "--run-name",
        run_name,
        check=False,
        timeout=600,
    )
    return result.returncode, result.stderr


def test_s3_down_mid_run_is_one_line_and_the_run_is_failed(
    stack: Stack, iris_run: IrisRun, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(iris_run.models_dir, models)
    before = _hashes(models)
    stack.stack_cli("down", "s3")
    try:
        # The MLflow server is up, so the run starts; its artifacts cannot be stored.
        code, stderr = _train(stack, iris_run, models, "stack-iris-s3-down")
    finally:
        stack.ensure_up()
    assert code == 5, stderr  # TrackingError
    assert "Traceback" not in stderr
    error = stderr.strip().splitlines()[-1]
    assert error.startswith("error: MLflow server ") and "marked FAILED" in error
    assert _hashes(models) == before, "a failed training must not touch the previous model"
    runs = _runs_named(stack, iris_run.mlflow["experiment_id"], "stack-iris-s3-down")
    assert [run["status"] for run in runs] == ["FAILED"]
    # S3 came back with what it held before it stopped (saved on stop, loaded on start).
    tracked = iris_run.mlflow
    assert stack.bucket_keys("mlflow", f"{tracked['experiment_id']}/{tracked['run_id']}/")


def test_mlflow_down_during_and_before_a_run(
    stack: Stack, iris_run: IrisRun, tmp_path: Path
) -> None:
    # A run that loses its server mid-way: the block's local output is kept, the error is
    # one line, and it says the run could not be marked FAILED (the server is gone).
    marker = tmp_path / "written-before-the-failure.txt"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import mlflow\n"
        "from src import tracking\n"
        "from src.cli import run_main\n"
        "from src.services.processes import stop_services\n"
        "from src.services.settings import ServiceSettings\n"
        "def main(argv):\n"
        "    with tracking.tracked_run('stack-failures', run_name='mlflow-dies') as run:\n"
        "        Path(sys.argv[1]).write_text(run.info.run_id)\n"
        "        stop_services(ServiceSettings.from_env(), names=['mlflow'], echo=lambda _: None)\n"
        "        mlflow.log_metric('after_the_server_died', 1.0)\n"
        "    return 0\n"
        "run_main(main)\n"
    )
    models = tmp_path / "models"
    shutil.copytree(iris_run.models_dir, models)
    before = _hashes(models)
    try:
        during = stack.run(PY, "-c", script, str(marker), check=False, timeout=300)
        assert during.returncode == 5, during.stderr
        assert "Traceback" not in during.stderr
        line = during.stderr.strip().splitlines()[-1]
        assert line.startswith("error: MLflow server ") and "failed mid-run" in line
        assert "could not be marked FAILED" in line
        assert len(marker.read_text()) == 32  # the run id, written before the failure

        # With the server still down, a training fails before any work, in one line.
        code, stderr = _train(stack, iris_run, models, "stack-iris-no-server")
        assert code == 5, stderr
        assert stderr.strip().splitlines() == [
            line for line in stderr.strip().splitlines() if line.startswith("error: ")
        ]
        assert "server unreachable" in stderr and stack.settings.mlflow_url in stderr
        assert _hashes(models) == before
    finally:
        stack.ensure_up()
