"""Entries of src/workarounds.py whose proof needs torch or ZenML imported (seconds each).

Each shows the library still behaves the way the entry works around, and that the
entry still works; the cheaper proofs are in tests/unit/test_workarounds.py.
"""

from __future__ import annotations

from pathlib import Path

from tests.probes import run_probe

ROOT = Path(__file__).resolve().parents[3]

SKOPS_PROBE = (
    "import json, sys\n"
    "if sys.argv[1] == 'workaround':\n"
    "    from src.workarounds import import_skops_io\n"
    "    import_skops_io()\n"
    "else:\n"
    "    import skops.io\n"
    "from skops.io._trusted_types import SKLEARN_ESTIMATOR_TYPE_NAMES as names\n"
    "print(json.dumps({'torch': 'torch' in sys.modules, 'names': sorted(names)}))\n"
)


PIN_PROBE = """
import json, os, sys
import mlflow
from zenml.integrations.mlflow.experiment_trackers.mlflow_experiment_tracker import (
    MLFlowExperimentTracker,
)
from src.workarounds import pin_tracking_uri

uri = sys.argv[1]
mlflow.set_tracking_uri(uri)


class Tracker:
    def disable_autologging(self):
        pass


MLFlowExperimentTracker.cleanup_step_run(Tracker(), info=None, step_failed=False)
blanked = os.environ.get("MLFLOW_TRACKING_URI")
pin_tracking_uri(uri)
print(json.dumps({"blanked": blanked, "env": os.environ["MLFLOW_TRACKING_URI"],
                  "mlflow": mlflow.get_tracking_uri()}))
"""


def test_skops_import_drags_torch_in_without_it() -> None:
    """Still needed: a plain import loads torch; the workaround trusts exactly the same types."""
    plain, worked = (run_probe(SKOPS_PROBE, mode) for mode in ("plain", "workaround"))
    assert plain["torch"] is True and worked["torch"] is False
    assert worked["names"] == plain["names"]
    assert "sklearn.ensemble._forest.RandomForestClassifier" in worked["names"]
    assert "sklearn.linear_model._logistic.LogisticRegression" in worked["names"]


def test_zenml_tracker_blanks_the_uri_and_pinning_restores_it(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    data = run_probe(PIN_PROBE, uri, env={"ZENML_CONFIG_PATH": str(tmp_path / "zenml")})
    assert data["blanked"] == ""  # what ZenML's tracker leaves after every step
    assert data["env"] == uri and data["mlflow"] == uri


AMP_PROBE = """
import json
import torch
from ultralytics.utils import checks, downloads
from src.workarounds import offline_train_args

fetched = []


def refuse(file, *args, **kwargs):
    fetched.append(str(file).rsplit("/", 1)[-1])
    raise ConnectionError("refused by the probe")


downloads.attempt_download_asset = refuse  # where ultralytics' checkpoint loader finds it
torch.cuda.get_device_name = lambda *args, **kwargs: "NVIDIA H200"


class OnCuda:
    device = torch.device("cuda", 0)


class CudaModel:  # all check_amp reads of the model it is given
    stride = torch.tensor([32.0])

    def parameters(self):
        return iter([OnCuda()])


amp = checks.check_amp(CudaModel())
print(json.dumps({"amp": amp, "fetched": fetched, "args": offline_train_args()}))
"""


def test_amp_check_fetches_weights_on_cuda(tmp_path: Path) -> None:
    """Still needed: on a CUDA device ultralytics' AMP check goes for yolo26n.pt, offline too.

    The fetch is refused here, as it would fail offline; the training arguments turn AMP off,
    and with it the check (tests/integration/cv/test_finetune.py proves no check runs).
    """
    env = {"YOLO_CONFIG_DIR": str(tmp_path / "yolo"), "YOLO_OFFLINE": "1"}
    data = run_probe(AMP_PROBE, env=env)
    assert data["fetched"] == ["yolo26n.pt"]
    assert data["amp"] is True  # offline it shrugs and trains with AMP, unchecked
    assert data["args"] == {"amp": False}
