"""Train the YOLO-tiny person detector once: ``python -m src.train_cv [--epochs 2 --imgsz 64 ...]``.

Params come from ``params.yaml`` (``cv.train``); each flag overrides one field and is
validated by the same schema, so ``--imgsz 100`` fails exactly like it would in the file.
The training is one MLflow run in ``cv.tracking.experiment_name`` (params, per-epoch
curves, final and test metrics, plots, ``best.pt``). Outputs:

* ``runs/yolo/<run name>/``   the ultralytics folder
* ``models/yolo/best.pt``     the new weights
* ``models/yolo/summary.json``params, metrics, MLflow run id, artifact URIs, weights sha256

The three are one unit: built in hidden staging siblings (``.<name>.building-<pid>-…``),
checked, and swapped in together once the run is logged, under a lock on their folders
(two trainings of the same name take turns) with Ctrl-C and SIGTERM held meanwhile. Any
failure or signal before leaves the old ones as they were and the run FAILED or KILLED;
staging left by a killed process is removed by the next training and ``make doctor``.

ultralytics, torch and mlflow are imported only once the inputs are valid.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from src.cli import run_main
from src.config import (
    CV_MODELS_DIR,
    CV_RUNS_DIR,
    CvTrainParams,
    Params,
    flags_given,
    get_config,
    resolve_path,
    with_overrides,
)
from src.errors import ConfigError, OutputError
from src.io_utils import (
    atomic_path,
    atomic_write_json,
    check_dir_creatable,
    ensure_writable_dir,
    publish_staged,
    remove_dead_staging,
    remove_path,
    sha256_file,
    signals_deferred,
    staging_path,
)

if TYPE_CHECKING:
    from src.cv.training import YoloTrainingResult

#: Flags named after the schema's fields; values stay strings so the schema converts them.
TRAIN_FLAGS: tuple[str, ...] = tuple(CvTrainParams.model_fields)
_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (one flag per ``cv.train`` field, plus paths)."""
    parser = argparse.ArgumentParser(
        prog="python -m src.train_cv", description=__doc__.split("\n")[0]
    )
    for name in TRAIN_FLAGS:
        info = CvTrainParams.model_fields[name]
        parser.add_argument(
            f"--{name}",
            metavar=name.upper(),
            default=None,
            help=f"{info.description or name} (params.yaml cv.train.{name})",
        )
    parser.add_argument("--params", default=None, help="params file (default: params.yaml)")
    parser.add_argument("--data", default=None, help="YOLO data.yaml (default: cv.dataset.output)")
    parser.add_argument("--run-name", default=None, help="MLflow run and runs/yolo folder name")
    parser.add_argument(
        "--runs-dir", default=str(CV_RUNS_DIR), help="parent of the run folder (runs/yolo)"
    )
    parser.add_argument(
        "--weights-out",
        default=str(CV_MODELS_DIR / "best.pt"),
        help="where best.pt is copied (atomically)",
    )
    parser.add_argument(
        "--no-test-eval",
        action="store_true",
        help="skip the evaluation of best.pt on the held-out test split",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Train once with the validated params; return the exit code."""
    args = build_parser().parse_args(argv)
    config = get_config(args.params)
    overrides = flags_given(args, TRAIN_FLAGS)
    params = with_overrides(config.cv.train, "command line", **overrides)
    data_yaml = (
        Path(args.data) if args.data else resolve_path(config.cv.dataset.output) / "data.yaml"
    )

    from src.cv.training import run_name_for, train_yolo
    from src.tracking import tracked_run

    run_name = args.run_name or run_name_for(params)
    if not _RUN_NAME.match(run_name):
        raise ConfigError(f"--run-name {run_name!r}: use letters, digits, '.', '_' or '-'")
    weights_out = resolve_path(args.weights_out)
    summary_out = weights_out.parent / "summary.json"
    check_file_targets(weights_out, summary_out, create=False)
    remove_dead_staging(weights_out.parent)  # what a killed training left
    print(
        f"training {run_name} on {data_yaml} ({params.epochs} epochs, {params.imgsz} px, "
        f"{params.device})",
        flush=True,
    )
    run_dir = (resolve_path(args.runs_dir) / run_name).resolve()
    result = train_yolo(
        params,
        data_yaml,
        run_dir=run_dir,
        tracking=config.cv.tracking,
        run_name=run_name,
        publish=False,
    )
    staged: list[tuple[Path, Path]] = [(result.run_dir, run_dir)]
    try:
        # The run is reopened for the rest of the unit, so a failure or a signal from here
        # on still ends it FAILED or KILLED, with nothing swapped in.
        with tracked_run(config.cv.tracking.experiment_name, run_id=result.mlflow_run_id):
            test_metrics: dict[str, float] = {}
            if not args.no_test_eval:
                from src.cv.evaluation import evaluate_yolo_weights

                test_metrics = evaluate_yolo_weights(
                    result.weights,
                    data_yaml,
                    params=params,
                    out_dir=result.run_dir,
                    tracking=config.cv.tracking,
                    mlflow_run_id=result.mlflow_run_id,
                )
            staged += stage_model_files(
                result, run_dir, test_metrics, weights_out, summary_out, config
            )
            with signals_deferred():  # Ctrl-C / SIGTERM wait until all three are in place
                publish_staged(staged)
    finally:
        for staging, _ in staged:
            remove_path(staging)

    m = result.metrics
    print(
        f"done in {result.train_seconds:.1f} s: precision {m['precision']:.3f}  "
        f"recall {m['recall']:.3f}  mAP50 {m['map50']:.3f}  mAP50-95 {m['map50_95']:.3f}"
    )
    if test_metrics:
        print(
            f"test split: mAP50 {test_metrics['test_map50']:.3f}  "
            f"mAP50-95 {test_metrics['test_map50_95']:.3f}"
        )
    print(f"weights: {weights_out}   run folder: {run_dir}")
    print(f"MLflow run {result.mlflow_run_id} in experiment '{config.cv.tracking.experiment_name}'")
    return 0


def check_file_targets(*targets: Path, create: bool = True) -> None:
    """Raise OutputError if an output cannot be a plain file in a writable folder.

    Called before hours of training with ``create=False``: the folder is then only checked
    (its nearest existing ancestor must be writable), so a run refused later for a bad model
    or dataset leaves no empty output folder behind.
    """
    for target in targets:
        if target.is_dir() or target.is_symlink():
            raise OutputError(f"{target}: is a directory or a link, not a file; remove it")
    (ensure_writable_dir if create else check_dir_creatable)(targets[0].parent)


def stage_model_files(
    result: YoloTrainingResult,
    run_dir: Path,
    test_metrics: dict[str, float],
    weights_out: Path,
    summary_out: Path,
    config: Params,
) -> list[tuple[Path, Path]]:
    """Return ``(staged, target)`` for the weights copy and its summary, written and checked.

    The summary names the final paths and the weights' sha256, so the three outputs can be
    told apart from those of another training of the same name.
    """
    from src.cv.evaluation import summarize_training

    check_file_targets(weights_out, summary_out)
    weights_tmp, summary_tmp = staging_path(weights_out), staging_path(summary_out)
    staged = [(weights_tmp, weights_out), (summary_tmp, summary_out)]
    try:
        with atomic_path(weights_tmp) as tmp:
            shutil.copyfile(result.weights, tmp)
        summary = summarize_training(
            result.relocated(run_dir).to_dict(),
            test_metrics,
            selection_metric=config.cv.tracking.selection_metric,
        )
        summary["weights_sha256"] = sha256_file(result.weights)
        atomic_write_json(summary_tmp, summary)
        if sha256_file(weights_tmp) != summary["weights_sha256"]:
            raise OutputError(f"{weights_tmp}: the staged weights do not read back as written")
    except BaseException:
        for staging, _ in staged:
            remove_path(staging)
        raise
    return staged


if __name__ == "__main__":
    run_main(main)
