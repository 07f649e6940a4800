"""The doctor's lines, its lock reading and its embedded mode."""

from __future__ import annotations

from src.services.doctor import Check, locked_versions, run_checks
from src.services.settings import ServiceSettings
from src.tracking import process_tags


def test_doctor_on_the_embedded_default_skips_the_servers(mlflow_store: str) -> None:
    lines: list[str] = []
    results = run_checks(ServiceSettings.from_env({}), echo=lines.append)
    by_name = {result.name: result for result in results}
    assert by_name["versions"].ok and by_name["MLflow store"].ok
    assert by_name["S3 reachable"].ok is None and lines[-1].startswith("– DVC remote")
    assert not [result for result in results if result.ok is False]


def test_check_lines_and_lock_versions() -> None:
    failed = Check("S3 reachable", False, "refused", "make stack-up-local")
    assert failed.line == "✗ S3 reachable       refused — hint: make stack-up-local"
    assert Check("venv", True, "ok", "unused").line == "✓ venv               ok"
    pins = locked_versions()
    assert pins["mlflow"].startswith("3.17.") and pins["zenml"] == "0.98.0"


def test_doctor_closes_runs_whose_process_died(mlflow_store: str) -> None:
    import mlflow

    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.create_experiment("doctor-dead-runs")
    dead = client.create_run(experiment, tags={**process_tags(), "pid": "999999999"})
    alive = client.create_run(experiment, tags=process_tags())
    results = run_checks(ServiceSettings.from_env({}), echo=lambda _: None)
    store = next(result for result in results if result.name == "MLflow store")
    assert store.ok and "1 run(s) of dead processes marked KILLED" in store.detail
    assert client.get_run(dead.info.run_id).info.status == "KILLED"
    assert client.get_run(alive.info.run_id).info.status == "RUNNING"  # this process lives
