"""The training core's pure parts: results.csv read with the project's names."""

from __future__ import annotations

from pathlib import Path

from src.cv.training import read_results_csv


def test_results_csv_is_read_with_project_names(tmp_path: Path) -> None:
    csv = tmp_path / "results.csv"
    csv.write_text(
        "epoch,time,train/box_loss,metrics/precision(B),metrics/mAP50(B),"
        "metrics/mAP50-95(B),val/cls_loss,lr/pg0\n"
        "1,2.5,3.1,0.1,0.2,0.05,4.0,0.001\n"
        "2,5.0,2.9,nan,0.3,0.07,3.9,0.002\n"
    )
    rows = read_results_csv(csv)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0]["train_box_loss"] == 3.1
    assert rows[1]["val_map50_95"] == 0.07
    assert rows[1]["val_precision"] == 0.0  # non-finite values are kept numeric and comparable
    assert rows[0]["lr_pg0"] == 0.001
