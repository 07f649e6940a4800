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
    stack_mlflow_client_credentials()


def stack_mlflow_client_credentials() -> None:
    """Let MLflow clients of the server stack log in as its admin unless .env names a user.

    The stack's MLflow server runs MLflow's basic-auth app, and every MLflow client sends
    MLFLOW_TRACKING_USERNAME/PASSWORD. When both are unset, the tracking URI is the stack's
    MLflow server (STACK_HOST or loopback, MLFLOW_PORT) and .env holds the admin's
    password, the admin account (MLFLOW_AUTH_ADMIN_USERNAME/PASSWORD) fills them.
    """
    from urllib.parse import urlparse

    env = os.environ
    password = env.get("MLFLOW_AUTH_ADMIN_PASSWORD")
    if not password or env.get("MLFLOW_TRACKING_USERNAME") or env.get("MLFLOW_TRACKING_PASSWORD"):
        return
    uri = urlparse(env.get("MLFLOW_TRACKING_URI", ""))
    hosts = {env.get("STACK_HOST") or "127.0.0.1", "127.0.0.1", "localhost"}
    try:
        port = uri.port or (443 if uri.scheme == "https" else 80)
    except ValueError:
        return
    stack_port = env.get("MLFLOW_PORT") or "5000"
    if uri.scheme in ("http", "https") and uri.hostname in hosts and str(port) == stack_port:
        env["MLFLOW_TRACKING_USERNAME"] = env.get("MLFLOW_AUTH_ADMIN_USERNAME") or "admin"
        env["MLFLOW_TRACKING_PASSWORD"] = password
