"""Environment defaults for every entry point: offline, no telemetry, state in the repo.

Values already in the environment always win, then ``.env`` at the project root
(ignored by git; see ``.env.example``), then the defaults below. Choosing the
embedded default or the server stack is therefore configuration only.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Switches that keep every tool offline and quiet. Users may override any of them.
OFFLINE_DEFAULTS: dict[str, str] = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "DVC_NO_ANALYTICS": "1",
    "ZENML_ANALYTICS_OPT_IN": "false",
    "ZENML_AUTO_OPEN_DASHBOARD": "false",
    "ZENML_ENABLE_RICH_TRACEBACK": "false",
    "YOLO_OFFLINE": "1",
    "YOLO_VERBOSE": "false",
    "DO_NOT_TRACK": "1",
    # botocore >= 1.36 sends checksums some S3-compatible stores reject.
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}


def _state_defaults(root: Path) -> dict[str, str]:
    """Folders where the tools keep their state: inside the project, never in $HOME."""
    return {
        "YOLO_CONFIG_DIR": str(root / ".ultralytics"),
        "ZENML_CONFIG_PATH": str(root / ".zenml-state"),
        "MPLCONFIGDIR": str(root / ".cache" / "matplotlib"),
    }


def read_dotenv(path: Path) -> dict[str, str]:
    """Return KEY=VALUE pairs of a .env file (comments, blanks and ``export`` allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def apply_runtime_defaults(root: Path = PROJECT_ROOT) -> None:
    """Fill unset variables from ``.env``, then from the offline and state defaults."""
    dotenv_path = Path(os.environ.get("MLOPS_DOTENV", root / ".env"))
    # `./x` in .env means x beside the .env file, whatever the working directory.
    dotenv = {
        key: str(dotenv_path.parent / value[2:]) if value.startswith("./") else value
        for key, value in read_dotenv(dotenv_path).items()
    }
    for source in (dotenv, OFFLINE_DEFAULTS, _state_defaults(root)):
        for key, value in source.items():
            if value != "":
                os.environ.setdefault(key, value)
