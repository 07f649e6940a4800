"""Run Python code in a fresh interpreter and read the JSON its last line prints.

Libraries that patch or cache process-wide state on import (ultralytics, ZenML, skops'
estimator scan) are probed this way, so no test sees another's imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_probe(
    code: str,
    *args: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> Any:
    """Return the JSON value the last stdout line of ``python -c code args`` holds."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
