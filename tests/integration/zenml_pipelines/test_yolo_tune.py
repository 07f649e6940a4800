"""The Optuna study runner: trials are ZenML runs + tagged MLflow runs, it resumes, best registered.

Tiny settings (8 train images at 32 px, 1-2 epochs): nothing is learned, so every trial's
value is 0 and the pruner, which prunes only strictly below the median, lets them all finish;
pruning itself is covered by tests/unit/cv/test_tuning.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

MODULE = "src.zenml_pipelines.run_yolo_tune"


def _zenml_runs(world: dict[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    query = (
        "import json, sys\n"
        "from zenml.client import Client\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    run = Client().get_pipeline_run(name)\n"
        "    out[name] = {'status': run.status.value, 'tags': sorted(t.name for t in run.tags)}\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", query, *names], cwd=world["root"], env=world["env"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_study_runs_trials_as_pipelines_resumes_and_registers_the_best(
    zenml_world: dict[str, Any], run_module: Callable[..., dict[str, Any]]
) -> None:
    import mlflow

    root = zenml_world["root"]
    params = yaml.safe_load(zenml_world["params"].read_text())
    params["cv"]["grid"] = {"epochs": [1, 2], "imgsz": [32], "lr0": [0.001, 0.004]}
    params["cv"]["tune"] = {"study_name": "it-study", "startup_trials": 1, "warmup_epochs": 0}
    tune_params = root / "tune_params.yaml"
    tune_params.write_text(yaml.safe_dump(params))
    common = ("--params", str(tune_params), "--study-dir", str(root / "optuna"),
              "--report-dir", str(root / "reports"))  # fmt: skip

    first = run_module(MODULE, *common, "--n-trials", "2", name="tune-first")
    assert [t["state"] for t in first["trials"]] == ["COMPLETE", "COMPLETE"]
    assert (root / "optuna" / "it-study.db").is_file()
    for trial in first["trials"]:
        assert 0.001 <= trial["params"]["lr0"] <= 0.004
        assert trial["params"]["epochs"] in (1, 2)
        # The pruning callback reached the trainer inside the ZenML step: one value per epoch.
        assert sorted(trial["intermediate"]) == [
            str(e) for e in range(1, trial["params"]["epochs"] + 1)
        ]

    second = run_module(MODULE, *common, "--n-trials", "3", name="tune-second")
    assert "resuming it-study.db: 2 trial(s) done, 1 to go" in second["stdout"]
    assert len(second["trials"]) == 3
    assert list(second["zenml_runs"]) == ["2"]  # only one new trial ran

    # Each trial: one completed ZenML run tagged with the study and trial ...
    zenml_names = [*first["zenml_runs"].values(), *second["zenml_runs"].values()]
    runs = _zenml_runs(zenml_world, zenml_names)
    for number, name in enumerate(zenml_names):
        assert runs[name]["status"] == "completed"
        assert {"optuna_study:it-study", f"optuna_trial:{number}"} <= set(runs[name]["tags"])

    # ... and one MLflow run tagged the same way.
    client = mlflow.MlflowClient(zenml_world["uri"])
    experiment = client.get_experiment_by_name(params["cv"]["tracking"]["experiment_name"])
    tagged = client.search_runs(
        [experiment.experiment_id], filter_string="tags.optuna_study = 'it-study'"
    )
    assert sorted(r.data.tags["optuna_trial"] for r in tagged) == ["0", "1", "2"]
    assert {r.data.tags["optuna_state"] for r in tagged} == {"COMPLETE"}
    by_trial = {r.data.tags["optuna_trial"]: r for r in tagged}
    for trial in second["trials"]:
        assert trial["summary"]["mlflow_run_id"] == by_trial[str(trial["number"])].info.run_id

    # The best complete trial is registered by the grid's rule and written into the report.
    best_run = by_trial[str(second["best_trial"])]
    version = client.get_model_version(
        params["cv"]["tracking"]["registered_model_name"], second["decision"]["version"]
    )
    assert version.run_id == best_run.info.run_id
    assert "challenger" in version.aliases
    best_tags = client.get_run(best_run.info.run_id).data.tags
    assert best_tags["registry.version"] == str(version.version)
    report = (root / "reports" / "decision_it-study.md").read_text()
    assert "### Study" in report and "`optuna_study=it-study`" in report
    assert report.count("| COMPLETE |") == 3  # the trials table

    # A rerun of a finished study trains nothing and registers no second version of its best.
    name = params["cv"]["tracking"]["registered_model_name"]
    before = len(client.search_model_versions(f"name = '{name}'"))
    third = run_module(MODULE, *common, "--n-trials", "3", name="tune-third")
    assert third["zenml_runs"] == {} and "3 trial(s) done, 0 to go" in third["stdout"]
    assert "registry: unchanged" in third["stdout"]
    assert len(client.search_model_versions(f"name = '{name}'")) == before
