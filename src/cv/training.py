"""Train a YOLO detector on the tiny person dataset: one call, one MLflow run, one fixed folder.

:func:`train_yolo` is the pure core that ``python -m src.train_cv`` and the ZenML step
``train_yolo_tiny`` both call. It

* validates everything up front (dataset and labels, model YAML or weights, device with
  :mod:`src.cv.inputs`; the tracking store), so a bad input is one line and nothing
  already produced is touched;
* never downloads: ``YOLO_OFFLINE=1``, ``amp=False``, a local font for the plots
  (:func:`src.workarounds.configure_ultralytics`), and a model that is either a YAML
  shipped inside ultralytics (trained from scratch) or a local ``.pt`` (``yolov8n.pt`` at
  the repo root replaces the default YAML when present);
* turns ultralytics' own MLflow callback off and logs through :mod:`src.tracking` instead,
  so each training is exactly one run (joining the run a ZenML step already opened);
* trains in a hidden staging folder that replaces ``run_dir`` only when training worked,
  with no garbage collection walking the heap of imports
  (:func:`src.collector.quiet_start_up`).

Metric names (MLflow keys and ``YoloTrainingResult.metrics``):

=====================  ============================================================
``precision``          box precision of ``best.pt`` on the val split (final)
``recall``             box recall of ``best.pt`` on the val split (final)
``map50``              mAP at IoU 0.5 of ``best.pt`` on the val split (final)
``map50_95``           mAP averaged over IoU 0.5:0.95 (final; ultralytics' fitness)
``best_epoch``         epoch whose weights became ``best.pt`` (1-based)
``epochs_completed``   epochs actually run (early stopping may end sooner)
``train_seconds``      wall time of ``model.train`` (validation included)
=====================  ============================================================

Per epoch (``step`` = epoch, 1-based): ``train_box_loss``, ``train_cls_loss``,
``train_dfl_loss``, ``val_box_loss``, ``val_cls_loss``, ``val_dfl_loss``,
``val_precision``, ``val_recall``, ``val_map50``, ``val_map50_95``, ``lr_pg0..2``.
"""

from __future__ import annotations

import csv
import math
import re
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from src.collector import quiet_start_up
from src.config import CvTrackingParams, CvTrainParams
from src.cv.inputs import YoloDataset, check_device, check_yolo_dataset, resolve_model
from src.errors import DataError, OutputError
from src.io_utils import (
    display_path,
    new_staging_dir,
    publish_staged,
    remove_dead_staging,
    remove_path,
    signals_deferred,
)
from src.tracking import check_tracking_available, log_flat_params, standard_tags, tracked_run
from src.workarounds import configure_ultralytics, offline_train_args

#: ultralytics' metric keys (results.csv and ``DetMetrics.results_dict``) → our names.
FINAL_METRICS: dict[str, str] = {
    "metrics/precision(B)": "precision",
    "metrics/recall(B)": "recall",
    "metrics/mAP50(B)": "map50",
    "metrics/mAP50-95(B)": "map50_95",
}
#: The run folder's plots that MLflow and the decision report show (with ``plots`` on).
PLOT_ARTIFACTS: tuple[str, ...] = ("results.png", "confusion_matrix.png")
#: Files of the ultralytics run folder logged as MLflow artifacts (path in the run folder;
#: the plots only with ``plots`` on).
RUN_ARTIFACTS: tuple[str, ...] = (
    *PLOT_ARTIFACTS,
    "results.csv",
    "args.yaml",
    "weights/best.pt",
)
#: ultralytics writes this first in every run folder; it marks a folder we may replace.
RUN_MARKER = "args.yaml"


# --------------------------------------------------------------------------- results
def run_name_for(params: CvTrainParams, axes: tuple[str, ...] = ("epochs", "imgsz", "lr0")) -> str:
    """Return a readable name for a configuration, e.g. ``yolo_e40_img160_lr0.01``."""
    short = {"epochs": "e", "imgsz": "img", "lr0": "lr", "batch": "b", "seed": "s"}
    parts = [f"{short.get(axis, axis)}{getattr(params, axis):g}" for axis in axes]
    return "_".join(["yolo", *parts])


def _metric_key(column: str) -> str:
    column = column.strip()
    if column in FINAL_METRICS:
        return f"val_{FINAL_METRICS[column]}"
    return re.sub(r"[^0-9a-zA-Z_]+", "_", column).strip("_")


def read_results_csv(path: Path) -> list[dict[str, float]]:
    """Return one dict per epoch from ultralytics' results.csv, with our metric names."""
    rows: list[dict[str, float]] = []
    with open(path, newline="") as handle:
        for raw in csv.DictReader(handle):
            row: dict[str, float] = {}
            for column, value in raw.items():
                if column is None or value is None or not value.strip():
                    continue
                number = float(value)
                row[_metric_key(column)] = number if math.isfinite(number) else 0.0
            row["epoch"] = int(row["epoch"])
            rows.append(row)
    return rows


@dataclass(frozen=True)
class YoloTrainingResult:
    """Everything a training produced: weights, metrics, history and where MLflow keeps them."""

    run_name: str
    run_dir: Path
    weights: Path
    metrics: dict[str, float]
    history: list[dict[str, float]]
    mlflow_run_id: str
    mlflow_experiment_id: str
    artifact_uris: dict[str, str]
    train_seconds: float
    params: dict[str, Any]
    dataset_fingerprint: str
    model_source: str
    tags: dict[str, str] = field(default_factory=dict)

    def relocated(self, run_dir: Path) -> YoloTrainingResult:
        """Return a copy whose folder and weights are where ``run_dir`` will hold them."""
        return replace(self, run_dir=run_dir, weights=run_dir / "weights" / "best.pt")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly copy (paths as strings)."""
        data = asdict(self)
        data["run_dir"], data["weights"] = str(self.run_dir), str(self.weights)
        return data


def _log_history(run_id: str, history: list[dict[str, float]]) -> None:
    """Log every per-epoch value with step = epoch, in few requests (log_batch)."""
    import mlflow
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [
        Metric(key=key, value=float(value), timestamp=now, step=int(row["epoch"]))
        for row in history
        for key, value in row.items()
        if key not in ("epoch", "time")
    ]
    client = mlflow.MlflowClient()
    for start in range(0, len(metrics), 1000):  # the REST API's batch limit
        client.log_batch(run_id, metrics=metrics[start : start + 1000])


def _progress_callback(total: int) -> Any:
    def on_fit_epoch_end(trainer: Any) -> None:
        if trainer.epoch >= total:  # ultralytics fires once more after its final validation
            return
        metrics = trainer.metrics or {}
        print(
            f"  epoch {trainer.epoch + 1}/{total}  "
            f"mAP50 {metrics.get('metrics/mAP50(B)', 0.0):.3f}  "
            f"mAP50-95 {metrics.get('metrics/mAP50-95(B)', 0.0):.3f}",
            flush=True,
        )

    return on_fit_epoch_end


def _check_replaceable(run_dir: Path) -> None:
    """Raise OutputError now (not after an MLflow run started) if ``run_dir`` is not ours."""
    if not run_dir.exists():
        return
    if not run_dir.is_dir():
        raise OutputError(f"{display_path(run_dir)}: exists and is not a directory")
    if any(run_dir.iterdir()) and not (run_dir / RUN_MARKER).is_file():
        raise OutputError(
            f"{display_path(run_dir)}: exists and has no {RUN_MARKER}, so it was not written by "
            "this tool; remove it or choose another run name"
        )


def _log_run_files(
    folder: Path, dataset: YoloDataset, artifact_uri: str, *, plots: bool
) -> dict[str, str]:
    """Log the run folder's plots (if made), tables and weights and the dataset files.

    Returns their URIs; a file that should be there and is not is a warning, not an error.
    """
    import mlflow

    artifact_uris: dict[str, str] = {}
    for rel in RUN_ARTIFACTS:
        if rel in PLOT_ARTIFACTS and not plots:
            continue
        path = folder / rel
        if not path.is_file():
            print(f"warning: {rel} was not written; not logged", file=sys.stderr)
            continue
        parent = str(Path(rel).parent) if Path(rel).parent != Path(".") else None
        mlflow.log_artifact(str(path), artifact_path=parent)
        artifact_uris[rel] = f"{artifact_uri}/{rel}"
    for extra in (dataset.data_yaml, dataset.root / "manifest.json"):
        if extra.is_file():
            mlflow.log_artifact(str(extra), artifact_path="dataset")
            artifact_uris[f"dataset/{extra.name}"] = f"{artifact_uri}/dataset/{extra.name}"
    return artifact_uris


# --------------------------------------------------------------------------- training
def _log_dataset(dataset: YoloDataset) -> None:
    """Log the dataset as the run's input: one row per split, digest = the manifest's hash.

    The UI's Dataset column then names the data (and its exact version) each run trained on.
    """
    import mlflow
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    from src.workarounds import local_dataset_source

    table = pd.DataFrame(
        [
            {"split": split, "images": c.get("images", 0), "boxes": c.get("boxes", 0)}
            for split, c in dataset.counts.items()
        ]
    )
    with warnings.catch_warnings():
        # Its schema hint about integer columns and missing values: counts are never missing.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        logged = from_pandas(
            table,
            source=local_dataset_source(dataset.data_yaml),
            name=dataset.root.name,
            digest=dataset.fingerprint[:32],  # MLflow keeps at most 36 characters of a digest
        )
        mlflow.log_input(logged, context="training")


def train_yolo(
    params: CvTrainParams,
    data_yaml: Path,
    *,
    run_dir: Path,
    tracking: CvTrackingParams,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
    progress: bool = True,
    publish: bool = True,
) -> YoloTrainingResult:
    """Return the result of training ``params`` on ``data_yaml``, tracked as one MLflow run.

    The ultralytics folder is built in a hidden sibling of ``run_dir``
    (``.<name>.building-<pid>-…``) and, with ``publish``, swapped onto ``run_dir`` as the
    run's last step, once everything is logged; any failure before leaves ``run_dir`` as it
    was. ``publish=False`` leaves the swap to the caller (``train_cv`` publishes the folder
    with ``best.pt`` and ``summary.json`` as one unit): the result then points into the
    staging folder, which the caller must publish or remove.
    Raises DataError, ConfigError or TrackingError (one line each) before any work starts.
    """
    dataset = check_yolo_dataset(data_yaml)
    model_ref = resolve_model(params.model)
    device = check_device(params.device)
    check_tracking_available()
    run_dir = Path(run_dir).resolve()
    _check_replaceable(run_dir)
    remove_dead_staging(run_dir.parent)  # what a killed training left
    run_name = run_name or run_name_for(params)

    with quiet_start_up() as training_starts:
        configure_ultralytics()
        import mlflow
        from ultralytics import YOLO

        all_tags = standard_tags(
            **{
                "dataset_fingerprint": dataset.fingerprint,
                "dataset": display_path(dataset.root),
                **model_ref.tags(),
                "config_name": run_name_for(params),
                **(tags or {}),
            }
        )
        with tracked_run(tracking.experiment_name, run_name=run_name, tags=all_tags) as run:
            log_flat_params(
                {
                    **params.model_dump(),
                    "model_resolved": model_ref.source,
                    "device_resolved": device,
                    "data": display_path(dataset.data_yaml),
                    "dataset": {
                        f"{split}_{what}": n
                        for split, c in dataset.counts.items()
                        for what, n in c.items()
                    },
                }
            )
            _log_dataset(dataset)
            staging = new_staging_dir(run_dir, marker=RUN_MARKER)
            try:
                if progress:
                    print(f"device {device}, model {model_ref.description}", flush=True)
                model = YOLO(model_ref.source)
                if progress:
                    model.add_callback("on_fit_epoch_end", _progress_callback(params.epochs))
                training_starts()
                started = time.perf_counter()
                final = model.train(
                    data=str(dataset.data_yaml),
                    epochs=params.epochs,
                    imgsz=params.imgsz,
                    batch=params.batch,
                    lr0=params.lr0,
                    optimizer=params.optimizer,
                    nbs=params.nbs or params.batch,
                    seed=params.seed,
                    patience=params.patience,
                    device=device,
                    workers=params.workers,
                    deterministic=True,
                    **offline_train_args(),
                    project=str(staging.parent),
                    name=staging.name,
                    exist_ok=True,
                    plots=params.plots,
                    verbose=False,
                )
                seconds = time.perf_counter() - started
                history = read_results_csv(staging / "results.csv")
                if not (staging / "weights" / "best.pt").is_file():
                    raise DataError(
                        f"{display_path(run_dir)}: training ended without weights/best.pt"
                    )
                results = dict(getattr(final, "results_dict", {}) or {})

                metrics = {
                    name: float(results.get(key, 0.0)) for key, name in FINAL_METRICS.items()
                }
                best = max(
                    history, key=lambda row: row.get("val_map50_95", 0.0), default={"epoch": 0}
                )
                metrics |= {
                    "best_epoch": float(best["epoch"]),
                    "epochs_completed": float(len(history)),
                    "train_seconds": round(seconds, 3),
                }
                _log_history(run.info.run_id, history)
                mlflow.log_metrics(metrics, step=len(history))
                artifact_uris = _log_run_files(
                    staging, dataset, run.info.artifact_uri, plots=params.plots
                )
                # best.pt again, as the pyfunc model for registration and `mlflow models serve`.
                from src.cv.serving import log_detector_model

                served = log_detector_model(staging / "weights" / "best.pt", imgsz=params.imgsz)
                artifact_uris["model"] = served.model_uri
                run_id, experiment_id = run.info.run_id, run.info.experiment_id
                if publish:
                    with signals_deferred():  # Ctrl-C / SIGTERM wait until the folder is in place
                        publish_staged([(staging, run_dir)])
            except BaseException:
                remove_path(staging)
                raise

    folder = run_dir if publish else staging
    return YoloTrainingResult(
        run_name=run_name,
        run_dir=folder,
        weights=folder / "weights" / "best.pt",
        metrics=metrics,
        history=history,
        mlflow_run_id=run_id,
        mlflow_experiment_id=experiment_id,
        artifact_uris=artifact_uris,
        train_seconds=round(seconds, 3),
        params=params.model_dump(),
        dataset_fingerprint=dataset.fingerprint,
        model_source=model_ref.description,
        tags={k: str(v) for k, v in all_tags.items()},
    )


__all__ = [
    "FINAL_METRICS",
    "PLOT_ARTIFACTS",
    "YoloTrainingResult",
    "read_results_csv",
    "run_name_for",
    "train_yolo",
]
