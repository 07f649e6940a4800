"""The DVC pipeline in a fresh copy of the repo: dvc.lock is true, repro is incremental."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.repo_copy import copy_with_store

#: Outputs that are pure functions of code, params and data. metadata.json (MLflow
#: run id, git commit) and the exported MLflow model (its MLmodel has a creation
#: time and a uuid) legitimately differ run to run.
DETERMINISTIC_OUTS = {
    "data/raw/iris.csv",
    "data/processed/train.csv",
    "data/processed/test.csv",
    "models/iris_model.pkl",
    "models/metrics.json",
    "reports/evaluation/metrics.json",
    "reports/evaluation/confusion_matrix.json",
    "reports/evaluation/predictions.csv",
    "data/coco128_synthetic",
    "data/tiny_person",
}


def dvc(repo: Path, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run(["dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def ran_stages(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def recorded_outs(lock_text: str) -> dict[str, str]:
    lock = yaml.safe_load(lock_text)
    return {
        out["path"]: out["md5"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
    }


@dataclass(frozen=True)
class Reproduced:
    """A fresh copy after its first ``dvc repro``, and what that repro said and wrote."""

    path: Path
    env: dict[str, str]
    committed_lock: str
    output: str
    lock_after: str
    status_after: str


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Reproduced:
    """Return a fresh copy of the repo after one ``dvc repro``; tests never change it."""
    path, env = copy_with_store(tmp_path_factory.mktemp("dvc-repo"), migrated_mlflow_db)
    committed = (path / "dvc.lock").read_text()
    output = dvc(path, "repro", env=env)
    return Reproduced(
        path, env, committed, output, (path / "dvc.lock").read_text(), dvc(path, "status", env=env)
    )


@pytest.fixture
def repo(reproduced: Reproduced, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Return a copy of the reproduced repo (outputs, cache, git) this test may change."""
    path = tmp_path / "repo"
    shutil.copytree(reproduced.path, path, symlinks=True)
    return path, reproduced.env


def test_fresh_clone_repro_reproduces_the_committed_lock(reproduced: Reproduced) -> None:
    assert {"prepare", "train", "evaluate", "export"} <= ran_stages(reproduced.output)
    now = recorded_outs(reproduced.lock_after)
    before = recorded_outs(reproduced.committed_lock)
    for out in DETERMINISTIC_OUTS:
        assert now[out] == before[out], f"{out} differs from the committed dvc.lock"
    assert "up to date" in reproduced.status_after


def test_second_repro_is_a_no_op(repo: tuple[Path, dict[str, str]]) -> None:
    path, env = repo
    output = dvc(path, "repro", env=env)
    assert ran_stages(output) == set()
    assert "Data and pipelines are up to date" in output


def test_changing_a_train_param_reruns_only_what_depends_on_it(
    repo: tuple[Path, dict[str, str]],
) -> None:
    path, env = repo
    params = path / "params.yaml"
    params.write_text(params.read_text().replace("n_estimators: 100", "n_estimators: 20"))
    output = dvc(path, "repro", env=env)
    assert ran_stages(output) == {"train", "evaluate", "export"}
    assert "up to date" in dvc(path, "status", env=env)


def test_dvc_exp_run_with_a_param_override(repo: tuple[Path, dict[str, str]]) -> None:
    path, env = repo
    params = path / "params.yaml"
    params.write_text(params.read_text().replace("n_estimators: 100", "n_estimators: 20"))
    subprocess.run(["git", "commit", "-qam", "n_estimators 20"], cwd=path, env=env, check=True)
    dvc(path, "exp", "run", "-S", "train.n_estimators=200", "-n", "more-trees", env=env)
    shown = dvc(path, "exp", "show", "--no-pager", "--csv", env=env)
    row = next(line for line in shown.splitlines() if line.startswith("more-trees"))
    assert ",200," in row


def test_metrics_and_plots_are_readable_by_dvc(reproduced: Reproduced) -> None:
    path, env = reproduced.path, reproduced.env
    metrics = dvc(path, "metrics", "show", "--json", env=env)
    assert "accuracy" in metrics
    plots = dvc(path, "plots", "show", "--json", env=env)
    assert "predictions.csv" in plots and "per_class_metrics.csv" in plots
