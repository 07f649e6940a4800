"""Bad input to the YOLO entry points: one line on stderr, non-zero exit, nothing overwritten.

These fail during validation, before ultralytics or ZenML is imported, so they are fast.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cv_helpers import make_tiny_person

from src import train_cv
from src.cli import run_main
from src.zenml_pipelines import run_yolo_pipeline_grid


def _run(
    main: Callable[[list[str] | None], int | None], argv: list[str], capsys: pytest.CaptureFixture
) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        run_main(main, argv)
    err = capsys.readouterr().err.strip()
    return int(info.value.code or 0), err


@pytest.fixture
def produced(tmp_path: Path) -> dict[str, Path]:
    """Outputs of an earlier training that a failed one must leave alone."""
    weights = tmp_path / "models" / "best.pt"
    weights.parent.mkdir()
    weights.write_bytes(b"earlier weights")
    run_dir = tmp_path / "runs" / "mine"
    (run_dir / "weights").mkdir(parents=True)
    (run_dir / "args.yaml").write_text("earlier: run\n")
    return {"weights": weights, "runs": tmp_path / "runs", "run_dir": run_dir}


def _unchanged(produced: dict[str, Path]) -> None:
    assert produced["weights"].read_bytes() == b"earlier weights"
    assert (produced["run_dir"] / "args.yaml").read_text() == "earlier: run\n"
    assert sorted(p.name for p in produced["runs"].iterdir()) == ["mine"]
    assert not (produced["weights"].parent / "summary.json").exists()


@pytest.mark.parametrize(
    ("flags", "code", "needle"),
    [
        (["--imgsz", "100"], 2, "imgsz = '100': must be a multiple of 32"),
        (["--device", "gpu"], 2, "device"),
        (["--device", "cuda:0"], 2, "no CUDA device"),
        (["--model", "missing/yolov8n.pt"], 2, "not found (nothing is downloaded"),
        (["--model", "yolov99z.yaml"], 2, "no such model YAML"),
        (["--epochs", "two"], 2, "epochs"),
    ],
)
def test_train_cv_rejects_bad_flags(
    tmp_path: Path,
    produced: dict[str, Path],
    capsys: pytest.CaptureFixture,
    flags: list[str],
    code: int,
    needle: str,
) -> None:
    import torch

    if "cuda:0" in flags and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    data_yaml = make_tiny_person(tmp_path)
    argv = [
        "--data", str(data_yaml), "--run-name", "mine", "--runs-dir", str(produced["runs"]),
        "--weights-out", str(produced["weights"]), *flags,
    ]  # fmt: skip
    exit_code, err = _run(train_cv.main, argv, capsys)
    assert exit_code == code
    assert needle in err
    assert len(err.splitlines()) == 1
    _unchanged(produced)


def test_train_cv_missing_dataset(
    tmp_path: Path, produced: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    argv = [
        "--data", str(tmp_path / "absent" / "data.yaml"), "--run-name", "mine",
        "--runs-dir", str(produced["runs"]), "--weights-out", str(produced["weights"]),
    ]  # fmt: skip
    exit_code, err = _run(train_cv.main, argv, capsys)
    assert exit_code == 3
    assert "dataset not found; build it with `make cv-data`" in err
    assert len(err.splitlines()) == 1
    _unchanged(produced)


def test_train_cv_corrupt_labels(
    tmp_path: Path, produced: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    data_yaml = make_tiny_person(tmp_path)
    label = sorted((data_yaml.parent / "labels" / "train").glob("*.txt"))[0]
    label.write_text("0 0.5 0.5 0.2\n")
    argv = [
        "--data", str(data_yaml), "--run-name", "mine", "--runs-dir", str(produced["runs"]),
        "--weights-out", str(produced["weights"]),
    ]  # fmt: skip
    exit_code, err = _run(train_cv.main, argv, capsys)
    assert exit_code == 3
    assert label.name in err and "rebuild with `make cv-data`" in err
    _unchanged(produced)


def test_train_cv_refuses_a_foreign_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data_yaml = make_tiny_person(tmp_path)
    foreign = tmp_path / "runs" / "mine"
    foreign.mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine, not ultralytics'")
    argv = ["--data", str(data_yaml), "--run-name", "mine", "--runs-dir", str(foreign.parent)]
    exit_code, err = _run(train_cv.main, [*argv, "--epochs", "1", "--imgsz", "32"], capsys)
    assert exit_code == 4
    assert "not written by this tool" in err
    assert (foreign / "notes.txt").read_text() == "mine, not ultralytics'"


def _grid_params(tmp_path: Path, cv: dict[str, object]) -> Path:
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"cv": cv}))
    return params


@pytest.mark.parametrize(
    ("cv", "needle"),
    [
        ({"grid": {"imgsz": [64, 96, 100]}}, "cv.grid (epochs=20, imgsz=100, lr0=0.001)"),
        ({"grid": {"epochs": [-1]}}, "epochs"),
        ({"grid": {"momentum": [0.9]}}, "unknown key"),
        ({"train": {"device": "cuda:7"}}, "cv.train.device = 'cuda:7'"),
        ({"train": {"model": "nowhere.pt"}}, "cv.train.model = 'nowhere.pt'"),
    ],
)
def test_grid_runner_validates_everything_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture, cv: dict[str, object], needle: str
) -> None:
    import torch

    if "cuda" in str(cv) and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    params = _grid_params(tmp_path, cv)
    exit_code, err = _run(run_yolo_pipeline_grid.main, ["--params", str(params)], capsys)
    assert exit_code == 2
    assert needle in err
    assert len(err.splitlines()) == 1


def test_grid_dry_run_lists_readable_names(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    params = _grid_params(tmp_path, {"grid": {"epochs": [3], "imgsz": [320, 64], "lr0": [0.01]}})
    with pytest.raises(SystemExit) as info:
        run_main(run_yolo_pipeline_grid.main, ["--params", str(params), "--dry-run"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "2 configurations" in out
    assert "yolo_e3_img320_lr0.01, yolo_e3_img64_lr0.01" in out


def test_helpers_leave_no_staging_folders(tmp_path: Path) -> None:
    make_tiny_person(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    shutil.rmtree(tmp_path / "coco128")
