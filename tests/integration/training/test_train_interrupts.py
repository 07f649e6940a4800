"""A training interrupted anywhere leaves the registry and models/ as one consistent unit.

Each case runs ``python -m src.training.train`` in a fresh process whose MLflow call at
the chosen moment delivers the signal to the process itself, so the timing is exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.iris_helpers import make_splits

ROOT = Path(__file__).resolve().parents[3]
MODEL = "iris-classifier"

#: Runs the train CLI; ``argv[1]`` names the MLflow function that sends ``argv[2]``.
PROBE = """
import os, signal, sys
import mlflow, mlflow.sklearn
import src.tracking
target, sig = sys.argv[1], getattr(signal, sys.argv[2])
owner = {"log_figure": mlflow, "log_model": mlflow.sklearn,
         "promote_if_better": src.tracking}[target]
real = getattr(owner, target)

def fire(*args, **kwargs):
    result = real(*args, **kwargs)
    os.kill(os.getpid(), sig)
    return result

setattr(owner, target, fire)
from src.cli import run_main
from src.training.train import main
run_main(main, sys.argv[3:])
"""


@pytest.fixture
def world(tmp_path: Path, new_mlflow_db: Callable[[Path], str]) -> dict:
    processed = make_splits(tmp_path / "data")
    uri = new_mlflow_db(tmp_path / "store")
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    return {"processed": processed, "models": tmp_path / "models", "uri": uri, "env": env}


def train(world: dict, *probe: str, run_name: str) -> subprocess.CompletedProcess[str]:
    args = ["--data-dir", str(world["processed"]), "--models-dir", str(world["models"])]
    command = [sys.executable, "-c", PROBE, *probe] if probe else [sys.executable, "-m",
               "src.training.train"]  # fmt: skip
    return subprocess.run(
        [*command, *args, "--run-name", run_name],
        cwd=ROOT,
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def runs_named(world: dict, name: str) -> list:
    client = MlflowClient(world["uri"])
    experiment = client.get_experiment_by_name("iris-classifier")
    return client.search_runs([experiment.experiment_id], f"attributes.run_name = '{name}'")


def versions_of(world: dict, run_id: str) -> list:
    client = MlflowClient(world["uri"])
    return client.search_model_versions(f"name = '{MODEL}' and run_id = '{run_id}'")


@pytest.mark.parametrize(("moment", "sig", "code"), [
    ("log_figure", "SIGTERM", 143),
    ("log_model", "SIGINT", 130),
])  # fmt: skip
def test_a_signal_inside_the_run_kills_it_registers_nothing_and_keeps_the_model(
    world: dict, moment: str, sig: str, code: int
) -> None:
    assert train(world, run_name="good").returncode == 0
    before = snapshot(world["models"])
    result = train(world, moment, sig, run_name="stopped")
    assert result.returncode == code, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] in ("terminated (SIGTERM)", "interrupted")
    [run] = runs_named(world, "stopped")
    assert run.info.status == "KILLED"
    assert versions_of(world, run.info.run_id) == []
    assert snapshot(world["models"]) == before
    assert not list(world["models"].glob(".*.building-*"))


def test_a_signal_during_the_commit_waits_until_registry_and_files_agree(world: dict) -> None:
    result = train(world, "promote_if_better", "SIGTERM", run_name="committing")
    assert result.returncode == 143, result.stderr[-2000:]
    [run] = runs_named(world, "committing")
    assert run.info.status == "FINISHED"
    [version] = versions_of(world, run.info.run_id)
    champion = MlflowClient(world["uri"]).get_model_version_by_alias(MODEL, "champion")
    assert champion.version == version.version
    metadata = json.loads((world["models"] / "metadata.json").read_text())
    assert metadata["mlflow"]["run_id"] == run.info.run_id  # the files were swapped in too
    assert metadata["mlflow"]["registered_version"] == str(version.version)


def test_a_killed_training_is_closed_by_the_next_one_and_never_champion(world: dict) -> None:
    assert train(world, run_name="good").returncode == 0
    before = snapshot(world["models"])
    result = train(world, "log_model", "SIGKILL", run_name="killed")
    assert result.returncode == -9
    [run] = runs_named(world, "killed")
    assert run.info.status == "RUNNING"  # nobody could end it
    assert snapshot(world["models"]) == before

    assert train(world, run_name="next").returncode == 0
    [run] = runs_named(world, "killed")
    assert run.info.status == "KILLED"
    assert "is gone" in run.data.tags["killed_because"]
    assert versions_of(world, run.info.run_id) == []


def test_an_output_that_cannot_be_written_moves_no_alias(world: dict) -> None:
    assert train(world, run_name="good").returncode == 0
    champion = MlflowClient(world["uri"]).get_model_version_by_alias(MODEL, "champion")
    metrics = world["models"] / "metrics.json"
    metrics.unlink()
    metrics.mkdir()
    result = train(world, run_name="blocked")
    assert result.returncode == 4, result.stderr[-2000:]
    assert "metrics.json: is a directory" in result.stderr.strip().splitlines()[-1]
    [run] = runs_named(world, "blocked")
    assert versions_of(world, run.info.run_id) == []
    after = MlflowClient(world["uri"]).get_model_version_by_alias(MODEL, "champion")
    assert after.version == champion.version


@pytest.mark.parametrize("processes", [2, 4])
def test_trainings_started_together_on_a_fresh_store_all_finish_and_keep_the_best(
    tmp_path: Path, processes: int
) -> None:
    processed = make_splits(tmp_path / "data")
    uri = f"sqlite:///{tmp_path / 'fresh' / 'mlflow.db'}"  # not created yet: first use migrates
    (tmp_path / "fresh").mkdir()
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}

    def command(i: int) -> list[str]:
        return [sys.executable, "-m", "src.training.train", "--data-dir", str(processed),
                "--models-dir", str(tmp_path / f"models{i}"), "--n-estimators", str(5 + 20 * i),
                "--max-depth", str(1 + i), "--run-name", f"together-{i}"]  # fmt: skip

    started = [
        subprocess.Popen(
            command(i), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for i in range(processes)
    ]
    for process in started:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
    client = MlflowClient(uri)
    versions = client.search_model_versions(f"name = '{MODEL}'")
    assert len(versions) == processes
    accuracy = {v.version: float(v.tags["metric.accuracy"]) for v in versions}
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert accuracy[champion.version] == max(accuracy.values())


def test_a_model_below_the_quality_floor_is_challenger_never_champion(
    world: dict, tmp_path: Path
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("mlflow:\n  min_champion_metric: 0.999\n")
    result = train(world, run_name="weak")
    assert result.returncode == 0
    first_champion = MlflowClient(world["uri"]).get_model_version_by_alias(MODEL, "champion")
    args = ["--params", str(params), "--n-estimators", "1", "--max-depth", "1"]
    command = [sys.executable, "-m", "src.training.train", "--data-dir",
               str(world["processed"]), "--models-dir", str(world["models"]), "--run-name",
               "floored", *args]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=world["env"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "is below the floor 0.999 for champion: challenger only" in result.stdout
    [run] = runs_named(world, "floored")
    [version] = versions_of(world, run.info.run_id)
    client = MlflowClient(world["uri"])
    assert client.get_model_version_by_alias(MODEL, "challenger").version == version.version
    assert client.get_model_version_by_alias(MODEL, "champion").version == first_champion.version
