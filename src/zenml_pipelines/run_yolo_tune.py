"""Search the ``cv.grid`` ranges with Optuna: ``python -m src.zenml_pipelines.run_yolo_tune``.

1. Opens the study ``cv.tune.study_name`` in ``runs/optuna/<study>.db`` (created, or
   loaded to resume: trials already finished or pruned count toward ``cv.tune.n_trials``).
2. Each trial picks a configuration in the grid's ranges (TPE sampler, seeded; the space is
   :func:`src.cv.tuning.search_space`), runs the same YOLO pipeline as the grid once
   (named ``t3_yolo_e37_img160_lr0.00312_<study>``), its MLflow run tagged
   ``optuna_study`` / ``optuna_trial``; the median pruner sees each epoch's val mAP50-95
   and stops a trial that falls below the others after ``cv.tune.warmup_epochs``.
3. Registers the best complete trial by the grid's rule (:mod:`src.cv.selection`):
   ``challenger``, promoted to ``champion`` only if strictly better.
4. Writes ``reports/decision_<study>.md`` (the grid's report, with the study's trials).

Needs no prior set-up: the local ZenML stack and the dataset are created when missing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from src.cli import run_main
from src.collector import quiet_start_up
from src.config import OPTUNA_DIR, CvTrainParams, get_config, with_overrides
from src.io_utils import atomic_write_json
from src.zenml_pipelines.launch import (
    add_decision_flags,
    preflight,
    prepare_stack,
    run_yolo_pipeline,
    runner_parser,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = runner_parser(
        "src.zenml_pipelines.run_yolo_tune",
        __doc__,
        summary_help="also write the study's trials and the decision as JSON here",
    )
    parser.add_argument("--study", default=None, help="study name (default: cv.tune.study_name)")
    parser.add_argument(
        "--n-trials", type=int, default=None, help="trials in all (default: cv.tune.n_trials)"
    )
    parser.add_argument(
        "--timeout-s", type=float, default=None, help="start no trial after this (cv.tune)"
    )
    parser.add_argument(
        "--study-dir", type=Path, default=OPTUNA_DIR, help="where the study's SQLite file is"
    )
    add_decision_flags(parser, dry_run_help="validate and show the search space, run nothing")
    return parser


@quiet_start_up()  # ZenML's start-up paused into the first training (tools/bench/NOTES.md, B4)
def main(argv: list[str] | None = None) -> int:
    """Run the study, register its best trial, write the report; return the exit code."""
    args = build_parser().parse_args(argv)
    source = args.params or "params.yaml"
    cv = get_config(args.params).cv
    overrides = {
        key: value
        for key, value in (
            ("study_name", args.study),
            ("n_trials", args.n_trials),
            ("timeout_s", args.timeout_s),
        )
        if value is not None
    }
    tune = with_overrides(cv.tune, f"{source}: cv.tune (command line)", "cv.tune", **overrides)

    from src.cv.tuning import (
        make_objective,
        open_study,
        search_space,
        settings_fingerprint,
        trials_left,
    )

    space = search_space(cv.grid)
    # Validate the space's corners now: a bad range is one line, not a failed trial later.
    corners = [
        with_overrides(cv.train, f"{source}: cv.grid", epochs=e, lr0=lr)
        for e in space.epochs
        for lr in space.lr0
    ]
    preflight(corners)
    print(
        f"study {tune.study_name}: {tune.n_trials} trials in all over {space.describe()} "
        f"(TPE seed {tune.seed}, median pruner after {tune.warmup_epochs} epochs)",
        flush=True,
    )
    if args.dry_run:
        return 0

    from src.cv.selection import register_best

    metric = cv.tracking.selection_metric
    stack = prepare_stack(cv)
    runs_dir = args.runs_dir.resolve()
    started = time.perf_counter()
    with open_study(
        tune, settings_fingerprint(cv, space), folder=args.study_dir, name=tune.study_name
    ) as opened:
        study = opened.study
        left = trials_left(study, tune.n_trials)
        if opened.resumed:
            print(
                f"resuming {opened.path.name}: {tune.n_trials - left} trial(s) done, {left} to go"
                + (
                    f"; interrupted trial(s) {opened.failed_stale} marked FAIL"
                    if opened.failed_stale
                    else ""
                ),
                flush=True,
            )
        zenml_runs: dict[int, str] = {}

        def run_trial(params: CvTrainParams, name: str, tags: dict[str, str]) -> dict[str, Any]:
            number = int(tags["optuna_trial"])
            print(
                f"[trial {number}] {name}: {params.epochs} epochs at {params.imgsz} px, "
                f"lr0 {params.lr0:.4g}, batch {params.batch} ...",
                flush=True,
            )
            outcome = run_yolo_pipeline(
                cv,
                params,
                stack=stack,
                run_name=f"{name}_{tune.study_name}",
                config_name=name,
                runs_dir=runs_dir,
                tags={**tags, "pipeline": "tune"},
            )
            zenml_runs[number] = outcome.zenml_run_name
            _tag_zenml_run(outcome.zenml_run_id, tags)
            return {**outcome.summary, "zenml_run_name": outcome.zenml_run_name}

        def on_trial_end(number: int, summary: dict[str, Any], state: Any) -> None:
            pruned = state.pruned_at_epoch
            _tag_trial_run(summary["mlflow_run_id"], "PRUNED" if pruned else "COMPLETE", pruned)
            print(
                f"[trial {number}] {metric} {summary['metrics'].get(metric, 0.0):.3f}"
                + (f", pruned after epoch {pruned}" if pruned else "")
                + f"; study {time.perf_counter() - started:.0f} s",
                flush=True,
            )

        if left:
            study.optimize(
                make_objective(
                    space,
                    cv.train,
                    run_trial,
                    study_name=tune.study_name,
                    metric=metric,
                    source=f"{source}: cv.tune",
                    on_trial_end=on_trial_end,
                ),
                n_trials=left,
                timeout=tune.timeout_s,
            )
        result = _decide(study, tune.study_name, metric)
        if result.get("best") and not args.no_register:
            best = result.pop("_best")
            registered = _registered_version(best["mlflow_run_id"])
            if registered is not None:  # a rerun that found no better trial
                print(f"registry: unchanged (trial {best['trial']} is version {registered})")
                result["decision"] = {"version": registered, "promoted": None, "summary": ""}
            else:
                decision = register_best(best, cv.tracking)
                print(f"registry: {decision.summary}")
                result["decision"] = {
                    "version": decision.version,
                    "promoted": decision.promoted,
                    "summary": decision.summary,
                }
        result.pop("_best", None)
        if not args.no_report and result.get("runs"):
            from src.cv.report import write_study_report
            from src.cv.tuning import trials_table

            report = write_study_report(
                tune.study_name,
                tracking=cv.tracking,
                out_dir=args.report_dir,
                search=_search_section(tune, space, trials_table(study, metric)),
            )
            print(f"decision report: {report}")
            result["report"] = str(report)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["zenml_runs"] = zenml_runs
    print(f"study wall time: {result['seconds']:.0f} s (this invocation)")
    if args.summary_out:
        atomic_write_json(args.summary_out, result)
    return 0


def _decide(study: Any, study_name: str, metric: str) -> dict[str, Any]:
    """Return the study's record: every trial, and the best complete one (``_best``)."""
    from src.cv.selection import format_table, select_best
    from src.cv.tuning import SUMMARY_ATTR, complete_summaries

    trials = [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
            "pruned_at_epoch": t.user_attrs.get("pruned_at_epoch"),
            "summary": t.user_attrs.get(SUMMARY_ATTR),
            "started": t.datetime_start.isoformat() if t.datetime_start else None,
            "completed": t.datetime_complete.isoformat() if t.datetime_complete else None,
        }
        for t in study.get_trials(deepcopy=False)
    ]
    result: dict[str, Any] = {"study": study_name, "trials": trials, "best": None, "runs": []}
    summaries = complete_summaries(study)
    result["runs"] = [t["summary"] for t in trials if t["summary"]]
    if not summaries:
        print("no complete trial: nothing to register")
        return result
    print(f"\ntrials of {study_name} (complete ones, best first, rule: highest {metric})")
    print(format_table(summaries, metric))
    best = select_best(summaries, metric)
    print(
        f"best: trial {best['trial']} {best['config_name']} ({metric} "
        f"{best['metrics'][metric]:.3f}, MLflow run {best['mlflow_run_id']})"
    )
    result["best"] = best["config_name"]
    result["best_trial"] = best["trial"]
    result["best_value"] = best["metrics"][metric]
    result["_best"] = best
    return result


def _search_section(tune: Any, space: Any, table: str) -> str:
    """Return the report's study section: sampler, pruner, space and every trial."""
    return (
        "### Study\n\n"
        f"- **Search space** (from `cv.grid`): {space.describe()}.\n"
        f"- **Sampler:** TPE, seed {tune.seed}, first {tune.startup_trials} trial(s) at "
        "random.\n"
        f"- **Pruner:** median of the other trials' val mAP50-95 at the same epoch, after "
        f"{tune.warmup_epochs} epochs and {tune.startup_trials} trial(s); a pruned trial's "
        "run finishes with the epochs it ran and never wins.\n"
        f"- **Storage:** `runs/optuna/{tune.study_name}.db` (rerun to resume).\n\n"
        f"{table}\n\n"
        "A value in parentheses is the final metric of a pruned trial's `best.pt`."
    )


def _tag_zenml_run(run_id: str, tags: dict[str, str]) -> None:
    """Tag the ZenML run with its study and trial (shown in the dashboard's run list)."""
    from zenml import add_tags

    add_tags(tags=[f"{key}:{value}" for key, value in tags.items()], run=run_id)


def _registered_version(run_id: str) -> str | None:
    """Return the registry version an earlier invocation made of this run, if any."""
    import mlflow

    from src.tracking import tracking_uri

    tags = mlflow.MlflowClient(tracking_uri()).get_run(run_id).data.tags
    return tags.get("registry.version")


def _tag_trial_run(run_id: str, state: str, pruned_at: int | None) -> None:
    """Record the trial's outcome on its MLflow run (the report reads it back)."""
    import mlflow

    from src.cv.tuning import PRUNED_AT_TAG, STATE_TAG
    from src.tracking import tracking_uri

    client = mlflow.MlflowClient(tracking_uri())
    client.set_tag(run_id, STATE_TAG, state)
    if pruned_at is not None:
        client.set_tag(run_id, PRUNED_AT_TAG, str(pruned_at))


if __name__ == "__main__":
    run_main(main)
