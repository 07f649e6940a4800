"""Run the YOLO pipeline over ``cv.grid``: ``python -m src.zenml_pipelines.run_yolo_pipeline_grid``.

1. Expands ``cv.grid`` (epochs × imgsz × lr0 [× batch]) over ``cv.train``; every grid point
   is validated by the same schema before anything runs.
2. Runs the pipeline once per configuration, named ``yolo_e40_img160_lr0.01_grid-<time>``,
   with a progress line each (on a terminal also a bar of the grid with its ETA, on
   stderr), then prints a results table (best first).
3. Registers the best run (rule in :mod:`src.cv.selection`) as ``challenger``, promoted to
   ``champion`` only if strictly better than the current champion.
4. Writes ``reports/decision_<grid id>.md`` (same as ``make report``).

Needs no prior set-up: the local ZenML stack and the dataset are created when missing.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from src.cli import run_main
from src.collector import quiet_start_up
from src.config import get_config
from src.io_utils import atomic_write_json
from src.progress import StepProgress
from src.zenml_pipelines.launch import (
    add_decision_flags,
    preflight,
    prepare_stack,
    run_yolo_pipeline,
    runner_parser,
    timestamp,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = runner_parser(
        "src.zenml_pipelines.run_yolo_pipeline_grid",
        __doc__,
        summary_help="also write every run's outcome and the decision as JSON here",
    )
    add_decision_flags(parser, dry_run_help="validate and list the grid, run nothing")
    return parser


@quiet_start_up()  # ZenML's start-up paused into the first training (tools/bench/NOTES.md, B4)
def main(argv: list[str] | None = None) -> int:
    """Run the grid, pick and register the best run, write the report; return the exit code."""
    args = build_parser().parse_args(argv)
    cv = get_config(args.params).cv
    configs = cv.grid.configurations(cv.train, source=f"{args.params or 'params.yaml'}: cv.grid")
    axes = tuple(key for key, value in cv.grid.model_dump().items() if value is not None)

    from src.cv.training import run_name_for

    names = [run_name_for(params, axes) for params in configs]
    preflight(configs)
    total_epochs = sum(p.epochs for p in configs)
    print(f"grid: {len(configs)} configurations, {total_epochs} epochs in all: {', '.join(names)}")
    if args.dry_run:
        return 0

    from src.cv.selection import format_table, register_best, select_best

    stack = prepare_stack(cv)
    grid_id = f"grid-{timestamp()}"
    metric = cv.tracking.selection_metric
    outcomes = []
    started = time.perf_counter()
    done_epochs = 0
    bar = StepProgress(len(configs), "grid", unit="config")
    bar.show()
    for index, (name, params) in enumerate(zip(names, configs, strict=True), start=1):
        print(
            f"[{index}/{len(configs)}] {name}: {params.epochs} epochs at {params.imgsz} px, "
            f"lr0 {params.lr0:g}, batch {params.batch} ...",
            flush=True,
        )
        outcome = run_yolo_pipeline(
            cv,
            params,
            stack=stack,
            run_name=f"{name}_{grid_id}",
            config_name=name,
            runs_dir=args.runs_dir.resolve(),
            tags={"grid_id": grid_id, "pipeline": "grid"},
        )
        outcomes.append(outcome)
        done_epochs += params.epochs
        elapsed = time.perf_counter() - started
        left = elapsed / done_epochs * (total_epochs - done_epochs)
        s = outcome.summary
        print(
            f"[{index}/{len(configs)}] {name}: {metric} {s['metrics'][metric]:.3f}, mAP50 "
            f"{s['metrics']['map50']:.3f} in {outcome.seconds:.0f} s (data step "
            f"{'cached' if outcome.data_step_cached else 'ran'}); grid {elapsed:.0f} s, "
            f"~{left:.0f} s left",
            flush=True,
        )
        bar.advance()

    summaries = [o.summary for o in outcomes]
    print(f"\nresults of {grid_id} (best first, rule: highest {metric}, ties: shorter training)")
    print(format_table(summaries, metric))
    best = select_best(summaries, metric)
    print(
        f"best: {best['config_name']} ({metric} {best['metrics'][metric]:.3f}, MLflow run "
        f"{best['mlflow_run_id']})"
    )
    result: dict[str, Any] = {
        "grid_id": grid_id,
        "best": best["config_name"],
        "runs": [o.to_dict() for o in outcomes],
        "seconds": round(time.perf_counter() - started, 1),
    }
    if not args.no_register:
        decision = register_best(best, cv.tracking)
        print(f"registry: {decision.summary}")
        result["decision"] = {
            "version": decision.version,
            "promoted": decision.promoted,
            "summary": decision.summary,
        }
    if not args.no_report:
        from src.cv.report import write_decision_report

        report = write_decision_report(grid_id, tracking=cv.tracking, out_dir=args.report_dir)
        print(f"decision report: {report}")
        result["report"] = str(report)
    print(f"grid wall time: {result['seconds']:.0f} s")
    if args.summary_out:
        atomic_write_json(args.summary_out, result)
    return 0


if __name__ == "__main__":
    run_main(main)
