"""``python -m src.train_cv`` changes its run folder, ``best.pt`` and ``summary.json`` as one unit.

Each case runs the CLI in a fresh process (one epoch at 32 px, a few seconds) whose chosen
call misbehaves at an exact moment: a signal to itself, a disk that fills up mid-copy, or a
pause until a second training reaches the same point. No plots: no case looks at one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cv_helpers import make_tiny_person
from mlflow import MlflowClient

from src.io_utils import sha256_file

ROOT = Path(__file__).resolve().parents[3]
RUN = "yolo_same"

#: Runs train_cv; argv[1] says what goes wrong: ``signal:SIG:module:function`` sends SIG
#: after that call, ``enospc:ROOT`` fills the disk while MLflow copies best.pt under ROOT,
#: ``barrier:FOLDER:DIR`` holds the first rename of a hidden folder in DIR until a second
#: process reaches it (at most 8 s).
PROBE = """
import errno, importlib, os, shutil, signal, sys, time
from pathlib import Path

mode, *spec = sys.argv[1].split(":", 3)
if mode == "signal":
    sig, module, name = spec
    owner = importlib.import_module(module)
    real = getattr(owner, name)

    def fire(*args, **kwargs):
        result = real(*args, **kwargs)
        os.kill(os.getpid(), getattr(signal, sig))
        return result

    setattr(owner, name, fire)
elif mode == "enospc":
    root, copy2 = Path(spec[0]).resolve(), shutil.copy2

    def full_disk(src, dst, *args, **kwargs):
        target = Path(dst)
        if target.name == "best.pt" and root in target.resolve().parents:
            data = Path(src).read_bytes()
            target.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return copy2(src, dst, *args, **kwargs)

    shutil.copy2 = full_disk
elif mode == "barrier":
    folder, watched = Path(spec[0]), Path(spec[1]).resolve()
    rename, held = os.rename, []

    def meet(src, dst, *args, **kwargs):
        paths = [Path(src), Path(dst)]
        if not held and any(p.name.startswith(".") and p.parent.resolve() == watched
                            for p in paths):
            held.append(True)
            (folder / str(os.getpid())).touch()
            deadline = time.monotonic() + 8
            while len(list(folder.iterdir())) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        return rename(src, dst, *args, **kwargs)

    os.rename = meet
from src.cli import run_main
from src.train_cv import main
run_main(main, sys.argv[2:])
"""


@pytest.fixture
def world(tmp_path: Path, new_mlflow_db: Callable[[Path], str]) -> dict:
    uri = new_mlflow_db(tmp_path / "store")
    return {
        "data": make_tiny_person(tmp_path),
        "runs": tmp_path / "runs",
        "models": tmp_path / "models",
        "uri": uri,
        "artifacts": tmp_path / "store" / "mlartifacts",
        "env": {**os.environ, "MLFLOW_TRACKING_URI": uri},
    }


def command(world: dict, *probe: str) -> list[str]:
    start = [sys.executable, "-c", PROBE, *probe] if probe else [sys.executable, "-m",
             "src.train_cv"]  # fmt: skip
    return [*start, "--data", str(world["data"]), "--epochs", "1", "--imgsz", "32",
            "--batch", "4", "--plots", "false", "--runs-dir", str(world["runs"]), "--weights-out",
            str(world["models"] / "best.pt"), "--run-name", RUN, "--no-test-eval"]  # fmt: skip


def train_cv(world: dict, *probe: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(world, *probe),
        cwd=ROOT,
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def outputs(world: dict) -> dict[str, bytes]:
    """The bytes of everything a training published (run folder files, weights, summary)."""
    top = world["runs"].parent
    files = [*world["runs"].rglob("*"), *world["models"].iterdir()]
    published = [p for p in files if p.is_file() and ".building-" not in str(p.relative_to(top))]
    return {str(p.relative_to(top)): p.read_bytes() for p in sorted(published)}


def leftovers(world: dict) -> list[str]:
    return [p.name for folder in (world["runs"], world["models"]) for p in folder.glob(".*")]


def runs(world: dict) -> list:
    client = MlflowClient(world["uri"])
    experiment = client.get_experiment_by_name("yolo-tiny-person")
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])


def trained(world: dict) -> dict[str, bytes]:
    result = train_cv(world)
    assert result.returncode == 0, result.stderr[-3000:]
    return outputs(world)


def test_summary_json_that_is_a_directory_replaces_nothing(world: dict) -> None:
    trained(world)
    (world["models"] / "summary.json").unlink()
    (world["models"] / "summary.json").mkdir()
    before = outputs(world)
    result = train_cv(world)
    assert result.returncode == 4, result.stderr[-3000:]
    assert "summary.json: is a directory or a link, not a file" in result.stderr.splitlines()[-1]
    assert outputs(world) == before
    assert leftovers(world) == []


def test_sigterm_while_logging_ends_the_run_killed_and_keeps_the_old_outputs(world: dict) -> None:
    before = trained(world)
    result = train_cv(world, "signal:SIGTERM:mlflow:log_artifact")
    assert result.returncode == 143, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == "terminated (SIGTERM)"
    assert [run.info.status for run in runs(world)] == ["FINISHED", "KILLED"]
    assert outputs(world) == before
    assert leftovers(world) == []


def test_sigkill_leftovers_are_cleaned_by_the_next_training_and_by_doctor(
    world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from src.tracking import close_dead_local_runs

    before = trained(world)
    result = train_cv(world, "signal:SIGKILL:src.cv.training:read_results_csv")
    assert result.returncode == -9
    assert [run.info.status for run in runs(world)] == ["FINISHED", "RUNNING"]
    assert [name.split(".building-")[0] for name in leftovers(world)] == [f".{RUN}"]
    assert outputs(world) == before

    # make doctor's check: closes the run and removes the staging folder of the dead PID.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", world["uri"])
    assert len(close_dead_local_runs([world["runs"], world["models"]])) == 1
    assert [run.info.status for run in runs(world)] == ["FINISHED", "KILLED"]
    assert leftovers(world) == []

    # The next training does the same by itself.
    assert train_cv(world, "signal:SIGKILL:src.cv.training:read_results_csv").returncode == -9
    assert leftovers(world) != []
    trained(world)
    assert [run.info.status for run in runs(world)] == ["FINISHED", "KILLED", "KILLED", "FINISHED"]
    assert leftovers(world) == []


def test_a_full_artifact_store_is_one_line_and_leaves_no_half_written_weights(
    world: dict,
) -> None:
    before = trained(world)
    result = train_cv(world, f"enospc:{world['artifacts']}")
    assert result.returncode == 4, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert "No space left on device" in last and "marked FAILED" in last
    assert "Traceback" not in result.stderr
    _, failed = runs(world)
    assert failed.info.status == "FAILED"
    # Only the good run's copies are left: the truncated one went with the failed run.
    good = sha256_file(world["runs"] / RUN / "weights" / "best.pt")
    assert {sha256_file(p) for p in world["artifacts"].rglob("best.pt")} == {good}
    assert outputs(world) == before
    assert leftovers(world) == []


def test_two_trainings_of_the_same_name_take_turns_and_publish_one_consistent_unit(
    world: dict, tmp_path: Path
) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    probe = f"barrier:{barrier}:{world['runs']}"
    started = [
        subprocess.Popen(command(world, probe), cwd=ROOT, env=world["env"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    for process in started:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
    assert {run.info.status for run in runs(world)} == {"FINISHED"}
    summary = json.loads((world["models"] / "summary.json").read_text())
    assert summary["mlflow_run_id"] in {run.info.run_id for run in runs(world)}
    weights = sha256_file(world["models"] / "best.pt")
    assert summary["weights_sha256"] == weights
    assert sha256_file(world["runs"] / RUN / "weights" / "best.pt") == weights
    assert sorted(p.name for p in world["runs"].iterdir()) == [RUN]
    assert leftovers(world) == []


def test_train_yolo_as_the_zenml_step_calls_it_swaps_the_folder_in_only_after_logging(
    world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from src.config import CvTrackingParams, CvTrainParams
    from src.cv.training import train_yolo

    before = trained(world)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", world["uri"])
    params = CvTrainParams(epochs=1, imgsz=32, batch=4, plots=False)

    def store_down(*args: object, **kwargs: object) -> None:
        raise RuntimeError("artifact store down")

    monkeypatch.setattr(mlflow, "log_artifact", store_down)
    with pytest.raises(RuntimeError, match="artifact store down"):
        train_yolo(params, world["data"], run_dir=world["runs"] / RUN,
                   tracking=CvTrackingParams(), run_name=RUN, progress=False)  # fmt: skip
    assert runs(world)[-1].info.status == "FAILED"
    assert outputs(world) == before
    assert leftovers(world) == []
