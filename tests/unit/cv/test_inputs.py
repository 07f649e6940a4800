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
from src.cv.inputs import check_device, check_yolo_dataset, resolve_device, resolve_model
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
    # The default YAML gives way to the root file, which is checked like any checkpoint.
    with pytest.raises(ConfigError) as info:
        resolve_model("yolov8n.yaml")
    assert str(info.value).startswith(f"cv.train.model = 'yolov8n.yaml': {weights} is not a")
    # Another YAML is taken at its word.
    assert resolve_model("yolov8s.yaml").kind == "yaml"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "is not a PyTorch checkpoint (BadZipFile"),
        (bytes(range(256)) * 16, "is not a PyTorch checkpoint (BadZipFile"),
        ("truncated", "is not a PyTorch checkpoint"),
        ("state_dict", "holds no ultralytics model"),
    ],
)
def test_unusable_weights_file_is_one_config_error_line(
    tmp_path: Path, content: bytes | str, needle: str
) -> None:
    import torch

    path = tmp_path / "model.pt"
    if content == "state_dict":
        torch.save({"conv.weight": torch.zeros(2, 2)}, path)
    elif content == "truncated":
        torch.save({"conv.weight": torch.zeros(64, 64)}, path)
        path.write_bytes(path.read_bytes()[:300])
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        resolve_model(str(path))
    message = str(info.value)
    assert message.startswith(f"cv.train.model = '{path}': {path} ")
    assert needle in message and "\n" not in message


# --------------------------------------------------------------------------- device
def test_unknown_device_is_rejected_by_the_schema() -> None:
    with pytest.raises(ValueError, match="auto, cpu, mps, cuda"):
        CvTrainParams(device="gpu")
    assert CvTrainParams().device == "auto"
    assert get_config().cv.train.device == "auto"  # params.yaml


def _machine(monkeypatch: pytest.MonkeyPatch, *, cuda: int = 0, mps: bool = False) -> None:
    """Make torch report ``cuda`` GPUs and MPS as given."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(2, True, "cuda"), (1, False, "cuda"), (0, True, "mps"), (0, False, "cpu")],
)
def test_auto_device_prefers_cuda_then_mps_then_cpu(
    monkeypatch: pytest.MonkeyPatch, cuda: int, mps: bool, expected: str
) -> None:
    _machine(monkeypatch, cuda=cuda, mps=mps)
    assert resolve_device("auto") == expected
    assert check_device("auto") == expected


def test_explicit_devices_are_kept_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _machine(monkeypatch, cuda=2, mps=False)
    for device in ("cpu", "cuda", "cuda:1", "1", "0,1"):
        assert check_device(device) == device
    with pytest.raises(ConfigError, match=r"CUDA device 2 does not exist \(2 visible\)"):
        check_device("0,2")
    with pytest.raises(ConfigError, match="Apple MPS is not available"):
        check_device("mps")
    _machine(monkeypatch, cuda=0, mps=True)
    assert check_device("mps") == "mps"
    with pytest.raises(ConfigError, match="no CUDA device is visible"):
        check_device("cuda:0")


def test_absent_cuda_device_is_a_config_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="no CUDA device"):
        check_device("cuda:0")
    assert check_device("cpu") == "cpu"


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
