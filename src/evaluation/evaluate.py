"""Stage ``evaluate``: overall and per-class metrics, confusion matrix and plot data.

The numbers come from :mod:`src.iris.metrics`, the same code training logs to
MLflow; this module only arranges them into files DVC reads (metrics, plots).

    python -m src.evaluation.evaluate
"""

from __future__ import annotations

import argparse
from pathlib import Path

from src.config import EVAL_DIR, IRIS_FEATURES, IRIS_TARGET, METADATA_FILE, TEST_CSV
from src.io_utils import atomic_path, atomic_write_json, atomic_write_text
from src.iris.metrics import EvaluationReport, confusion_figure, evaluate_model

#: Files the evaluate stage writes under reports/evaluation/.
EVAL_METRICS = "metrics.json"
CONFUSION_JSON = "confusion_matrix.json"
CONFUSION_PNG = "confusion_matrix.png"
REPORT_TXT = "classification_report.txt"
PREDICTIONS_CSV = "predictions.csv"
PER_CLASS_CSV = "per_class_metrics.csv"


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

    from src.iris.dataset import read_iris_csv
    from src.iris.model_io import load_verified_model

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
