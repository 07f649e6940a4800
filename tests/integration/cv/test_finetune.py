"""Fine-tuning from a local 80-class checkpoint, offline: the CLI, repo-root weights, bad files.

The checkpoint is made here once per module: one epoch of YOLOv8n from ``yolov8n.yaml`` on an
unfiltered synthetic COCO128 (80 classes, 32 px), in a fresh interpreter. The fine-tunes are
one epoch at 32 px on the tiny person set: they show what was loaded, logged and refused,
not accuracy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
from cv_helpers import make_coco80_checkpoint, make_tiny_person

from src import train_cv
from src.cli import run_main
from src.cv import inputs
from src.cv.inputs import inspect_checkpoint, resolve_device, resolve_model
from tests.probes import run_probe


@pytest.fixture(scope="module")
def coco80(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Return the 80-class best.pt and untrained segmentation and classification checkpoints."""
    best = make_coco80_checkpoint(tmp_path_factory.mktemp("coco80"), other_tasks=("seg", "cls"))
    folder = best.parent.parent
    return {"best": best, "seg": folder / "untrained-seg.pt", "cls": folder / "untrained-cls.pt"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _argv(tmp_path: Path, *extra: str) -> list[str]:
    data_yaml = make_tiny_person(tmp_path)
    out = tmp_path / "out" / "best.pt"
    return ["--data", str(data_yaml), "--epochs", "1", "--imgsz", "32", "--batch", "4",
            "--plots", "false", "--runs-dir", str(tmp_path / "runs"), "--weights-out", str(out),
            "--no-test-eval", *extra]  # fmt: skip


def _only_run(uri: str) -> mlflow.entities.Run:
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("yolo-tiny-person")
    (run,) = client.search_runs([experiment.experiment_id])
    return run


def test_checkpoint_is_read_for_its_task_classes_and_hash(coco80: dict[str, Path]) -> None:
    resolved = resolve_model(str(coco80["best"]))
    assert resolved.kind == "checkpoint" and resolved.checkpoint is not None
    assert resolved.checkpoint.classes == 80
    names = resolved.checkpoint.names
    assert (names[0], names[79]) == ("person", "toothbrush")
    assert resolved.tags() == {
        "model_source": "checkpoint",
        "model_description": resolved.description,
        "model_sha256": _sha256(coco80["best"]),
        "model_classes": "80",
    }
    assert "80 classes" in resolved.description


def test_train_cv_fine_tunes_the_80_class_checkpoint(
    coco80: dict[str, Path], tmp_path: Path, mlflow_store: str, capsys: pytest.CaptureFixture
) -> None:
    argv = _argv(tmp_path, "--model", str(coco80["best"]))
    assert train_cv.main(argv) == 0
    device = resolve_device("auto")
    assert f"device {device}, model " in capsys.readouterr().out

    run = _only_run(mlflow_store)
    assert run.info.status == "FINISHED"
    assert run.data.tags["model_source"] == "checkpoint"
    assert run.data.tags["model_sha256"] == _sha256(coco80["best"])
    assert run.data.tags["model_classes"] == "80"
    params = run.data.params
    assert (params["device"], params["device_resolved"]) == ("auto", device)
    assert params["model_resolved"] == str(coco80["best"])
    # The 80-class head was replaced by the dataset's one class; the result fine-tunes again.
    tuned = inspect_checkpoint(tmp_path / "out" / "best.pt", "best.pt")
    assert tuned.names == {0: "person"}


def test_yolov8n_pt_at_the_repo_root_replaces_the_default_yaml(
    coco80: dict[str, Path], tmp_path: Path, mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root_weights = tmp_path / "repo" / "yolov8n.pt"
    root_weights.parent.mkdir()
    shutil.copyfile(coco80["best"], root_weights)
    monkeypatch.setattr(inputs, "LOCAL_YOLO_WEIGHTS", root_weights)
    assert train_cv.main(_argv(tmp_path, "--model", "yolov8n.yaml")) == 0

    run = _only_run(mlflow_store)
    assert run.data.params["model"] == "yolov8n.yaml"
    assert run.data.params["model_resolved"] == str(root_weights)
    assert run.data.tags["model_source"] == "checkpoint"
    assert run.data.tags["model_sha256"] == _sha256(root_weights)
    description = run.data.tags["model_description"]
    assert "found at the repo root, used instead of yolov8n.yaml" in description


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("seg", "is a segment checkpoint (SegmentationModel), not a detection one"),
        ("cls", "is a classify checkpoint (ClassificationModel), not a detection one"),
        ("corrupt", "is not a PyTorch checkpoint"),
        ("missing", "not found (nothing is downloaded offline)"),
    ],
)
def test_unusable_checkpoint_is_one_line_before_anything_is_written(
    coco80: dict[str, Path],
    tmp_path: Path,
    mlflow_store: str,
    capsys: pytest.CaptureFixture,
    case: str,
    needle: str,
) -> None:
    model = {"seg": coco80["seg"], "cls": coco80["cls"]}.get(case, tmp_path / f"{case}.pt")
    if case == "corrupt":
        model.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(SystemExit) as info:
        run_main(train_cv.main, _argv(tmp_path, "--model", str(model)))
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2
    assert err.startswith(f"error: cv.train.model = '{model}'") and "\n" not in err, err
    assert needle in err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "out").exists()


#: Runs ``python -m src.train_cv`` with every non-loopback connection (and name lookup)
#: refused and recorded, and ultralytics' AMP check and child processes recorded.
OFFLINE_PROBE = """
import ipaddress, json, socket, subprocess, sys

attempts, commands, amp_checks = [], [], []


def outside(host):
    if host is None or str(host) in ("", "localhost"):
        return False
    try:
        return not ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return True  # a name to look up: going outside to resolve it


def guard(address):
    host = address[0] if isinstance(address, tuple) else None  # AF_UNIX: a path
    if outside(host):
        attempts.append(str(host))
        raise OSError(f"outside connection refused by the probe: {host}")


real_connect, real_connect_ex, real_getaddrinfo = (
    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)
socket.socket.connect = lambda self, address: guard(address) or real_connect(self, address)
socket.socket.connect_ex = lambda self, address: guard(address) or real_connect_ex(self, address)
socket.getaddrinfo = lambda host, *a, **k: guard((host,)) or real_getaddrinfo(host, *a, **k)
real_popen_init = subprocess.Popen.__init__


def popen_init(self, args, *a, **k):
    commands.append(args if isinstance(args, str) else " ".join(map(str, args)))
    real_popen_init(self, args, *a, **k)


subprocess.Popen.__init__ = popen_init

from src.runtime_env import apply_runtime_defaults

apply_runtime_defaults()  # as src.cli.run_main does, before anything imports ultralytics
import ultralytics.engine.trainer as trainer

real_check_amp = trainer.check_amp
trainer.check_amp = lambda model: amp_checks.append(1) or real_check_amp(model)

from src import train_cv

code = train_cv.main(sys.argv[1:])
print(json.dumps({"code": code, "attempts": attempts, "commands": commands,
                  "amp_checks": len(amp_checks)}))
"""


def test_finetune_makes_no_outside_connection(
    coco80: dict[str, Path], tmp_path: Path, new_mlflow_db: Callable[[Path], str]
) -> None:
    uri = new_mlflow_db(tmp_path / "mlflow")
    env = {"MLFLOW_TRACKING_URI": uri, "YOLO_CONFIG_DIR": str(tmp_path / "fresh-yolo-config")}
    argv = _argv(tmp_path, "--model", str(coco80["best"]))
    report = run_probe(OFFLINE_PROBE, *argv, env=env)
    assert report["code"] == 0
    assert report["attempts"] == [], report["attempts"]
    assert report["amp_checks"] == 0  # so no device downloads yolo26n.pt for it
    fetchers = ("pip", "curl", "wget", "uv ")
    assert not [c for c in report["commands"] if any(word in c for word in fetchers)], report
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["metrics"]["epochs_completed"] == 1
