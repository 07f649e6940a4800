"""The ZenML pipelines on a fresh, isolated stack: the baseline first, then what builds on it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from src.config import PROJECT_ROOT

BASELINE = "src.zenml_pipelines.run_yolo_pipeline_baseline"
GRID = "src.zenml_pipelines.run_yolo_pipeline_grid"


@pytest.fixture(scope="module")
def baseline(
    zenml_world: dict[str, Any], run_module: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """Return the outcome of the world's first pipeline run: the baseline, on fresh state.

    Every test that runs a pipeline asks for it, so whichever runs first, the baseline
    runs first, on a ZenML state and an MLflow store no pipeline has touched yet.
    """
    import mlflow

    outcome = run_module(BASELINE, name="baseline")
    client = mlflow.MlflowClient(zenml_world["uri"])
    experiment = client.get_experiment_by_name("yolo-it")
    outcome["runs_after"] = len(client.search_runs([experiment.experiment_id]))
    return outcome


def test_baseline_pipeline_completes_with_one_mlflow_run(
    zenml_world: dict[str, Any], baseline: dict[str, Any]
) -> None:
    import mlflow

    outcome = baseline
    assert "registered and activated" in outcome["stdout"]  # fresh state: local stack made
    assert outcome["status"] == "completed"
    assert not outcome["data_step_cached"]  # the dataset did not exist: the step built it
    assert (zenml_world["root"] / "tiny_person" / "manifest.json").is_file()

    summary = outcome["summary"]
    client = mlflow.MlflowClient(zenml_world["uri"])
    run = client.get_run(summary["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == outcome["zenml_run_name"]  # the tracker's run, joined
    assert run.data.tags["pipeline"] == "baseline"
    assert {"map50_95", "val_map50_95", "test_map50_95"} <= set(run.data.metrics)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "yolo-it"
    assert outcome["runs_after"] == 1
    assert set(summary["artifact_uris"]) >= {"weights/best.pt", "results.csv"}
    assert "results.png" not in summary["artifact_uris"]  # cv.train.plots false reached the step


def test_grid_caches_the_data_step_registers_and_reports(
    zenml_world: dict[str, Any], run_module: Callable[..., dict[str, Any]], baseline: dict[str, Any]
) -> None:
    import mlflow

    result = run_module(GRID, "--report-dir", str(zenml_world["root"] / "reports"), name="grid")
    runs = result["runs"]
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert runs[1]["data_step_cached"]  # nothing changed since the first configuration
    assert [r["summary"]["config_name"] for r in runs] == [
        "yolo_e1_img32_lr0.002",
        "yolo_e1_img32_lr0.004",
    ]
    assert "[2/2] yolo_e1_img32_lr0.004" in result["stdout"]
    assert "results of grid-" in result["stdout"]

    client = mlflow.MlflowClient(zenml_world["uri"])
    for outcome in runs:
        run = client.get_run(outcome["summary"]["mlflow_run_id"])
        assert run.data.tags["grid_id"] == result["grid_id"]
        assert run.info.run_name == outcome["zenml_run_name"]
    model = client.get_registered_model("yolo-it-model")
    assert {str(v) for v in model.aliases.values()} == {result["decision"]["version"]}
    assert result["decision"]["promoted"]  # the first version is the first champion

    report = zenml_world["root"] / "reports" / f"decision_{result['grid_id']}.md"
    assert report.is_file() and result["report"] == str(report)
    text = report.read_text()
    assert "yolo_e1_img32_lr0.002" in text and "yolo_e1_img32_lr0.004" in text


def test_a_failing_step_is_one_line_with_its_own_error_type(
    zenml_world: dict[str, Any], baseline: dict[str, Any]
) -> None:
    import shutil
    import subprocess
    import sys

    import yaml

    root = zenml_world["root"]
    broken = root / "broken_tiny_person"
    shutil.copytree(root / "tiny_person", broken)  # built by the baseline test's data step
    label = sorted((broken / "labels" / "train").glob("*.txt"))[0]
    label.write_text("0 0.5 0.5 0.2\n")
    params = yaml.safe_load(zenml_world["params"].read_text())
    params["cv"]["dataset"]["output"] = str(broken)
    broken_params = root / "broken.yaml"
    broken_params.write_text(yaml.safe_dump(params))

    result = subprocess.run(
        [sys.executable, "-m", BASELINE, "--params", str(broken_params)],
        cwd=root, env=zenml_world["env"], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 3  # DataError, as raised inside the step
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: pipeline run yolo_e1_img32_lr0.002_baseline_")
    assert "step prepare_tiny_person_dataset:" in last
    assert f"{label.name}: content differs from manifest.json" in last


#: The baseline runner as ``python -m`` runs it, in this process (the training step runs here
#: too), counting the collections between its ``main``'s first line and the training's start,
#: and noting the collector's state at the stack check and when ultralytics' trainer starts
#: (before ultralytics' own dataset loading turns the collector on whatever its state).
PAUSED_RUNNER = (
    "import gc, json, sys\n"
    "from src import collector\n"
    "from src.cli import run_main\n"
    "from src.cv.tuning import trainer_callback\n"
    "from src.zenml_pipelines import run_yolo_pipeline_baseline as runner\n"
    "seen = {'collections': 0}\n"
    "def count(phase, info):\n"
    "    seen['collections'] += phase == 'start'\n"
    "gc.callbacks.append(count)\n"
    "prepare = runner.prepare_stack\n"
    "def prepare_and_note(cv):\n"
    "    seen['stack_check'] = gc.isenabled()\n"
    "    return prepare(cv)\n"
    "runner.prepare_stack = prepare_and_note\n"
    "main = runner.main\n"
    "def note_and_run(argv):\n"
    "    seen['at_main'] = seen['collections']  # this script's own imports (torch) collected\n"
    "    return main(argv)\n"
    "starts = collector._Pause.training_starts\n"
    "def start_and_note(pause):\n"
    "    seen.setdefault('before_training', seen['collections'])\n"
    "    starts(pause)\n"
    "collector._Pause.training_starts = start_and_note\n"
    "note = lambda _: seen.setdefault('training', [gc.isenabled(), gc.get_freeze_count()])\n"
    "try:\n"
    "    with trainer_callback('on_pretrain_routine_start', note):\n"
    "        run_main(note_and_run, sys.argv[1:])\n"
    "except SystemExit as done:\n"
    "    seen['exit'] = done.code\n"
    "seen['end'] = [gc.isenabled(), gc.get_freeze_count()]\n"
    "print(json.dumps(seen))\n"
)


def test_a_runner_is_paused_until_its_training_step_trains(
    zenml_world: dict[str, Any], baseline: dict[str, Any]
) -> None:
    """No collection walks ZenML's start-up: imports, stack check, compilation, data step."""
    result = subprocess.run(
        [sys.executable, "-c", PAUSED_RUNNER, "--params", str(zenml_world["params"]),
         "--runs-dir", str(zenml_world["root"] / "runs")],
        cwd=zenml_world["root"], env=zenml_world["env"], capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0
    assert seen["stack_check"] is False  # paused from the first line of the runner's main
    assert seen["before_training"] == seen["at_main"]  # none from main's first line on
    enabled, frozen = seen["training"]
    # The training step's start of training ended the runner's pause too: the training
    # collects, without ZenML's, MLflow's and torch's objects, given back afterwards.
    assert enabled and frozen > 100_000
    assert seen["end"] == [True, 0]


ACTIVATE = (
    "import sys\n"
    "from src.workarounds import skip_integrations\n"
    "if sys.argv[1] == 'skip':\n"
    "    skip_integrations()\n"
    "from zenml.integrations.registry import integration_registry\n"
    "integration_registry.activate_integrations()  # what ZenML does before each run\n"
    "print('sklearn' in sys.modules)\n"
)


@pytest.mark.parametrize(("mode", "imports_sklearn"), [("skip", False), ("default", True)])
def test_yolo_runners_keep_zenml_from_importing_sklearn(
    zenml_world: dict[str, Any], mode: str, imports_sklearn: bool
) -> None:
    """The runners skip the sklearn integration; without that ZenML imports scikit-learn."""
    result = subprocess.run(
        [sys.executable, "-c", ACTIVATE, mode], cwd=PROJECT_ROOT, env=zenml_world["env"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == str(imports_sklearn)
