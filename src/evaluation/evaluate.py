"""Stage ``evaluate``: overall and per-class metrics, confusion matrix and plot data.

Every number comes from scikit-learn's metrics; this module only arranges them
into files that DVC (metrics, plots) and MLflow (metrics, artifacts) both read.

    python -m src.evaluation.evaluate
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from src.config import EVAL_DIR, IRIS_CLASSES, IRIS_FEATURES, IRIS_TARGET, METADATA_FILE, TEST_CSV
from src.io_utils import atomic_path, atomic_write_json, atomic_write_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure

#: Files the evaluate stage writes under reports/evaluation/.
EVAL_METRICS = "metrics.json"
CONFUSION_JSON = "confusion_matrix.json"
CONFUSION_PNG = "confusion_matrix.png"
REPORT_TXT = "classification_report.txt"
PREDICTIONS_CSV = "predictions.csv"
PER_CLASS_CSV = "per_class_metrics.csv"


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


def write_confusion_png(report: EvaluationReport, path: Path) -> Path:
    """Render the confusion matrix to ``path`` (PNG, atomic); return the path."""
    figure = confusion_figure(report)
    # Fixed metadata keeps the PNG byte-identical run to run.
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})
    return path


def write_evaluation(report: EvaluationReport, out_dir: Path = EVAL_DIR) -> dict[str, Path]:
    """Write metrics, confusion matrix (JSON + PNG), report and plot CSVs; return their paths."""
    paths = {
        "metrics": atomic_write_json(
            out_dir / EVAL_METRICS, {**report.metrics, "per_class": report.per_class}
        ),
        "confusion_json": atomic_write_json(
            out_dir / CONFUSION_JSON, {"labels": list(report.labels), "matrix": report.confusion}
        ),
        "report": atomic_write_text(out_dir / REPORT_TXT, report.report_text),
        "predictions": atomic_write_text(
            out_dir / PREDICTIONS_CSV,
            "actual,predicted\n"
            + "".join(f"{t},{p}\n" for t, p in zip(report.y_true, report.y_pred, strict=True)),
        ),
        "per_class": atomic_write_text(
            out_dir / PER_CLASS_CSV,
            "label,value\n"
            + "".join(
                f"{label} {name},{values[name]:.6f}\n"
                for label, values in report.per_class.items()
                for name in ("precision", "recall", "f1")
            ),
        ),
    }
    paths["confusion_png"] = write_confusion_png(report, out_dir / CONFUSION_PNG)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--metadata",
        type=Path,
        default=METADATA_FILE,
        help="metadata.json of the model to evaluate (its sha256 is verified)",
    )
    parser.add_argument("--test-csv", type=Path, default=TEST_CSV)
    parser.add_argument("--out-dir", type=Path, default=EVAL_DIR)
    args = parser.parse_args(argv)

    from src.data.prepare import read_iris_csv
    from src.training.model_io import load_verified_model

    model = load_verified_model(args.metadata)
    test = read_iris_csv(args.test_csv)
    report = evaluate_model(model, test[list(IRIS_FEATURES)], test[IRIS_TARGET].tolist())
    write_evaluation(report, args.out_dir)
    print(
        f"evaluate: accuracy={report.metrics['accuracy']:.4f} "
        f"f1_macro={report.metrics['f1_macro']:.4f} -> {args.out_dir}"
    )
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
