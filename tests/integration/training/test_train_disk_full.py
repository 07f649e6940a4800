"""A full artifact store (``mlartifacts/``) while the Iris model is logged: one line, nothing kept.

The training runs in a fresh process whose disk "fills up" half way through MLflow's copy
of ``model.skops`` into the store, exactly as ENOSPC would leave it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from mlflow import MlflowClient

from tests.iris_helpers import make_splits

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import errno, os, shutil, sys
from pathlib import Path

root, copy2 = Path(sys.argv[1]).resolve(), shutil.copy2

def full_disk(src, dst, *args, **kwargs):
    target = Path(dst)
    if target.name == "model.skops" and root in target.resolve().parents:
        data = Path(src).read_bytes()
        target.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return copy2(src, dst, *args, **kwargs)

shutil.copy2 = full_disk
from src.cli import run_main
from src.training.train import main
run_main(main, sys.argv[2:])
"""


def test_a_full_artifact_store_fails_in_one_line_and_keeps_the_model(
    tmp_path: Path, new_mlflow_db: Callable[[Path], str]
) -> None:
    processed = make_splits(tmp_path / "data")
    uri = new_mlflow_db(tmp_path / "store")
    artifacts, models = tmp_path / "store" / "mlartifacts", tmp_path / "models"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    args = ["--data-dir", str(processed), "--models-dir", str(models)]

    def train(*command: str, run_name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *command, *args, "--run-name", run_name],
                              cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip

    assert train("-m", "src.training.train", run_name="good").returncode == 0
    before = {p.name: p.read_bytes() for p in models.iterdir()}
    good_skops = {p: p.read_bytes() for p in artifacts.rglob("model.skops")}
    assert len(good_skops) == 1

    result = train("-c", PROBE, str(artifacts), run_name="full")
    assert result.returncode == 4, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "No space left on device" in last and "marked FAILED" in last
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("iris-classifier")
    [run] = client.search_runs([experiment.experiment_id], "attributes.run_name = 'full'")
    assert run.info.status == "FAILED"
    assert client.search_model_versions(f"run_id = '{run.info.run_id}'") == []
    assert {p: p.read_bytes() for p in artifacts.rglob("model.skops")} == good_skops
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before
