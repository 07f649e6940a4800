"""The evaluate stage's numbers match scikit-learn's and its files are what DVC plots."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, f1_score

from src.evaluation.evaluate import write_evaluation
from src.iris.metrics import evaluate_predictions


def test_evaluation_matches_scikit_learn_and_writes_plot_files(tmp_path: Path) -> None:
    y_true = ["setosa", "setosa", "versicolor", "virginica", "virginica", "versicolor"]
    y_pred = ["setosa", "versicolor", "versicolor", "virginica", "setosa", "versicolor"]
    report = evaluate_predictions(y_true, y_pred)
    assert report.metrics["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert report.metrics["f1_macro"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert report.per_class["versicolor"]["recall"] == 1.0
    assert report.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert report.flat_metrics()["precision_setosa"] == 0.5
    paths = write_evaluation(report, tmp_path)
    assert paths["confusion_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "predictions.csv").read_text().splitlines()[0] == "actual,predicted"
    first_png = paths["confusion_png"].read_bytes()
    write_evaluation(report, tmp_path)
    assert paths["confusion_png"].read_bytes() == first_png  # reproducible plot bytes


# --------------------------------------------------------------------------- bad input
