"""Metrics of an Iris classifier: overall and per-class scores, confusion matrix and its figure.

Every number comes from scikit-learn's metrics; training logs them to MLflow and
the evaluate stage writes them for DVC, so both read the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from src.config import IRIS_CLASSES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure


@dataclass(frozen=True)
class EvaluationReport:
    """Metrics of a classifier on one labelled split."""

    labels: tuple[str, ...]
    metrics: dict[str, float]
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    report_text: str
    y_true: list[str] = field(repr=False)
    y_pred: list[str] = field(repr=False)

    def flat_metrics(self) -> dict[str, float]:
        """Return global metrics plus ``<metric>_<class>`` per-class ones (MLflow-friendly)."""
        flat = dict(self.metrics)
        for label, values in self.per_class.items():
            for name, value in values.items():
                flat[f"{name}_{label}"] = value
        return flat


def evaluate_predictions(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] = IRIS_CLASSES
) -> EvaluationReport:
    """Return accuracy, macro/weighted P/R/F1, per-class P/R/F1 and the confusion matrix."""
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    labels = list(labels)
    metrics: dict[str, float] = {"accuracy": float(accuracy_score(y_true, y_pred))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        metrics.update(
            {
                f"precision_{average}": float(p),
                f"recall_{average}": float(r),
                f"f1_{average}": float(f),
            }
        )
    p, r, f, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    per_class = {
        label: {
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": float(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return EvaluationReport(
        labels=tuple(labels),
        metrics=metrics,
        per_class=per_class,
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        report_text=classification_report(y_true, y_pred, labels=labels, digits=4, zero_division=0),
        y_true=list(y_true),
        y_pred=list(y_pred),
    )


def evaluate_model(model: Any, features: Any, y_true: Sequence[str]) -> EvaluationReport:
    """Return the evaluation of ``model`` on ``features`` against ``y_true``."""
    return evaluate_predictions(y_true, [str(p) for p in model.predict(features)])


def confusion_figure(report: EvaluationReport) -> Figure:
    """Return a matplotlib figure of the confusion matrix (counts in each cell)."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib.figure import Figure
    from sklearn.metrics import ConfusionMatrixDisplay

    figure = Figure(figsize=(4.5, 4), dpi=100)
    axes = figure.subplots()
    ConfusionMatrixDisplay(np.array(report.confusion), display_labels=list(report.labels)).plot(
        ax=axes, cmap="Blues", colorbar=False
    )
    axes.set_title("Iris confusion matrix (test split)")
    figure.tight_layout()
    return figure
