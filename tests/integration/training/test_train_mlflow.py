"""MLflow tracking and registry of the Iris training, read back from a temporary SQLite store."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

import src.tracking
from src.config import IRIS_CLASSES
from tests.iris_helpers import make_splits

MODEL_NAME = "iris-classifier"


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path
) -> Iterator[tuple[str, Path]]:
    """One SQLite store for the module, copied from the session's; returns (uri, data dir)."""
    root = tmp_path_factory.mktemp("iris-mlflow")
    shutil.copyfile(migrated_mlflow_db, root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        src.tracking._experiment_ids.clear()
        yield uri, make_splits(root / "data")
    mlflow.set_tracking_uri(None)


def train(store: tuple[str, Path], models: Path, **overrides: object) -> dict:
    from src.training.train import train_model

    _, processed = store
    _, metadata = train_model(
        models_dir=models,
        train_csv=processed / "train.csv",
        test_csv=processed / "test.csv",
        **overrides,
    )
    return metadata


def test_run_has_params_metrics_artifacts_tags_and_model(
    store: tuple[str, Path], tmp_path: Path
) -> None:
    uri, processed = store
    metadata = train(store, tmp_path, n_estimators=30, max_depth=4)
    client = MlflowClient(uri)
    run = client.get_run(metadata["mlflow"]["run_id"])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "rf_n30_d4"
    assert client.get_experiment(run.info.experiment_id).name == "iris-classifier"

    params = run.data.params
    assert params["train.n_estimators"] == "30" and params["train.max_depth"] == "4"
    assert params["train.algorithm"] == "random_forest" and params["data.test_size"] == "0.2"

    metrics = run.data.metrics
    for name in ("accuracy", "f1_macro", "precision_weighted", "recall_macro"):
        assert metrics[name] == pytest.approx(metadata["metrics"][name])
    for label in IRIS_CLASSES:
        for kind in ("precision", "recall", "f1"):
            assert f"{kind}_{label}" in metrics

    tags = run.data.tags
    assert tags["git_commit"] == metadata["git_commit"]
    assert tags["params_sha256"] == metadata["params_sha256"] and len(tags["data_sha256"]) == 64

    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {
        "evaluation/confusion_matrix.png",
        "evaluation/confusion_matrix.json",
        "evaluation/classification_report.txt",
    } <= artifacts
    logged = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/metadata.json")
    assert logged["model"]["sha256"] == metadata["model"]["sha256"]
    assert (
        json.loads((tmp_path / "metadata.json").read_text())["mlflow"]["run_id"] == run.info.run_id
    )

    model = mlflow.pyfunc.load_model(metadata["mlflow"]["model_uri"])
    features = __import__("pandas").read_csv(processed / "test.csv").drop(columns="species")
    assert set(model.predict(features.head(10))) <= set(IRIS_CLASSES)
    assert model.metadata.get_input_schema() is not None  # a signature was logged


def test_registry_champion_moves_only_when_at_least_as_good(
    store: tuple[str, Path], tmp_path: Path
) -> None:
    uri, _ = store
    client = MlflowClient(uri)
    good = train(store, tmp_path / "good", algorithm="logistic_regression", C=1.0)
    good_version = good["mlflow"]["registered_version"]
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == good_version

    worse = train(store, tmp_path / "worse", n_estimators=1, max_depth=1, random_state=3)
    assert worse["metrics"]["accuracy"] < good["metrics"]["accuracy"]
    assert worse["mlflow"]["promotion"]["promoted"] is False
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == good_version

    tie = train(store, tmp_path / "tie", algorithm="logistic_regression", C=1.0)
    assert tie["metrics"]["accuracy"] == good["metrics"]["accuracy"]
    assert tie["mlflow"]["promotion"]["promoted"] is True
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    assert str(champion.version) == tie["mlflow"]["registered_version"] != good_version
    assert float(champion.tags["metric.accuracy"]) == pytest.approx(tie["metrics"]["accuracy"])
    loaded = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    assert loaded is not None


def test_crash_inside_the_run_marks_it_failed_and_keeps_outputs(
    store: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri, _ = store
    models = tmp_path / "models"
    train(store, models, use_mlflow=False)
    before = {p.name: p.read_bytes() for p in models.iterdir()}

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("artifact store went away")

    monkeypatch.setattr(mlflow.sklearn, "log_model", explode)
    with pytest.raises(RuntimeError, match="artifact store went away"):
        train(store, models, run_name="doomed")
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("iris-classifier")
    runs = client.search_runs([experiment.experiment_id], "attributes.run_name = 'doomed'")
    assert [r.info.status for r in runs] == ["FAILED"]
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before
    assert mlflow.active_run() is None


def test_experiments_log_five_or_more_runs(
    store: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    uri, processed = store
    from src.training import experiments
    from src.training import train as train_module

    real = train_module.train_model

    def on_fixture_data(**kwargs: object) -> object:
        return real(train_csv=processed / "train.csv", test_csv=processed / "test.csv", **kwargs)

    monkeypatch.setattr(train_module, "train_model", on_fixture_data)
    rows = experiments.run_experiments()
    assert len(rows) >= 5
    assert len({r["run_name"] for r in rows}) == len(rows)
    client = MlflowClient(uri)
    for row in rows:
        assert client.get_run(row["run_id"]).info.status == "FINISHED"


def test_each_run_logs_its_train_and_test_tables_as_datasets(
    store: tuple[str, Path], tmp_path: Path
) -> None:
    import hashlib
    import warnings

    from mlflow.data.dataset_source_registry import resolve_dataset_source

    uri, processed = store
    with pytest.warns(UserWarning, match="can be interpreted in multiple ways"):
        resolve_dataset_source(str(processed / "train.csv"))  # why the workaround exists
    with warnings.catch_warnings():  # ... and that it works: the training does not warn
        warnings.filterwarnings("error", message="The specified dataset source")
        metadata = train(store, tmp_path / "models", run_name="with-datasets")
    run = MlflowClient(uri).get_run(metadata["mlflow"]["run_id"])
    inputs = {
        next(t.value for t in d.tags if t.key == "mlflow.data.context"): d.dataset
        for d in run.inputs.dataset_inputs
    }
    assert set(inputs) == {"training", "evaluation"}
    for context, split in (("training", "train"), ("evaluation", "test")):
        dataset = inputs[context]
        csv = processed / f"{split}.csv"
        assert dataset.name == f"iris-{split}"
        assert dataset.digest == hashlib.md5(csv.read_bytes()).hexdigest()  # DVC's hash
        assert str(csv.resolve()) in dataset.source
        profile = json.loads(dataset.profile)
        assert profile["num_rows"] == metadata["data"][f"{split}_rows"]
