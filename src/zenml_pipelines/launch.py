"""Run the YOLO pipeline once for one configuration; shared by the baseline and grid runners.

Inputs are validated before ZenML starts (model, device, tracking store), so a bad
configuration is one line instead of a failed pipeline run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from src.config import CV_RUNS_DIR, REPORTS_DIR, CvParams, CvTrainParams
from src.errors import MlopsError
from src.workarounds import pin_tracking_uri, skip_integrations
from src.zenml_setup.local_stack import StackInfo, ensure_mlflow_stack

DATA_STEP = "prepare_tiny_person_dataset"
SUMMARY_STEP = "summarize_yolo_experiment"


@dataclass(frozen=True)
class PipelineOutcome:
    """One finished pipeline run: its summary artifact and how the run went."""

    summary: dict[str, Any]
    zenml_run_name: str
    zenml_run_id: str
    status: str
    data_step_cached: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly copy."""
        return {
            "zenml_run_name": self.zenml_run_name,
            "zenml_run_id": self.zenml_run_id,
            "status": self.status,
            "data_step_cached": self.data_step_cached,
            "seconds": round(self.seconds, 2),
            "summary": self.summary,
        }


def runner_parser(module: str, doc: str, *, summary_help: str) -> argparse.ArgumentParser:
    """Return the options both pipeline runners share: params file, runs folder, JSON out."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n")[0])
    parser.add_argument("--params", default=None, help="params file (default: params.yaml)")
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=CV_RUNS_DIR,
        help="where each configuration's ultralytics folder is kept",
    )
    parser.add_argument("--summary-out", type=Path, default=None, help=summary_help)
    return parser


def add_decision_flags(parser: argparse.ArgumentParser, *, dry_run_help: str) -> None:
    """Add the options of a runner that ends in a decision: report folder, dry run, opt-outs."""
    parser.add_argument(
        "--report-dir", type=Path, default=REPORTS_DIR, help="where the decision report is written"
    )
    parser.add_argument("--dry-run", action="store_true", help=dry_run_help)
    parser.add_argument(
        "--no-register", action="store_true", help="leave the model registry unchanged"
    )
    parser.add_argument("--no-report", action="store_true", help="skip the decision report")


def timestamp() -> str:
    """Return a sortable local timestamp for run names (``20251123-183000``)."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def preflight(configs: Sequence[CvTrainParams]) -> None:
    """Raise ConfigError/TrackingError now for what would only fail inside a step later."""
    from src.cv.inputs import check_device, resolve_model
    from src.tracking import check_tracking_available

    for params in configs:
        resolve_model(params.model)
        check_device(params.device)
    check_tracking_available()


def prepare_stack(cv: CvParams) -> StackInfo:
    """Return the stack to run on (registered on first use), printing one line about it."""
    from src.tracking import use_experiment

    info = ensure_mlflow_stack()
    skip_integrations()
    # Created here rather than by the ZenML tracker, so an embedded store keeps YOLO
    # artifacts in mlartifacts/ like the Iris runs, not in ./mlruns of the working dir.
    use_experiment(cv.tracking.experiment_name)
    print(info.line, flush=True)
    return info


def _load_output(step_run: Any, name: str) -> Any:
    outputs = step_run.outputs[name]
    artifact = outputs[0] if isinstance(outputs, list) else outputs
    return artifact.load()


def step_failure(run_name: str) -> MlopsError:
    """Return the first failed step's error of ``run_name`` as the matching MlopsError type."""
    from zenml.client import Client
    from zenml.enums import ExecutionStatus
    from zenml.utils import source_utils

    run = Client().get_pipeline_run(run_name)
    for name, step_run in run.steps.items():
        info = step_run.exception_info
        if step_run.status != ExecutionStatus.FAILED or info is None:
            continue
        error_type: type[MlopsError] = MlopsError
        try:
            loaded = source_utils.load(info.source) if info.source else None
        except Exception:  # an exception class that cannot be imported here
            loaded = None
        if isinstance(loaded, type) and issubclass(loaded, MlopsError):
            error_type = loaded
            message = info.message or ""
        else:
            kind = (info.source or "error").rsplit(".", 1)[-1]
            message = f"{kind}: {info.message} (traceback above)"
        return error_type(f"pipeline run {run_name}, step {name}: {message}")
    return MlopsError(f"pipeline run {run_name} failed; see `zenml pipeline runs list`")


def run_yolo_pipeline(
    cv: CvParams,
    params: CvTrainParams,
    *,
    stack: StackInfo,
    run_name: str,
    config_name: str,
    runs_dir: Path,
    tags: dict[str, str],
) -> PipelineOutcome:
    """Return the outcome of one pipeline run of ``params`` (the stack must be prepared)."""
    from zenml.client import Client
    from zenml.enums import ExecutionStatus

    from src.cv.dataset.prepare import current_fingerprint
    from src.zenml_pipelines.yolo_training_pipeline import yolo_training_pipeline

    started = time.perf_counter()
    configured = yolo_training_pipeline.with_options(
        run_name=run_name,
        settings={"experiment_tracker": {"experiment_name": cv.tracking.experiment_name}},
    )
    try:
        response = configured(
            dataset=cv.dataset.model_dump(),
            synthetic=cv.synthetic.model_dump(),
            on_disk_fingerprint=current_fingerprint(cv.dataset),
            train=params.model_dump(),
            tracking=cv.tracking.model_dump(),
            run_name=run_name,
            runs_dir=str(runs_dir),
            tags={**tags, "config_name": config_name},
        )
    except RuntimeError:
        # The local orchestrator reports any step failure as a RuntimeError; the step's own
        # exception (a DataError naming file:line, say) is in the step run's record.
        raise step_failure(run_name) from None
    finally:
        pin_tracking_uri(stack.tracking_uri)
    if response is None:
        raise MlopsError(f"pipeline run {run_name}: ZenML returned no run")
    run = Client().get_pipeline_run(response.id)
    if run.status != ExecutionStatus.COMPLETED:
        raise MlopsError(
            f"pipeline run {run_name} ended {run.status.value}; see `zenml pipeline "
            f"runs list` and the step logs"
        )
    return PipelineOutcome(
        summary=_load_output(run.steps[SUMMARY_STEP], "summary"),
        zenml_run_name=run.name,
        zenml_run_id=str(run.id),
        status=run.status.value,
        data_step_cached=run.steps[DATA_STEP].status == ExecutionStatus.CACHED,
        seconds=time.perf_counter() - started,
    )
