"""An isolated ZenML + MLflow world for the pipeline tests, shared by this folder's tests.

ZenML reads ``ZENML_CONFIG_PATH`` when it is imported, so the pipelines run in
subprocesses whose environment points at a temporary ZenML state, a temporary MLflow
store and a tiny params file; the developer's ``.zenml-state`` and ``mlflow.db`` are
never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

#: A dataset built by the pipeline's own data step, and trainings of one epoch.
TINY_CV = {
    "dataset": {"train": 0.5, "val": 0.25, "test": 0.25, "max_images": 16},  # 8 / 4 / 4
    "synthetic": {"images": 24, "imgsz": 64},
    "train": {"epochs": 1, "imgsz": 32, "batch": 4, "plots": False},  # plots: ~5 s a run
    "grid": {"epochs": [1], "imgsz": [32], "lr0": [0.002, 0.004]},
    # The floor is off: a 1-epoch model finds nothing, and the registry rule is under test.
    "tracking": {
        "experiment_name": "yolo-it",
        "registered_model_name": "yolo-it-model",
        "min_champion_metric": 0.0,
    },
}


@pytest.fixture(scope="module")
def zenml_world(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path
) -> dict[str, Any]:
    """Return the paths and environment of an isolated ZenML state and MLflow store."""
    root = tmp_path_factory.mktemp("zenml_world")
    shutil.copyfile(migrated_mlflow_db, root / "mlflow.db")
    cv = json.loads(json.dumps(TINY_CV))
    cv["dataset"] |= {"source": str(root / "coco128"), "output": str(root / "tiny_person")}
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump({"cv": cv}))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ZENML_", "MLFLOW_TRACKING", "ZENML_STORE"))
    }
    env |= {
        "ZENML_CONFIG_PATH": str(root / "zenml"),
        "ZENML_REPOSITORY_PATH": str(root),  # no .zen there: the repo's .zen is not used
        "ZENML_ANALYTICS_OPT_IN": "false",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    return {"root": root, "params": params, "env": env, "uri": env["MLFLOW_TRACKING_URI"]}


@pytest.fixture(scope="module")
def run_module(zenml_world: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Return a function running ``python -m MODULE ...`` in the world; gives its JSON summary."""

    def run(module: str, *args: str, name: str) -> dict[str, Any]:
        out = zenml_world["root"] / f"{name}.json"
        command = [sys.executable, "-m", module, "--params", str(zenml_world["params"]),
                   "--runs-dir", str(zenml_world["root"] / "runs"), "--summary-out", str(out),
                   *args]  # fmt: skip
        result = subprocess.run(
            command, cwd=zenml_world["root"], env=zenml_world["env"], capture_output=True,
            text=True, timeout=900,
        )  # fmt: skip
        assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-5000:])
        summary: dict[str, Any] = json.loads(out.read_text())
        summary["stdout"] = result.stdout
        return summary

    return run
