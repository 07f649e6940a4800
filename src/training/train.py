"""Stage ``train``: fit the Iris classifier, track it in MLflow, register and promote it.

    python -m src.training.train [--n-estimators 150 --max-depth 15] [--no-mlflow]

or from Python, as in the course::

    from src.training.train import train_model
    model, metadata = train_model(n_estimators=150, max_depth=15)
    model, metadata = train_model(use_mlflow=False)

Outputs (each written atomically, only after everything else succeeded, so a
failure never replaces a good model with a bad one): ``models/iris_model.pkl``,
``models/metadata.json`` and ``models/metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from src.collector import quiet_start_up
from src.config import (
    IRIS_FEATURES,
    IRIS_TARGET,
    METADATA_FILE,
    MODEL_FILE,
    MODELS_DIR,
    TEST_CSV,
    TRAIN_CSV,
    TRAIN_METRICS_FILE,
    Params,
    TrainParams,
    get_config,
    with_overrides,
)
from src.errors import OutputError
from src.io_utils import (
    atomic_write_bytes,
    atomic_write_json,
    ensure_writable_dir,
    md5_file,
    publish_staged,
    remove_dead_staging,
    remove_path,
    sha256_bytes,
    sha256_file,
    sha256_text,
    signals_deferred,
    staging_path,
)

if TYPE_CHECKING:
    from src.tracking import PromotionDecision


def build_estimator(params: TrainParams) -> Any:
    """Return an unfitted scikit-learn classifier for ``params.algorithm``."""
    if params.algorithm == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=params.n_estimators,
            max_depth=params.max_depth,
            random_state=params.random_state,
            n_jobs=1,  # several jobs make no difference at this size and cost start-up time
        )
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=params.C, max_iter=params.max_iter, random_state=params.random_state
    )


def describe(params: TrainParams) -> str:
    """Return a readable run name such as ``rf_n50_d5`` or ``logreg_C0.1``."""
    if params.algorithm == "random_forest":
        return f"rf_n{params.n_estimators}_d{params.max_depth or 'none'}"
    return f"logreg_C{params.C:g}"


def library_versions() -> dict[str, str]:
    """Return the versions that matter to reproduce a training."""
    names = ("scikit-learn", "numpy", "pandas", "mlflow", "dvc")
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = package_version(name)
        except Exception:
            continue
    return versions


@quiet_start_up()  # no collection walks the libraries it imports (tools/bench/NOTES.md, B1)
def train_model(
    *,
    params_path: Path | str | None = None,
    use_mlflow: bool = True,
    register: bool = True,
    save: bool = True,
    run_name: str | None = None,
    models_dir: Path = MODELS_DIR,
    train_csv: Path = TRAIN_CSV,
    test_csv: Path = TEST_CSV,
    **overrides: Any,
) -> tuple[Any, dict[str, Any]]:
    """Return ``(model, metadata)`` after training with params.yaml's ``train`` section.

    Keyword ``overrides`` (``n_estimators=150``) replace fields of that section and
    are validated by the same model. ``use_mlflow=False`` trains with no tracking
    at all; ``save=False`` writes no local files (used by the experiments grid).
    Called from Python it is an entry point too: the environment defaults apply.
    """
    from src.runtime_env import apply_runtime_defaults

    apply_runtime_defaults()
    from src.iris.dataset import check_classes, read_iris_csv
    from src.iris.metrics import evaluate_model

    config = get_config(params_path)
    params = with_overrides(config.train, "train_model()", "train", **overrides)
    if save:
        ensure_writable_dir(models_dir)
    if use_mlflow:
        from src.tracking import check_tracking_available

        check_tracking_available()  # fail in one line before any work, not after it

    train = read_iris_csv(train_csv)
    test = read_iris_csv(test_csv)
    check_classes(train, train_csv, config.data.min_rows_per_class)
    check_classes(test, test_csv)
    features = list(IRIS_FEATURES)
    model = build_estimator(params).fit(train[features], train[IRIS_TARGET])
    report = evaluate_model(model, test[features], test[IRIS_TARGET].tolist())

    from src.iris.model_io import serialize_model
    from src.tracking import git_commit

    model_bytes = serialize_model(model)
    effective = config.model_copy(update={"train": params})
    metadata: dict[str, Any] = {
        "model": {
            "file": MODEL_FILE.name,
            "sha256": sha256_bytes(model_bytes),
            "algorithm": params.algorithm,
        },
        "params": {"data": effective.data.model_dump(), "train": params.model_dump()},
        "params_sha256": sha256_text(
            json.dumps(effective.model_dump(include={"data", "train"}), sort_keys=True)
        ),
        "data": {
            "train_sha256": sha256_file(train_csv),
            "test_sha256": sha256_file(test_csv),
            "train_rows": len(train),
            "test_rows": len(test),
        },
        "metrics": report.metrics,
        "per_class_metrics": report.per_class,
        "versions": library_versions(),
        "git_commit": git_commit(),
        "mlflow": None,
    }

    # One unit of work: the run is logged (and FINISHED), the new files are staged and
    # checked, and only then is the version registered and the files swapped in.
    if use_mlflow:
        datasets = [("training", train, train_csv), ("evaluation", test, test_csv)]
        metadata["mlflow"] = _track(model, report, metadata, effective, datasets, run_name)
    staged = _stage_outputs(models_dir, model_bytes, metadata, report.metrics) if save else {}
    try:
        with signals_deferred():  # Ctrl-C / SIGTERM wait until registry and files agree
            if metadata["mlflow"] is not None and register:
                metadata["mlflow"] |= _register(metadata, effective, report.metrics)
                if staged:
                    atomic_write_json(staged[METADATA_FILE.name], metadata)
            if staged:
                publish_staged([(path, models_dir / name) for name, path in staged.items()])
    finally:
        for path in staged.values():
            remove_path(path)
    return model, metadata


#: The local files of a training, published together.
OUTPUT_FILES = (MODEL_FILE.name, TRAIN_METRICS_FILE.name, METADATA_FILE.name)


def _stage_outputs(
    models_dir: Path, model_bytes: bytes, metadata: dict[str, Any], metrics: dict[str, float]
) -> dict[str, Path]:
    """Return the new files by name, written and checked beside their targets.

    Everything that can fail (a full disk, a directory where a file should be) fails
    here, before the registry or the current files are touched.
    """
    remove_dead_staging(models_dir)
    for name in OUTPUT_FILES:
        target = models_dir / name
        if target.is_dir() or target.is_symlink():
            raise OutputError(f"{target}: is a directory or a link, not a file; remove it")
    staged = {name: staging_path(models_dir / name) for name in OUTPUT_FILES}
    try:
        atomic_write_bytes(staged[MODEL_FILE.name], model_bytes)
        atomic_write_json(staged[TRAIN_METRICS_FILE.name], metrics)
        atomic_write_json(staged[METADATA_FILE.name], metadata)
        if sha256_file(staged[MODEL_FILE.name]) != metadata["model"]["sha256"]:
            raise OutputError(f"{models_dir}: the staged model does not read back as written")
    except BaseException:
        for path in staged.values():
            remove_path(path)
        raise
    return staged


def _register(
    metadata: dict[str, Any], params: Params, metrics: dict[str, float]
) -> dict[str, Any]:
    """Register the finished run's model and apply the champion rule; return what happened."""
    from src import tracking

    settings = params.mlflow
    tracked = metadata["mlflow"]
    metric = settings.promotion_metric

    def record(decision: PromotionDecision) -> None:
        import mlflow

        registry = _registry_entry(decision)
        client = mlflow.MlflowClient(tracking.tracking_uri())
        client.set_tag(tracked["run_id"], "registry", decision.summary)
        client.log_dict(
            tracked["run_id"], {**metadata, "mlflow": {**tracked, **registry}}, "metadata.json"
        )

    decision = tracking.register_and_promote(
        tracked["model_uri"],
        settings.registered_model_name,
        run_id=tracked["run_id"],
        metric=metric,
        value=metrics[metric],
        allow_ties=True,
        floor=settings.min_champion_metric,
        record=record,
    )
    return _registry_entry(decision)


def _registry_entry(decision: PromotionDecision) -> dict[str, Any]:
    """Return what metadata.json records of a registration decision."""
    return {
        "registered_version": decision.version,
        "promotion": {"promoted": decision.promoted, "summary": decision.summary},
    }


def _track(
    model: Any,
    report: Any,
    metadata: dict[str, Any],
    params: Params,
    datasets: list[tuple[str, Any, Path]],
    run_name: str | None,
) -> dict[str, Any]:
    """Log one training as one MLflow run (FINISHED on return); return its ids.

    ``datasets`` are ``(context, frame, csv)``: each is logged as the run's input, named
    for its split, with the file as source and its md5 (DVC's hash of it) as digest, so
    the UI's Dataset column says which data trained and scored the run.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.models import infer_signature

    from src import tracking
    from src.iris.metrics import confusion_figure
    from src.iris.model_io import SKOPS_TRUSTED_TYPES, model_requirements
    from src.workarounds import import_skops_io, local_dataset_source, pinned_requirements

    settings = params.mlflow
    data_hash = sha256_text(metadata["data"]["train_sha256"] + metadata["data"]["test_sha256"])
    tags = tracking.standard_tags(
        git_commit=metadata["git_commit"],
        data_sha256=data_hash,
        params_sha256=metadata["params_sha256"],
        algorithm=params.train.algorithm,
        pipeline="iris",
    )
    run_name = run_name or describe(params.train)
    with tracking.tracked_run(settings.experiment_name, run_name=run_name, tags=tags) as run:
        tracking.log_flat_params(
            {"data": metadata["params"]["data"], "train": metadata["params"]["train"]}
        )
        mlflow.log_metrics(report.flat_metrics())
        for context, frame, csv in datasets:
            dataset = from_pandas(
                frame,
                source=local_dataset_source(csv),
                name=f"iris-{'train' if context == 'training' else 'test'}",
                targets=IRIS_TARGET,
                digest=md5_file(csv),
            )
            mlflow.log_input(dataset, context=context)
        mlflow.log_figure(confusion_figure(report), "evaluation/confusion_matrix.png")
        mlflow.log_dict(
            {"labels": list(report.labels), "matrix": report.confusion},
            "evaluation/confusion_matrix.json",
        )
        mlflow.log_text(report.report_text, "evaluation/classification_report.txt")
        example = datasets[-1][1][list(IRIS_FEATURES)].head(5)
        import_skops_io()  # log_model saves with skops; this import skips loading torch
        # model_requirements() pins the installed versions: MLflow's check would compare
        # them with themselves.
        with pinned_requirements():
            model_info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(example, model.predict(example)),
                input_example=example,
                pip_requirements=model_requirements(),
                skops_trusted_types=SKOPS_TRUSTED_TYPES,
            )
        result: dict[str, Any] = {
            "run_id": run.info.run_id,
            "run_name": run_name,
            "experiment_id": run.info.experiment_id,
            "tracking_uri": tracking.tracking_uri(),
            "model_uri": model_info.model_uri,
            "registered_version": None,
            "promotion": None,
        }
        mlflow.log_dict({**metadata, "mlflow": result}, "metadata.json")
    return result


# --------------------------------------------------------------------------- CLI
def _max_depth(value: str) -> int | None:
    if value.lower() in ("none", "null"):
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer or 'none'") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train the Iris classifier (params.yaml's train section; flags override it)."
    )
    parser.add_argument(
        "--params", type=Path, default=None, help="params file (default params.yaml)"
    )
    parser.add_argument("--algorithm", help="random_forest | logistic_regression")
    parser.add_argument("--n-estimators", type=int, dest="n_estimators")
    parser.add_argument(
        "--max-depth",
        type=_max_depth,
        dest="max_depth",
        default=argparse.SUPPRESS,
        help="integer >= 1, or 'none' for unlimited",
    )
    parser.add_argument("--C", type=float, dest="C")
    parser.add_argument("--max-iter", type=int, dest="max_iter")
    parser.add_argument("--random-state", type=int, dest="random_state")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=TRAIN_CSV.parent,
        help="folder with train.csv and test.csv (default data/processed)",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=MODELS_DIR,
        help="where the model, metadata.json and metrics.json go",
    )
    parser.add_argument("--run-name", help="MLflow run name")
    parser.add_argument("--no-mlflow", action="store_true", help="train without any tracking")
    parser.add_argument(
        "--no-register", action="store_true", help="track the run but do not register the model"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fields = ("algorithm", "n_estimators", "max_depth", "C", "max_iter", "random_state")
    overrides = {
        name: getattr(args, name)
        for name in fields
        if hasattr(args, name) and (getattr(args, name) is not None or name == "max_depth")
    }
    # Validate here too so a bad flag is reported as coming from the command line.
    with_overrides(get_config(args.params).train, "command line", "train", **overrides)
    _, metadata = train_model(
        params_path=args.params,
        use_mlflow=not args.no_mlflow,
        register=not args.no_register,
        run_name=args.run_name,
        models_dir=args.models_dir,
        train_csv=args.data_dir / TRAIN_CSV.name,
        test_csv=args.data_dir / TEST_CSV.name,
        **overrides,
    )
    metrics = metadata["metrics"]
    line = (
        f"train: {metadata['model']['algorithm']} accuracy={metrics['accuracy']:.4f} "
        f"f1_macro={metrics['f1_macro']:.4f} -> {args.models_dir}"
    )
    tracked = metadata["mlflow"]
    if tracked:
        line += f" | mlflow run {tracked['run_id']}"
        if tracked["promotion"]:
            line += f" | {tracked['promotion']['summary']}"
    print(line)
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
