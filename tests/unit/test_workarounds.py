"""The cheap proofs of src/workarounds.py (seconds in all), and start-up cost cuts.

Start-up cost cuts keep behaviour: checked on module lists, never on timings. The proofs
that import torch, ZenML or ultralytics are in tests/integration/workarounds/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HELP_PROBE = """
import json, runpy, sys
sys.argv = [sys.argv[1], "--help"]
try:
    runpy.run_module(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded_after_help(module: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_train_help_imports_no_data_science_stack() -> None:
    loaded = loaded_after_help("src.training.train")
    assert not loaded & {"pandas", "sklearn", "mlflow", "matplotlib", "skops", "torch"}


def test_pinned_requirements_skips_the_check_only_inside_the_block() -> None:
    import mlflow.pyfunc
    import mlflow.utils.environment

    from src.workarounds import pinned_requirements

    originals = (
        mlflow.utils.environment.warn_dependency_requirement_mismatches,
        mlflow.pyfunc.warn_dependency_requirement_mismatches,
    )
    with pinned_requirements():
        assert mlflow.utils.environment.warn_dependency_requirement_mismatches is not originals[0]
        assert mlflow.pyfunc.warn_dependency_requirement_mismatches(["x==1"]) is None
    assert (
        mlflow.utils.environment.warn_dependency_requirement_mismatches,
        mlflow.pyfunc.warn_dependency_requirement_mismatches,
    ) == originals
