"""Write the grid's decision report from MLflow: ``python -m src.cv.report`` (make report).

Reads every run of one grid (tag ``grid_id``; the latest grid by default) from
``cv.tracking.experiment_name``, fills ``reports/templates/decision_template_zenml.md`` and
writes ``reports/decision_<grid_id>.md`` with its images in ``reports/decision_<grid_id>/``:
every run with params and metrics, the best by the rule of :mod:`src.cv.selection`, artifact
links, the registry decision (tags ``registry.*`` of the best run, and the aliases now),
a comparison chart and each run's ``results.png`` / ``confusion_matrix.png``.
The report is generated, never hand-written: rerun the command to refresh it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import string
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from src.cli import run_main
from src.config import CV_REPORT_TEMPLATE, REPORTS_DIR, CvTrackingParams, get_config
from src.cv.selection import TABLE_METRICS, select_best, selection_key
from src.cv.training import PLOT_ARTIFACTS
from src.errors import DataError
from src.io_utils import atomic_write_text
from src.tracking import CHALLENGER_ALIAS, CHAMPION_ALIAS, tracking_uri

TRAIN_PARAMS: tuple[str, ...] = ("epochs", "imgsz", "batch", "lr0", "seed", "model", "plots")
GRID_TAG = "grid_id"


def _client() -> Any:
    import mlflow

    return mlflow.MlflowClient(tracking_uri())


def _experiment_id(tracking: CvTrackingParams) -> str:
    experiment = _client().get_experiment_by_name(tracking.experiment_name)
    if experiment is None:
        raise DataError(
            f"MLflow experiment '{tracking.experiment_name}' not found at {tracking_uri()}; "
            "run `make zenml-grid` first"
        )
    return str(experiment.experiment_id)


def latest_grid_id(tracking: CvTrackingParams) -> str:
    """Return the ``grid_id`` of the most recently started grid run."""
    runs = _client().search_runs(
        [_experiment_id(tracking)],
        filter_string=f"tags.{GRID_TAG} LIKE 'grid-%'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        raise DataError(
            f"no grid runs in MLflow experiment '{tracking.experiment_name}' at {tracking_uri()}; "
            "run `make zenml-grid` first"
        )
    return str(runs[0].data.tags[GRID_TAG])


def summary_from_run(run: Any) -> dict[str, Any]:
    """Return a grid summary (as the pipeline's summary step makes) rebuilt from a run."""
    metrics = dict(run.data.metrics)
    tags = dict(run.data.tags)
    return {
        "run_name": run.info.run_name,
        "config_name": tags.get("config_name", run.info.run_name),
        "status": run.info.status,
        "params": {k: run.data.params.get(k) for k in TRAIN_PARAMS},
        "metrics": {k: v for k, v in metrics.items() if not k.startswith("test_")},
        "test_metrics": {k: v for k, v in metrics.items() if k.startswith("test_")},
        "train_seconds": float(metrics.get("train_seconds", 0.0)),
        "mlflow_run_id": run.info.run_id,
        "mlflow_experiment_id": run.info.experiment_id,
        "artifact_uri": run.info.artifact_uri,
        "tags": tags,
    }


def grid_summaries(
    grid_id: str, tracking: CvTrackingParams, tag: str = GRID_TAG
) -> list[dict[str, Any]]:
    """Return the summaries of every run tagged ``tag=grid_id`` (oldest first)."""
    runs = _client().search_runs(
        [_experiment_id(tracking)],
        filter_string=f"tags.{tag} = '{grid_id}'",
        order_by=["attributes.start_time ASC"],
    )
    if not runs:
        raise DataError(f"no MLflow runs tagged {tag}={grid_id} in '{tracking.experiment_name}'")
    return [summary_from_run(run) for run in runs]


# --------------------------------------------------------------------------- sections
def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ui_link(summary: dict[str, Any]) -> str:
    host = os.environ.get("MLFLOW_HOST", "127.0.0.1")
    port = os.environ.get("MLFLOW_PORT", "5000")
    return (
        f"http://{host}:{port}/#/experiments/{summary['mlflow_experiment_id']}/runs/"
        f"{summary['mlflow_run_id']}"
    )


def runs_table(summaries: list[dict[str, Any]], best: dict[str, Any] | None, metric: str) -> str:
    """Return the markdown table of every run: params, metrics, time and links."""
    heads = ["", "config", "epochs", "imgsz", "batch", "lr0"]
    heads += [h for h, _, _ in TABLE_METRICS] + ["train s", "status", "MLflow run"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    ranked = sorted(summaries, key=lambda s: (s["status"] != "FINISHED", selection_key(s, metric)))
    for summary in ranked:
        params = summary["params"]
        cells = ["**best**" if summary is best else "", f"`{summary['config_name']}`"]
        cells += [str(params.get(k) or "-") for k in ("epochs", "imgsz", "batch", "lr0")]
        cells += [_fmt(summary.get(group, {}).get(key)) for _, group, key in TABLE_METRICS]
        cells += [
            f"{summary['train_seconds']:.1f}",
            summary["status"],
            f"[{summary['mlflow_run_id'][:8]}]({_ui_link(summary)})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Metrics: `precision`, `recall`, `map50`, `map50_95` of `best.pt` on the val "
        f"split (the selection uses `{metric}`); `test_*` on the held-out test split."
    )
    return "\n".join(lines)


def _axis_effects(finished: list[dict[str, Any]], metric: str) -> list[str]:
    notes = []
    for axis in ("epochs", "imgsz", "lr0", "batch"):
        groups: dict[str, list[float]] = defaultdict(list)
        for summary in finished:
            groups[str(summary["params"].get(axis))].append(summary["metrics"].get(metric, 0.0))
        if len(groups) < 2:
            continue
        means = {k: sum(v) / len(v) for k, v in groups.items()}
        order = sorted(means, key=lambda k: float(k) if _is_number(k) else 0.0)
        listed = ", ".join(f"{axis}={k}: {means[k]:.3f}" for k in order)
        top = max(means, key=lambda k: means[k])
        verdict = f"best {axis}={top}" if len(set(means.values())) > 1 else "no difference"
        notes.append(f"- **{axis}**: mean `{metric}` {listed} ({verdict}).")
    return notes


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def analysis(summaries: list[dict[str, Any]], best: dict[str, Any] | None, metric: str) -> str:
    """Return generated observations: spread, effect of each grid axis, warnings."""
    finished = [s for s in summaries if s["status"] == "FINISHED"]
    if not finished or best is None:
        return "No finished run: nothing to analyse."
    values = sorted(s["metrics"].get(metric, 0.0) for s in finished)
    lines = [
        f"- {len(finished)} finished run(s) of {len(summaries)}; `{metric}` ranges from "
        f"{values[0]:.3f} to {values[-1]:.3f}.",
        f"- Best: `{best['config_name']}` with `{metric}` = "
        f"{best['metrics'].get(metric, 0.0):.3f} (mAP50 {_fmt(best['metrics'].get('map50'))}, "
        f"test mAP50-95 {_fmt(best['test_metrics'].get('test_map50_95'))}) in "
        f"{best['train_seconds']:.0f} s of training.",
    ]
    lines += _axis_effects(finished, metric)
    dead = [s["config_name"] for s in finished if s["metrics"].get("map50", 0.0) < 0.01]
    if dead:
        lines.append(
            f"- mAP50 is below 0.01 for {', '.join(f'`{d}`' for d in dead)}: a from-scratch "
            "YOLOv8n needs a few dozen epochs before it finds any person here."
        )
    ties = [
        s
        for s in finished
        if s is not best and s["metrics"].get(metric, 0.0) == best["metrics"].get(metric, 0.0)
    ]
    if ties:
        lines.append(
            f"- {len(ties)} run(s) tie with the best on `{metric}`; the shorter "
            "training won, as the rule says."
        )
    gap = best["metrics"].get(metric, 0.0) - best["test_metrics"].get(f"test_{metric}", 0.0)
    if best["test_metrics"] and abs(gap) > 0.1:
        lines.append(
            f"- The best run's val and test `{metric}` differ by {gap:+.3f}: with "
            "16 val images the ranking is noisy; treat close runs as equal."
        )
    return "\n".join(lines)


def decision(best: dict[str, Any] | None, tracking: CvTrackingParams) -> str:
    """Return the registry decision: what the grid runner did, and the aliases now."""
    if best is None:
        return "No run finished, so nothing was registered."
    tags = best["tags"]
    lines = [
        f"- **Selected:** `{best['config_name']}` (MLflow run "
        f"[{best['mlflow_run_id']}]({_ui_link(best)})), weights "
        f"`{best['artifact_uri']}/weights/best.pt`."
    ]
    if "registry.version" in tags:
        lines.append(f"- **Registry:** {tags.get('registry.decision', '')}.")
        lines.append(
            f"- Version {tags['registry.version']} of `{tracking.registered_model_name}` "
            f"got alias `{CHALLENGER_ALIAS}`; it "
            + ("**became** " if tags.get("registry.promoted") == "true" else "did **not** become ")
            + f"`{CHAMPION_ALIAS}` (strict improvement required)."
        )
    else:
        lines.append("- **Registry:** the runner was run with `--no-register`; nothing changed.")
    lines.append(f"- **Aliases now:** {_aliases_now(tracking)}.")
    lines.append(
        f"- Load the champion: `mlflow artifacts download -u "
        f"models:/{tracking.registered_model_name}@{CHAMPION_ALIAS}` gives `best.pt`."
    )
    return "\n".join(lines)


def _aliases_now(tracking: CvTrackingParams) -> str:
    import mlflow

    client = _client()
    parts = []
    for alias in (CHAMPION_ALIAS, CHALLENGER_ALIAS):
        try:
            version = client.get_model_version_by_alias(tracking.registered_model_name, alias)
        except mlflow.exceptions.MlflowException:
            parts.append(f"`{alias}` unset")
            continue
        value = version.tags.get(f"metric.{tracking.selection_metric}")
        shown = f" ({tracking.selection_metric}={float(value):.3f})" if value else ""
        parts.append(f"`{alias}` = v{version.version}{shown}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- images
def _download_plots(summaries: list[dict[str, Any]], assets: Path) -> dict[str, dict[str, str]]:
    """Copy each run's plots under ``assets``; return {run id: {plot: path relative to report}}."""
    import mlflow

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    found: dict[str, dict[str, str]] = {}
    for summary in summaries:
        target = assets / summary["config_name"]
        for name in PLOT_ARTIFACTS:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=summary["mlflow_run_id"],
                    artifact_path=name,
                    tracking_uri=tracking_uri(),
                    dst_path=str(assets / ".download"),
                )
            except Exception:  # plots off, or a run that failed before they were logged
                continue
            target.mkdir(parents=True, exist_ok=True)
            shutil.move(local, target / name)
            found.setdefault(summary["mlflow_run_id"], {})[name] = (
                f"{assets.name}/{summary['config_name']}/{name}"
            )
    shutil.rmtree(assets / ".download", ignore_errors=True)
    return found


def _comparison_chart(summaries: list[dict[str, Any]], path: Path, metric: str) -> bool:
    finished = [s for s in summaries if s["status"] == "FINISHED"]
    if not finished:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted(finished, key=lambda s: selection_key(s, metric))
    names = [s["config_name"] for s in ranked]
    series = [
        ("val mAP50", "metrics", "map50"),
        ("val mAP50-95", "metrics", "map50_95"),
        ("test mAP50-95", "test_metrics", "test_map50_95"),
    ]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(names)), 3.6))
    width = 0.8 / len(series)
    for index, (label, group, key) in enumerate(series):
        xs = [i + (index - 1) * width for i in range(len(names))]
        ax.bar(xs, [s[group].get(key, 0.0) for s in ranked], width, label=label)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("score")
    ax.set_ylim(0, 1)
    ax.set_title(f"Runs, best first (rule: {metric})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _plots_section(
    summaries: list[dict[str, Any]], images: dict[str, dict[str, str]], best: dict[str, Any] | None
) -> str:
    blocks = []
    ordered = ([best] if best else []) + [s for s in summaries if s is not best]
    for summary in ordered:
        files = images.get(summary["mlflow_run_id"], {})
        title = f"`{summary['config_name']}`" + (" (best)" if summary is best else "")
        links = " · ".join(
            f"[{name}]({summary['artifact_uri']}/{name})"
            for name in ("results.csv", "args.yaml", "weights/best.pt")
        )
        plots_off = str(summary["params"].get("plots")).lower() == "false"  # "False" in MLflow
        body = "\n\n".join(
            f"![{name} of {summary['config_name']}]({rel})" for name, rel in files.items()
        ) or ("_no plots: `cv.train.plots` was false_" if plots_off else "_no plots logged_")
        blocks.append(f"#### {title}\n\nArtifacts: {links}\n\n{body}")
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------- report
def write_decision_report(
    grid_id: str | None,
    *,
    tracking: CvTrackingParams,
    out_dir: Path = REPORTS_DIR,
    template: Path = CV_REPORT_TEMPLATE,
) -> Path:
    """Return the path of the report written for ``grid_id`` (the latest grid when None)."""
    grid_id = grid_id or latest_grid_id(tracking)
    return _write_report(
        grid_id,
        grid_summaries(grid_id, tracking),
        tracking=tracking,
        out_dir=out_dir,
        template=template,
        header={
            "source": f"`{GRID_TAG}={grid_id}`",
            "rerun": "change the grid in `params.yaml`, run `make zenml-grid`",
            "search": "",
        },
    )


def write_study_report(
    study_name: str,
    *,
    tracking: CvTrackingParams,
    search: str,
    out_dir: Path = REPORTS_DIR,
    template: Path = CV_REPORT_TEMPLATE,
) -> Path:
    """Return the path of the report of an Optuna study's runs (``make zenml-tune``).

    The same report as a grid's, over the runs tagged ``optuna_study``, with ``search``
    (the study's section: space, sampler, pruner, trials) after the runs table. A pruned
    trial's run shows as ``PRUNED`` and is never the best, as in the study itself.
    """
    from src.cv.tuning import STATE_TAG, STUDY_TAG

    summaries = grid_summaries(study_name, tracking, tag=STUDY_TAG)
    for summary in summaries:
        if summary["tags"].get(STATE_TAG) == "PRUNED":
            summary["status"] = "PRUNED"
    return _write_report(
        study_name,
        summaries,
        tracking=tracking,
        out_dir=out_dir,
        template=template,
        header={
            "source": f"`{STUDY_TAG}={study_name}`",
            "rerun": "change `cv.grid` or `cv.tune` in `params.yaml`, run `make zenml-tune`",
            "search": search,
        },
    )


def _write_report(
    grid_id: str,
    summaries: list[dict[str, Any]],
    *,
    tracking: CvTrackingParams,
    out_dir: Path,
    template: Path,
    header: dict[str, str],
) -> Path:
    """Return the path of the report of ``summaries``, written as ``decision_<grid_id>.md``."""
    metric = tracking.selection_metric
    finished = [s for s in summaries if s["status"] == "FINISHED"]
    best = select_best(finished, metric) if finished else None
    try:
        text = template.read_text()
    except OSError as exc:
        raise DataError(f"{template}: cannot read the report template ({exc.strerror})") from None

    report = out_dir / f"decision_{grid_id}.md"
    assets = out_dir / f"decision_{grid_id}"
    shutil.rmtree(assets, ignore_errors=True)
    images = _download_plots(summaries, assets)
    chart = assets / "comparison.png"
    has_chart = _comparison_chart(summaries, chart, metric)

    first = summaries[0]
    values = {
        **header,
        "grid_id": grid_id,
        "generated_at": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "dataset": (
            f"`{first['tags'].get('dataset', '?')}`, manifest sha256 "
            f"`{first['tags'].get('dataset_fingerprint', '?')[:12]}`"
        ),
        "model": first["tags"].get(
            "model_description", first["params"].get("model_resolved") or "?"
        ),
        "experiment": tracking.experiment_name,
        "tracking_uri": tracking_uri(),
        "selection_rule": (
            f"highest `{metric}` on the val split, ties broken by the shorter "
            f"training; the winner is registered as "
            f"`{tracking.registered_model_name}` with alias `{CHALLENGER_ALIAS}` "
            f"and becomes `{CHAMPION_ALIAS}` only if strictly better than the "
            "current champion."
        ),
        "runs_table": runs_table(summaries, best, metric),
        "comparison_plot": f"![comparison]({assets.name}/{chart.name})" if has_chart else "",
        "plots": _plots_section(summaries, images, best),
        "analysis": analysis(summaries, best, metric),
        "decision": decision(best, tracking),
        "pipeline_runs": "ZenML pipeline runs: "
        + ", ".join(f"`{s['tags'].get('zenml_pipeline_run', s['run_name'])}`" for s in summaries)
        + ".",
    }
    try:
        filled = string.Template(text).substitute(values)
    except (KeyError, ValueError) as exc:
        raise DataError(f"{template}: unknown or malformed placeholder ({exc})") from None
    atomic_write_text(report, filled)
    return report


def main(argv: list[str] | None = None) -> int:
    """Write the report of one grid; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m src.cv.report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--grid-id", default=None, help="grid to report (default: the latest)")
    parser.add_argument("--params", default=None, help="params file (default: params.yaml)")
    parser.add_argument("--out-dir", type=Path, default=REPORTS_DIR, help="where to write it")
    args = parser.parse_args(argv)
    tracking = get_config(args.params).cv.tracking
    path = write_decision_report(args.grid_id, tracking=tracking, out_dir=args.out_dir)
    print(f"decision report: {path}")
    return 0


if __name__ == "__main__":
    run_main(main)
