"""Both champions behind ``mlflow models serve``, and ``python -m src.predict_cv``, end to end.

One module store holds a YOLO trained for one epoch at 32 px (registered by the grid's
``register_best``) and an Iris forest; each server runs from a folder outside the repo with
the venv's bin on PATH, on a free loopback port, and is killed (process group) at the end.
A detector this small finds nothing real: the tests assert the structure, not accuracy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cv_helpers import make_tiny_person
from repo_copy import tool_env

import src.tracking
from src.config import IRIS_FEATURES, CvTrackingParams, CvTrainParams
from src.errors import DataError
from tests.iris_helpers import make_splits

ASSETS = Path(importlib.util.find_spec("ultralytics").origin).parent / "assets"  # type: ignore[union-attr,arg-type]
PHOTOS = (ASSETS / "bus.jpg", ASSETS / "zidane.jpg")
YOLO_CHAMPION = "models:/yolo-tiny-person@champion"
IRIS_CHAMPION = "models:/iris-classifier@champion"


@dataclass(frozen=True)
class Store:
    uri: str
    root: Path
    weights: Path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[Store]:
    """A store whose champions are a tiny YOLO (pyfunc) and an Iris forest (sklearn)."""
    import shutil

    import mlflow

    from src.cv.selection import register_best
    from src.cv.training import train_yolo
    from src.training.train import train_model

    root = tmp_path_factory.mktemp("serving")
    shutil.copyfile(migrated_mlflow_db, root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        src.tracking._experiment_ids.clear()
        result = train_yolo(
            CvTrainParams(epochs=1, imgsz=32, batch=4, plots=False),
            make_tiny_person(root),
            run_dir=root / "runs" / "yolo",
            tracking=CvTrackingParams(),
            progress=False,
        )
        # A 1-epoch model finds nothing: the floor is off so that it can be the champion.
        assert register_best(result.to_dict(), CvTrackingParams(min_champion_metric=0)).promoted
        processed = make_splits(root / "iris")
        train_model(
            models_dir=root / "models",
            train_csv=processed / "train.csv",
            test_csv=processed / "test.csv",
            n_estimators=10,
        )
        yield Store(uri, root, result.weights)
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + "/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@contextmanager
def _serving(model: str, store: Store, folder: Path) -> Iterator[str]:
    """Run ``python -m src.tracking_cli serve MODEL`` from ``folder``; yield its base URL."""
    port = _free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "src.tracking_cli", "serve", model, "--port", str(port)],
            cwd=folder,
            env=tool_env(MLFLOW_TRACKING_URI=store.uri),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not up after 240 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


@pytest.fixture(scope="module")
def yolo_server(store: Store) -> Iterator[str]:
    with _serving("yolo", store, store.root / "yolo-server") as url:
        yield url


@pytest.fixture(scope="module")
def iris_server(store: Store) -> Iterator[str]:
    with _serving("iris", store, store.root / "iris-server") as url:
        yield url


def _photo_frame() -> Any:
    import pandas as pd

    from src.cv.serving import encode_image_file

    return pd.DataFrame({"image": [encode_image_file(path) for path in PHOTOS]})


def _assert_detections(predictions: Any, count: int) -> None:
    assert isinstance(predictions, list) and len(predictions) == count
    for detections in predictions:
        assert isinstance(detections, list)
        for det in detections:
            assert set(det) == {"box", "confidence", "class_id", "class_name"}
            assert len(det["box"]) == 4 and all(type(v) is float for v in det["box"])
            x1, y1, x2, y2 = det["box"]
            assert 0 <= x1 <= x2 <= 1280 and 0 <= y1 <= y2 <= 1080
            assert type(det["confidence"]) is float and 0 <= det["confidence"] <= 1
            assert type(det["class_id"]) is int and det["class_name"] == "person"


def test_champion_pyfunc_detects_in_real_photos(store: Store) -> None:
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(YOLO_CHAMPION)
    assert model.metadata.get_input_schema().input_names() == ["image"]
    default = model.predict(_photo_frame())
    _assert_detections(default, len(PHOTOS))
    low = model.predict(_photo_frame(), params={"conf": 0.0})
    _assert_detections(low, len(PHOTOS))
    assert sum(map(len, low)) >= sum(map(len, default))


_WITHOUT_THE_PROJECT = """
import json, sys
sys.meta_path = [f for f in sys.meta_path if "Editable" not in repr(f)]  # the editable install
sys.path = [p for p in sys.path if p not in ("", sys.argv[1])]
import mlflow.pyfunc
import pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[2])
import src.cv.serving
frame = pd.DataFrame({"image": [src.cv.serving.encode_image_file(sys.argv[3])]})
print(json.dumps({"module": src.cv.serving.__file__, "predictions": model.predict(frame)}))
"""


def test_the_model_carries_its_code_and_predicts_without_the_project(
    store: Store, tmp_path: Path
) -> None:
    import mlflow.pyfunc

    root = Path(src.tracking.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_THE_PROJECT, str(root), YOLO_CHAMPION, str(PHOTOS[1])],
        cwd=tmp_path,
        env=tool_env(MLFLOW_TRACKING_URI=store.uri),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    # src.cv.serving came from the model's own code folder, not from the repo.
    assert not Path(answer["module"]).resolve().is_relative_to(root)
    assert Path(answer["module"]).parts[-4:] == ("code", "src", "cv", "serving.py")
    frame = _photo_frame().iloc[[1]]
    assert answer["predictions"] == mlflow.pyfunc.load_model(YOLO_CHAMPION).predict(frame)


def test_yolo_server_answers_what_the_local_pyfunc_predicts(store: Store, yolo_server: str) -> None:
    import mlflow.pyfunc

    frame = _photo_frame()
    local = mlflow.pyfunc.load_model(YOLO_CHAMPION).predict(frame, params={"conf": 0.001})
    status, body = _post(
        yolo_server,
        {"dataframe_split": frame.to_dict(orient="split", index=False), "params": {"conf": 0.001}},
    )
    assert status == 200
    assert body == {"predictions": json.loads(json.dumps(local))}
    _assert_detections(body["predictions"], len(PHOTOS))


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("aGVsbG8=", "image[0]: not a decodable image"), ("%%%", "image[0]: not valid base64")],
)
def test_yolo_server_rejects_an_undecodable_image_with_400(
    yolo_server: str, cell: str, reason: str
) -> None:
    status, body = _post(yolo_server, {"dataframe_split": {"columns": ["image"], "data": [[cell]]}})
    assert status == 400
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert reason in body["message"]


def test_iris_server_answers_what_the_local_pyfunc_predicts(store: Store, iris_server: str) -> None:
    import mlflow.pyfunc
    import pandas as pd

    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    frame = pd.DataFrame(rows, columns=list(IRIS_FEATURES))
    local = mlflow.pyfunc.load_model(IRIS_CHAMPION).predict(frame)
    status, body = _post(
        iris_server, {"dataframe_split": {"columns": list(IRIS_FEATURES), "data": rows}}
    )
    assert status == 200
    assert body == {"predictions": local.tolist()}


def test_serving_a_missing_alias_is_one_line_before_any_server(store: Store) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "src.tracking_cli", "serve", "models:/yolo-tiny-person@nope"],
        env=tool_env(MLFLOW_TRACKING_URI=store.uri),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == DataError.exit_code
    assert done.stderr.strip().splitlines() == [
        "error: models:/yolo-tiny-person@nope: model 'yolo-tiny-person' has no alias 'nope' "
        "(aliases: challenger, champion)"
    ]
    assert "serving" not in done.stdout


def test_predict_cv_champion_and_pt_give_the_same_detections_and_draw_them(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    from src import predict_cv

    out = tmp_path / "out"
    photos = [str(path) for path in PHOTOS]
    assert predict_cv.main([*photos, "--out", str(out), "--conf", "0.001"]) == 0
    printed = json.loads(capsys.readouterr().out)
    _assert_detections(printed["predictions"], len(PHOTOS))
    assert [Path(p).name for p in printed["images"]] == ["bus.jpg", "zidane.jpg"]
    for photo in PHOTOS:
        with Image.open(out / photo.name) as drawn, Image.open(photo) as original:
            assert drawn.size == original.size

    argv = [*photos, "--model", str(store.weights), "--out", str(out), "--conf", "0.001"]
    assert predict_cv.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["predictions"] == printed["predictions"]


def test_predict_cv_bad_inputs_are_one_line_and_leave_earlier_outputs(
    store: Store, tmp_path: Path
) -> None:
    from ultralytics import YOLO

    from src.predict_cv import predict_images

    out = tmp_path / "out"
    out.mkdir()
    (out / "bus.jpg").write_bytes(b"an earlier prediction")
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("not an image")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00garbage")
    classifier = tmp_path / "classifier.pt"
    YOLO("yolov8n-cls.yaml").save(str(classifier))
    bus = str(PHOTOS[0])
    cases = [
        ([str(tmp_path / "missing.jpg")], YOLO_CHAMPION, r"missing\.jpg: no such image or folder"),
        ([bus, str(not_image)], YOLO_CHAMPION, r"notes\.jpg: not a decodable image"),
        ([bus], str(corrupt), r"corrupt\.pt: not an ultralytics checkpoint"),
        ([bus], str(classifier), r"classifier\.pt: a YOLO 'classify' model; expected a 'detect'"),
        ([bus], "models:/yolo-tiny-person@gone", r"has no alias 'gone' \(aliases: challenger"),
        ([bus], "models:/no-such-model@champion", r"no registered model 'no-such-model'"),
    ]
    for inputs, model, message in cases:
        with pytest.raises(DataError, match=message) as caught:
            predict_images(inputs, model=model, out_dir=out)
        assert "\n" not in str(caught.value)
        assert (out / "bus.jpg").read_bytes() == b"an earlier prediction"
    assert sorted(p.name for p in out.iterdir()) == ["bus.jpg"]
