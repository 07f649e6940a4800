"""``python -m src.tracking_cli serve``: which model it serves, and refusing a missing one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from src import tracking_cli
from src.errors import DataError


def test_shortcuts_name_the_champions_of_params_yaml(tmp_path: Path) -> None:
    assert tracking_cli.champion_uri("iris") == "models:/iris-classifier@champion"
    assert tracking_cli.champion_uri("yolo") == "models:/yolo-tiny-person@champion"
    assert tracking_cli.champion_uri("models:/x/3") == "models:/x/3"
    params = tmp_path / "params.yaml"
    params.write_text("cv:\n  tracking:\n    registered_model_name: my-detector\n")
    assert tracking_cli.champion_uri("yolo", str(params)) == "models:/my-detector@champion"


def test_serve_checks_the_alias_before_starting_anything(
    mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_exec(*args: object) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(os, "execve", no_exec)
    with pytest.raises(DataError, match=r"^models:/iris-classifier@champion: no registered model"):
        tracking_cli.main(["serve", "iris", "--port", "5999"])


def test_serve_runs_mlflow_models_serve_with_the_store_and_the_venv_on_path(
    mlflow_store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: calls.append((path, argv, env)))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert tracking_cli.serve_model(str(tmp_path), "127.0.0.1", 5123) == 0
    ((_, argv, env),) = calls
    assert argv[1:] == [
        "-m", "mlflow", "models", "serve", "--model-uri", str(tmp_path), "--env-manager", "local",
        "--host", "127.0.0.1", "--port", "5123", "--workers", "1",
    ]  # fmt: skip
    assert env["MLFLOW_TRACKING_URI"] == mlflow_store
    assert env["PATH"].split(os.pathsep)[0] == str(Path(argv[0]).parent)
