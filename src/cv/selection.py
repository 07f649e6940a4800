"""The grid's decision: pick the best run, register it, and move the registry aliases.

The rule (documented in the README and printed in the decision report):

1. best = highest ``cv.tracking.selection_metric`` (final val metric of ``best.pt``;
   ``map50_95`` by default); ties go to the shorter training (``train_seconds``);
2. the pyfunc model its training logged (``model``, :mod:`src.cv.serving`: ``best.pt`` behind
   ``mlflow models serve``) becomes a new version of ``cv.tracking.registered_model_name``
   with alias ``challenger``;
3. it also takes alias ``champion`` only if its metric is strictly higher than the current
   champion's (:func:`src.tracking.promote_if_better` with ``allow_ties=False``) and at
   least ``cv.tracking.min_champion_metric`` (a grid whose best found nothing never
   becomes the model served by default);
4. registration, aliases and decision tags are one unit: a run that did not finish is
   never registered, and a failure midway leaves the registry as it was.

The decision is written back as tags on the best MLflow run (``registry.*``), so the
report can be regenerated later from MLflow alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from src.config import CvTrackingParams
from src.errors import DataError
from src.tracking import (
    PromotionDecision,
    logged_model_uri,
    register_and_promote,
    tracking_uri,
)

#: Columns of the results table: (header, key in summary["metrics"] or "test_metrics").
TABLE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("P", "metrics", "precision"),
    ("R", "metrics", "recall"),
    ("mAP50", "metrics", "map50"),
    ("mAP50-95", "metrics", "map50_95"),
    ("test mAP50", "test_metrics", "test_map50"),
    ("test mAP50-95", "test_metrics", "test_map50_95"),
)


def selection_key(summary: dict[str, Any], metric: str) -> tuple[float, float]:
    """Return the sort key of the rule: higher metric first, then shorter training."""
    return (-float(summary["metrics"].get(metric, 0.0)), float(summary["train_seconds"]))


def select_best(summaries: Sequence[dict[str, Any]], metric: str) -> dict[str, Any]:
    """Return the summary that wins by ``metric`` (ties: shorter ``train_seconds``)."""
    if not summaries:
        raise DataError("no finished runs to choose from")
    return min(summaries, key=lambda s: selection_key(s, metric))


def format_table(summaries: Sequence[dict[str, Any]], metric: str) -> str:
    """Return a fixed-width table of the runs, best first, the winner marked with '*'."""
    ranked = sorted(summaries, key=lambda s: selection_key(s, metric))
    name_width = max([len("config"), *(len(s["config_name"]) for s in ranked)])
    header = (
        f"  {'config':<{name_width}}  "
        + "  ".join(f"{h:>{max(len(h), 6)}}" for h, _, _ in TABLE_METRICS)
        + "   train s"
    )
    lines = [header, "  " + "-" * (len(header) - 2)]
    for index, summary in enumerate(ranked):
        cells = []
        for head, group, key in TABLE_METRICS:
            value = summary.get(group, {}).get(key)
            text = "-" if value is None else f"{value:.3f}"
            cells.append(f"{text:>{max(len(head), 6)}}")
        mark = "*" if index == 0 else " "
        lines.append(
            f"{mark} {summary['config_name']:<{name_width}}  "
            + "  ".join(cells)
            + f"  {summary['train_seconds']:8.1f}"
        )
    return "\n".join(lines)


def register_best(best: dict[str, Any], tracking: CvTrackingParams) -> PromotionDecision:
    """Return the registry decision after registering ``best`` as challenger (maybe champion).

    One unit (:func:`src.tracking.register_and_promote`): only a FINISHED run is registered,
    and a failure anywhere (registry, aliases, the decision tags) leaves no new version and
    the aliases where they were.
    """
    import mlflow

    from src.cv.serving import MODEL_NAME

    metric = tracking.selection_metric
    value = float(best["metrics"].get(metric, 0.0))
    run_id = best["mlflow_run_id"]

    def record(decision: PromotionDecision) -> None:
        client = mlflow.MlflowClient(tracking_uri())
        for key, tag in (
            ("registry.model", tracking.registered_model_name),
            ("registry.version", decision.version),
            ("registry.promoted", str(decision.promoted).lower()),
            ("registry.decision", decision.summary),
        ):
            client.set_tag(run_id, key, tag)

    return register_and_promote(
        logged_model_uri(run_id, MODEL_NAME),
        tracking.registered_model_name,
        run_id=run_id,
        metric=metric,
        value=value,
        allow_ties=False,
        set_challenger=True,
        floor=tracking.min_champion_metric,
        record=record,
    )
