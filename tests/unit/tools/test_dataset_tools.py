"""The dataset tools' command lines: flags validated by the schema, one-line errors, exit codes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from src.cv.dataset.manifest import load_manifest
from src.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[3]
SYNTH_TOOL = ROOT / "tools" / "make_synthetic_coco128.py"
TINY_TOOL = ROOT / "tools" / "make_tiny_person_from_coco128.py"
#: 6 / 3 / 2 images (11 used: val floor(3.3), test floor(2.2), train the rest).
SMALL_FLAGS = ["--train", "0.5", "--val", "0.3", "--test", "0.2", "--max-images", "11"]


def _load(path: Path) -> ModuleType:
    """Import a tool by path, as its `python tools/X.py` form does not need a package."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synth() -> ModuleType:
    return _load(SYNTH_TOOL)


@pytest.fixture(scope="module")
def tiny() -> ModuleType:
    return _load(TINY_TOOL)


@pytest.fixture
def coco(synth: ModuleType, tmp_path: Path) -> Path:
    out = tmp_path / "coco128"
    assert synth.main(["--out", str(out), "--images", "16", "--imgsz", "64"]) == 0
    return out


def test_tools_build_the_dataset(
    tiny: ModuleType, coco: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tiny"
    argv = ["--source", str(coco), "--out", str(out), *SMALL_FLAGS, "--letterbox", "64"]
    assert tiny.main(argv) == 0
    manifest = load_manifest(out)
    assert manifest["params"]["letterbox"] == 64
    assert [manifest["splits"][s]["images"] for s in ("train", "val", "test")] == [6, 3, 2]
    summary = capsys.readouterr().out
    assert "train 6 / val 3 / test 2 images" in summary and "fingerprint" in summary


def test_params_file_is_read_and_flags_override_it(
    tiny: ModuleType, coco: Path, tmp_path: Path
) -> None:
    params = tmp_path / "params.yaml"
    dataset = {"train": 0.625, "val": 0.25, "test": 0.125, "max_images": 8, "seed": 4}
    params.write_text(yaml.safe_dump({"cv": {"dataset": dataset}}))  # 5 / 2 / 1 images of 8
    out = tmp_path / "tiny"
    argv = ["--params", str(params), "--source", str(coco), "--out", str(out), "--seed", "9"]
    assert tiny.main(argv) == 0
    manifest = load_manifest(out)
    assert manifest["params"]["seed"] == 9
    assert manifest["splits"]["train"]["images"] == 5


def test_flags_are_validated_by_the_schema(
    tiny: ModuleType, synth: ModuleType, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"cv\.dataset\.letterbox = 16"):
        tiny.main(["--letterbox", "16", "--out", str(tmp_path / "x")])
    with pytest.raises(ConfigError, match=r"cv\.synthetic\.imgsz = 10"):
        synth.main(["--imgsz", "10", "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()


def test_skip_invalid_flag(tiny: ModuleType, coco: Path, tmp_path: Path) -> None:
    label = sorted((coco / "labels" / "train2017").glob("*.txt"))[0]
    label.write_text(label.read_text() + "0 0.5\n")
    argv = ["--source", str(coco), "--out", str(tmp_path / "tiny"), *SMALL_FLAGS]
    with pytest.raises(DataError, match=f"{label}:"):
        tiny.main(argv)
    assert tiny.main([*argv, "--skip-invalid"]) == 0
    assert load_manifest(tmp_path / "tiny")["skipped_invalid"]["lines"] == 1


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_script_runs_from_any_directory(tmp_path: Path) -> None:
    result = _run(str(SYNTH_TOOL), "--out", "c128", "--images", "8", "--imgsz", "64", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c128" / "images" / "train2017" / "000000000007.jpg").is_file()


def test_script_error_is_one_line_and_non_zero(coco: Path, tmp_path: Path) -> None:
    label = sorted((coco / "labels" / "train2017").glob("*.txt"))[0]
    label.write_text("0 0.5 0.5 0.1 1.7\n")
    result = _run(str(TINY_TOOL), "--source", str(coco), "--out", str(tmp_path / "t"), cwd=tmp_path)
    assert result.returncode == DataError.exit_code
    assert result.stderr == f"error: {label}:1: h 1.7 outside [0, 1]\n"
    assert not (tmp_path / "t").exists()


def test_classes_and_max_images_flags(
    tiny: ModuleType, coco: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tiny"
    argv = ["--source", str(coco), "--out", str(out), "--max-images", "all", "--classes", "0"]
    assert tiny.main(argv) == 0
    manifest = load_manifest(out)
    assert manifest["params"]["max_images"] is None and manifest["params"]["classes"] == [0]
    assert manifest["selection"]["used"] == manifest["selection"]["found"]
    with pytest.raises(SystemExit):
        tiny.main([*argv[:-1], "0,person"])
    assert "expected class ids like 0,2" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"cv\.dataset\.classes = \[0, 0\]"):
        tiny.main([*argv[:-1], "0,0"])
    with pytest.raises(DataError, match=r"cv\.dataset\.classes 80 not in the source"):
        tiny.main([*argv[:-1], "80"])
    with pytest.raises(ConfigError, match=r"train \+ val \+ test = 1\.2"):
        tiny.main([*argv, "--train", "0.8"])


def test_plot_data_go_where_plots_says_and_a_failed_build_keeps_them(
    tiny: ModuleType, coco: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, plots = tmp_path / "tiny", tmp_path / "plots"
    argv = ["--source", str(coco), "--out", str(out), *SMALL_FLAGS]
    assert tiny.main(argv) == 0
    assert "plot data" not in capsys.readouterr().out  # --out alone: no plot data
    assert not plots.exists()
    assert tiny.main([*argv, "--plots", str(plots)]) == 0
    assert f"plot data: {plots / 'boxes_per_split.csv'}" in capsys.readouterr().out
    written = {p.name: p.read_bytes() for p in plots.iterdir()}
    boxes = [load_manifest(out)["splits"][s]["boxes"] for s in ("train", "val", "test")]
    expected = f"split,images,boxes\ntrain,6,{boxes[0]}\nval,3,{boxes[1]}\ntest,2,{boxes[2]}\n"
    assert written["boxes_per_split.csv"].decode() == expected
    label = sorted((coco / "labels" / "train2017").glob("*.txt"))[0]
    label.write_text("0 0.5 0.5 0.1 1.7\n")
    with pytest.raises(DataError):
        tiny.main([*argv, "--plots", str(plots)])
    assert {p.name: p.read_bytes() for p in plots.iterdir()} == written
