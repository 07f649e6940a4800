"""YOLO training inputs: grid schema, dataset and label checks, model and device resolution.

Nothing here trains: every case must fail (or pass) before ultralytics would start.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cv_helpers import make_tiny_person

from src.config import CvGridParams, CvTrainParams, get_config
from src.cv import inputs
from src.cv.inputs import check_device, check_yolo_dataset, resolve_model
from src.cv.training import run_name_for
from src.errors import ConfigError, DataError


# --------------------------------------------------------------------------- grid
def test_grid_expands_to_validated_configurations() -> None:
    grid = CvGridParams(epochs=[3, 5], imgsz=[64], lr0=[0.01, 0.02])
    configs = grid.configurations(CvTrainParams(batch=4))
    assert [(c.epochs, c.imgsz, c.lr0, c.batch) for c in configs] == [
        (3, 64, 0.01, 4),
        (3, 64, 0.02, 4),
        (5, 64, 0.01, 4),
        (5, 64, 0.02, 4),
    ]
    assert run_name_for(configs[1]) == "yolo_e3_img64_lr0.02"
    assert run_name_for(configs[1], ("epochs", "batch")) == "yolo_e3_b4"


@pytest.mark.parametrize(
    ("grid", "needle"),
    [
        ({"imgsz": [160, 100]}, "imgsz = 100: must be a multiple of 32"),
        ({"epochs": [0]}, "epochs = 0"),
        ({"lr0": [0.01, 0.01]}, "lists the same value twice"),
        ({"epochs": []}, "epochs"),
        ({"epochz": [3]}, "did you mean 'epochs'"),
        ({"lr0": ["fast"]}, "lr0"),
    ],
)
def test_invalid_grid_entries_are_one_line_config_errors(
    tmp_path: Path, grid: dict[str, object], needle: str
) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"cv": {"grid": grid}}))
    with pytest.raises(ConfigError) as info:
        cv = get_config(params).cv
        cv.grid.configurations(cv.train)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_model_field_must_be_yaml_or_weights() -> None:
    with pytest.raises(ValueError, match="model YAML"):
        CvTrainParams(model="yolov8n.onnx")


# --------------------------------------------------------------------------- model
def test_shipped_yaml_resolves_without_download() -> None:
    resolved = resolve_model("yolov8n.yaml")
    assert resolved.kind == "yaml"
    assert "yolov8.yaml" in resolved.description


def test_unknown_yaml_and_missing_weights_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="no such model YAML"):
        resolve_model("yolov99z.yaml")
    with pytest.raises(ConfigError, match=r"not found.*nothing is downloaded"):
        resolve_model("weights/missing.pt")


def test_repo_root_weights_replace_the_default_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "yolov8n.pt"
    weights.write_bytes(b"not really weights")
    monkeypatch.setattr(inputs, "LOCAL_YOLO_WEIGHTS", weights)
    resolved = resolve_model("yolov8n.yaml")
    assert (resolved.kind, resolved.source) == ("weights", str(weights))
    # Another YAML is taken at its word.
    assert resolve_model("yolov8s.yaml").kind == "yaml"
    local = tmp_path / "mine.pt"
    local.write_bytes(b"x")
    assert resolve_model(str(local)).source == str(local)


# --------------------------------------------------------------------------- device
def test_unknown_device_is_rejected_by_the_schema() -> None:
    with pytest.raises(ValueError, match="cpu, mps, cuda"):
        CvTrainParams(device="gpu")


def test_absent_cuda_device_is_a_config_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="no CUDA device"):
        check_device("cuda:0")
    check_device("cpu")


# --------------------------------------------------------------------------- dataset
def test_missing_dataset_says_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="make cv-data"):
        check_yolo_dataset(tmp_path / "nothing" / "data.yaml")


def test_valid_dataset_is_counted_and_fingerprinted(tmp_path: Path) -> None:
    dataset = check_yolo_dataset(make_tiny_person(tmp_path))
    assert dataset.names == {0: "person"}
    assert [dataset.counts[s]["images"] for s in ("train", "val", "test")] == [8, 4, 4]
    assert dataset.counts["train"]["boxes"] >= 8
    assert len(dataset.fingerprint) == 64


def test_edited_file_differs_from_manifest(tmp_path: Path) -> None:
    data_yaml = make_tiny_person(tmp_path)
    label = next((data_yaml.parent / "labels" / "train").glob("*.txt"))
    label.write_text(label.read_text() + "0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError, match=r"differs from manifest\.json"):
        check_yolo_dataset(data_yaml)


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("0 0.5 0.5 0.2", "expected 5 fields"),
        ("1 0.5 0.5 0.2 0.2", "outside the dataset's 1 class"),
        ("0 0.5 nan 0.2 0.2", "not finite"),
        ("0 0.5 1.5 0.2 0.2", "outside [0, 1]"),
        ("0 0.5 0.5 0 0.2", "width and height must be > 0"),
    ],
)
def test_corrupt_label_names_file_and_line(tmp_path: Path, line: str, rule: str) -> None:
    data_yaml = make_tiny_person(tmp_path)
    (data_yaml.parent / "manifest.json").unlink()  # a plain YOLO dataset: labels are checked
    label = sorted((data_yaml.parent / "labels" / "val").glob("*.txt"))[0]
    label.write_text("0 0.5 0.5 0.2 0.2\n" + line + "\n")
    with pytest.raises(DataError) as info:
        check_yolo_dataset(data_yaml)
    assert f"{label.name}:2: " in str(info.value)
    assert rule in str(info.value)


def test_binary_label_file_is_a_data_error(tmp_path: Path) -> None:
    data_yaml = make_tiny_person(tmp_path)
    (data_yaml.parent / "manifest.json").unlink()
    label = sorted((data_yaml.parent / "labels" / "train").glob("*.txt"))[0]
    label.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="not UTF-8"):
        check_yolo_dataset(data_yaml)
