"""Stage ``export``: the verified model as an MLflow model directory that serves its example."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from src.config import IRIS_FEATURES
from src.deploy.export import export_mlflow_model
from src.iris.dataset import read_iris_csv
from src.training.train import train_model
from tests.iris_helpers import make_splits


def test_the_export_serves_the_trained_model_and_saves_uncollected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.pyfunc
    import mlflow.sklearn

    processed = make_splits(tmp_path / "data")
    models = tmp_path / "models"
    model, _ = train_model(
        use_mlflow=False,
        models_dir=models,
        train_csv=processed / "train.csv",
        test_csv=processed / "test.csv",
    )
    saving: list[bool] = []
    save = mlflow.sklearn.save_model

    def save_and_record(*args: object, **kwargs: object) -> None:
        saving.append(gc.isenabled())
        save(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mlflow.sklearn, "save_model", save_and_record)
    out = export_mlflow_model(models / "metadata.json", models / "exported", processed / "test.csv")

    assert saving == [False]  # the save (skops, the signature, the example) ran paused
    assert gc.isenabled()
    example = read_iris_csv(processed / "test.csv")[list(IRIS_FEATURES)]
    served = mlflow.pyfunc.load_model(str(out)).predict(example)
    assert list(served) == list(model.predict(example))
