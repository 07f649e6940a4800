"""Measure the README's YOLO figures and write them down with the machine they ran on.

    python tools/yolo_figures.py [--only baseline,finetune,grid]

Training is deterministic on one machine, not across machines (CPU kernels differ by
processor), so a table of mAP values means nothing without the machine that made it.
Every training here runs in a scratch MLflow store, ZenML state and runs folder; the
tables, with the CPU, load, versions and commit, go into ``reports/yolo_figures.md`` and
between the ``<!-- yolo-figures:start -->`` / ``<!-- yolo-figures:end -->`` markers of
README.md.

* ``baseline``: ``python -m src.train_cv`` with ``cv.train`` (the baseline pipeline's run).
* ``finetune``: 10 epochs from scratch against 10 epochs from an 80-class checkpoint made
  here (25 epochs of ``yolov8n.yaml`` on an unfiltered synthetic COCO128, seed 1, so no
  image is shared with the person set).
* ``grid``: ``python -m src.zenml_pipelines.run_yolo_pipeline_grid`` over ``cv.grid``
  (about 10 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

START, END = "<!-- yolo-figures:start -->", "<!-- yolo-figures:end -->"
SECTIONS = ("baseline", "finetune", "grid")
METRICS = ("map50", "map50_95", "test_map50", "test_map50_95")


def machine() -> dict[str, Any]:
    """Return what the figures depend on: processor, cores, load, versions, commit, date."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": version("torch"),
        "ultralytics": version("ultralytics"),
        "commit": commit or "unknown",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _env(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "ZENML_CONFIG_PATH": str(work / "zenml"),
        "ZENML_REPOSITORY_PATH": str(work),
    }


def _run(command: list[str], work: Path) -> float:
    """Run ``command`` in the scratch world; return its wall time; raise on failure."""
    from src.errors import MlopsError

    began = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=_env(work), capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
        raise MlopsError(f"{' '.join(command[:3])} failed: {' '.join(last)}")
    return time.monotonic() - began


def _run_metrics(work: Path, run_name: str) -> dict[str, float]:
    import mlflow

    client = mlflow.MlflowClient(_env(work)["MLFLOW_TRACKING_URI"])
    experiments = [e.experiment_id for e in client.search_experiments()]
    [run] = client.search_runs(experiments, f"attributes.run_name = '{run_name}'")
    return dict(run.data.metrics)


def train(work: Path, run_name: str, label: str, *flags: str) -> dict[str, Any]:
    """Return the metrics and wall time of one ``python -m src.train_cv`` run."""
    command = [sys.executable, "-m", "src.train_cv", "--run-name", run_name,
               "--runs-dir", str(work / "runs"), *flags]  # fmt: skip
    seconds = _run(command, work)
    return {"name": label, "seconds": seconds, **_run_metrics(work, run_name)}


def pretrain_checkpoint(work: Path, *, epochs: int, imgsz: int) -> Path:
    """Return the best.pt of ``yolov8n.yaml`` trained on 80 synthetic COCO classes (seed 1)."""
    import yaml

    source = work / "coco128_seed1"
    _run([sys.executable, "tools/make_synthetic_coco128.py", "--out", str(source),
          "--seed", "1"], work)  # fmt: skip
    spec = importlib.util.find_spec("ultralytics")
    assert spec is not None and spec.origin is not None
    shipped = Path(spec.origin).parent / "cfg" / "datasets" / "coco128.yaml"
    names = yaml.safe_load(shipped.read_text())["names"]  # COCO's 80 class names
    data = work / "coco80.yaml"
    data.write_text(yaml.safe_dump({"path": str(source), "train": "images/train2017",
                                    "val": "images/train2017", "names": names}))  # fmt: skip
    weights = work / "coco80.pt"
    # Only its weights are used, so it draws no plots.
    train(work, "pretrain-coco80", "pretraining", "--data", str(data), "--epochs", str(epochs),
          "--imgsz", str(imgsz), "--plots", "false", "--no-test-eval",
          "--weights-out", str(weights))  # fmt: skip
    return weights


def grid(work: Path) -> list[dict[str, Any]]:
    """Return every configuration of ``cv.grid`` with its metrics and training time."""
    out = work / "grid.json"
    _run([sys.executable, "-m", "src.zenml_pipelines.run_yolo_pipeline_grid", "--runs-dir",
          str(work / "runs"), "--summary-out", str(out), "--no-register", "--report-dir",
          str(work / "reports")], work)  # fmt: skip
    rows = []
    for outcome in json.loads(out.read_text())["runs"]:
        summary = outcome["summary"]
        rows.append({"name": summary["config_name"], "seconds": summary["train_seconds"],
                     **summary["metrics"], **summary.get("test_metrics", {})})  # fmt: skip
    return sorted(rows, key=lambda row: -row.get("map50_95", 0.0))


def _table(rows: list[dict[str, Any]], first: str) -> list[str]:
    lines = [f"| {first} | val mAP50 | val mAP50-95 | test mAP50 | test mAP50-95 | time |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        cells = " | ".join(f"{row[m]:.3f}" if m in row else "–" for m in METRICS)
        lines.append(f"| {row['name']} | {cells} | {row['seconds']:.0f} s |")
    return lines


def render(host: dict[str, Any], results: dict[str, list[dict[str, Any]]]) -> str:
    """Return the markdown block: the machine first, then one table per section measured."""
    lines = [
        f"Measured by `make yolo-figures` on {host['date']}, commit {host['commit']}: "
        f"{host['cpu']}, {host['cores']} cores (load {host['load_1min']} at the start), "
        f"{host['platform']}, Python {host['python']}, torch {host['torch']}, ultralytics "
        f"{host['ultralytics']}. Deterministic on this machine (the same seed, data and "
        "params give the same losses and metrics, run after run); another processor gives "
        "other, equally repeatable, values. Time: the command's wall time (start-up and "
        "test-split evaluation included); in the grid, each configuration's training time.",
        "",
    ]
    titles = {
        "baseline": "**Baseline** (`cv.train`, as `make zenml-baseline` trains it)",
        "finetune": "**Fine-tuning** (10 epochs each, same data and params)",
        "grid": "**Default grid** (`cv.grid`, best first)",
    }
    for section, rows in results.items():
        lines += [titles[section], "", *_table(rows, "Run"), ""]
    return "\n".join(lines).rstrip() + "\n"


def check_markers(readme: Path) -> str:
    """Return the text of ``readme``; DataError if it lacks the markers (checked up front)."""
    from src.errors import DataError

    text = readme.read_text()
    if START not in text or END not in text:
        raise DataError(f"{readme}: no {START} ... {END} markers to write the figures between")
    return text


def write_into_readme(readme: Path, block: str) -> None:
    """Replace what stands between the markers of ``readme`` with ``block``."""
    from src.io_utils import atomic_write_text

    head, rest = check_markers(readme).split(START, 1)
    _, tail = rest.split(END, 1)
    atomic_write_text(readme, f"{head}{START}\n{block}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="baseline,finetune", help=f"of {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "yolo_figures.md")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--no-readme", action="store_true", help="write only --out")
    parser.add_argument("--pretrain-epochs", type=int, default=25)
    parser.add_argument("--train-args", default="", help="extra train_cv flags (tests)")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(unknown)}; use {', '.join(SECTIONS)}")
    extra = args.train_args.split()
    if not args.no_readme:
        check_markers(args.readme)  # before minutes of training, not after
    host = machine()
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="yolo-figures-") as scratch:
        work = Path(scratch)
        if "baseline" in wanted:
            results["baseline"] = [train(work, "baseline", "`python -m src.train_cv`", *extra)]
        if "finetune" in wanted:
            checkpoint = pretrain_checkpoint(work, epochs=args.pretrain_epochs, imgsz=160)
            results["finetune"] = [
                train(work, "scratch", "from `yolov8n.yaml` (scratch)", "--epochs", "10", *extra),
                train(
                    work,
                    "finetuned",
                    "from the 80-class checkpoint",
                    "--epochs",
                    "10",
                    "--model",
                    str(checkpoint),
                    *extra,
                ),
            ]
        if "grid" in wanted:
            results["grid"] = grid(work)
    block = render(host, results)
    from src.io_utils import atomic_write_text

    atomic_write_text(args.out, block)
    if not args.no_readme:
        write_into_readme(args.readme, block)
    print(block)
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
