"""Run the YOLO pipeline once with ``cv.train`` (the baseline).

    python -m src.zenml_pipelines.run_yolo_pipeline_baseline

Works on a fresh clone: the local ZenML stack (MLflow tracker on the project's store) is
registered if the active stack has no MLflow tracker, and the dataset is built by the
pipeline's data step if it is missing.
"""

from __future__ import annotations

import argparse
import json

from src.cli import run_main
from src.collector import quiet_start_up
from src.config import get_config
from src.io_utils import atomic_write_json
from src.zenml_pipelines.launch import (
    preflight,
    prepare_stack,
    run_yolo_pipeline,
    runner_parser,
    timestamp,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    return runner_parser(
        "src.zenml_pipelines.run_yolo_pipeline_baseline",
        __doc__,
        summary_help="also write the run's outcome as JSON here",
    )


@quiet_start_up()  # ZenML's start-up paused into the first training (tools/bench/NOTES.md, B4)
def main(argv: list[str] | None = None) -> int:
    """Run the baseline pipeline; return the exit code."""
    args = build_parser().parse_args(argv)
    cv = get_config(args.params).cv

    from src.cv.training import run_name_for

    preflight([cv.train])
    stack = prepare_stack(cv)
    config_name = run_name_for(cv.train)
    run_name = f"{config_name}_baseline_{timestamp()}"
    print(f"baseline: {run_name}", flush=True)
    outcome = run_yolo_pipeline(
        cv,
        cv.train,
        stack=stack,
        run_name=run_name,
        config_name=config_name,
        runs_dir=args.runs_dir.resolve(),
        tags={"pipeline": "baseline"},
    )
    s = outcome.summary
    print(
        f"ZenML run {outcome.zenml_run_name} {outcome.status} in {outcome.seconds:.1f} s "
        f"(training {s['train_seconds']:.1f} s; data step "
        f"{'cached' if outcome.data_step_cached else 'ran'})"
    )
    print(json.dumps({k: round(v, 4) for k, v in {**s["metrics"], **s["test_metrics"]}.items()}))
    print(f"MLflow run {s['mlflow_run_id']} in experiment '{cv.tracking.experiment_name}'")
    if args.summary_out:
        atomic_write_json(args.summary_out, outcome.to_dict())
    return 0


if __name__ == "__main__":
    run_main(main)
