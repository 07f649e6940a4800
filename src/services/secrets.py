"""The stack's secrets: placeholders and short values are refused, ``make secrets`` makes real ones.

``.env.example`` ships ``change-me`` values so that copying it is a start, never a
deployment: every server command refuses them, and the doctor fails on them.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from src.errors import ConfigError

PLACEHOLDER = "change-me"
MIN_SECRET_LENGTH = 12
#: Variables that must never keep the example's value (the access key id is a user name).
CREDENTIAL_VARIABLES: tuple[str, ...] = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
#: Secrets, with the length ``make secrets`` gives them; each must have 12+ characters.
SECRET_LENGTHS: dict[str, int] = {
    "AWS_SECRET_ACCESS_KEY": 40,
    "ZENML_ADMIN_PASSWORD": 24,
    "MLFLOW_AUTH_ADMIN_PASSWORD": 24,
    # Signs the MLflow auth app's sessions and CSRF tokens (equal on every worker).
    "MLFLOW_FLASK_SERVER_SECRET_KEY": 64,
    # ZenML hashes it (SHA-256) into the AES-GCM key of its secrets store.
    "ZENML_SECRETS_STORE_ENCRYPTION_KEY": 64,
    "POSTGRES_PASSWORD": 32,
    "ZENML_SERVER_JWT_SECRET_KEY": 64,
}
#: What the compose stack needs on top of what every stack needs.
COMPOSE_ONLY: tuple[str, ...] = ("POSTGRES_PASSWORD", "ZENML_SERVER_JWT_SECRET_KEY")


def credential_problems(values: Mapping[str, str], names: tuple[str, ...]) -> list[str]:
    """Return what is wrong with ``names``: the unset ones, then each placeholder or short one."""
    unset = [name for name in names if not values.get(name)]
    problems = [f"{', '.join(unset)} unset"] if unset else []
    for name in names:
        value = values.get(name, "")
        if value and PLACEHOLDER in value.lower():
            problems.append(f"{name} is the example's placeholder")
        elif value and name in SECRET_LENGTHS and len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} has {len(value)} characters, needs {MIN_SECRET_LENGTH}+")
    return problems


def require_strong(values: Mapping[str, str], names: tuple[str, ...]) -> None:
    """Raise ConfigError naming every variable of ``names`` that is not a usable credential."""
    problems = credential_problems(values, names)
    if problems:
        raise ConfigError(
            f"{'; '.join(problems)}: run `make secrets` (fills .env with random values) or set "
            "them in .env (the same keys serve MinIO/moto and every client)"
        )


def _random_value(length: int) -> str:
    # URL-safe letters and digits only: the Postgres password goes into a database URL.
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def write_secrets(dotenv: Path, example: Path) -> list[str]:
    """Give every unset or placeholder secret of ``dotenv`` a random value; return their names.

    ``dotenv`` starts as a copy of ``example`` when absent. A value the user set is never
    replaced, even a short one (the commands then say it is too short). The file is
    written whole through a temporary file and is readable by its owner only.
    """
    text = dotenv.read_text() if dotenv.is_file() else example.read_text()
    written = []
    lines = text.splitlines()
    seen = set()
    for index, line in enumerate(lines):
        match = re.match(r"^(\s*(?:export\s+)?)([A-Z0-9_]+)=(.*)$", line)
        if not match or match.group(2) not in {*SECRET_LENGTHS, "AWS_ACCESS_KEY_ID"}:
            continue
        prefix, name, value = match.groups()
        seen.add(name)
        if value.strip().strip("'\"") and PLACEHOLDER not in value.lower():
            continue
        length = SECRET_LENGTHS.get(name, 20)
        lines[index] = f"{prefix}{name}={_random_value(length)}"
        written.append(name)
    for name in ("AWS_ACCESS_KEY_ID", *SECRET_LENGTHS):
        if name not in seen:
            lines.append(f"{name}={_random_value(SECRET_LENGTHS.get(name, 20))}")
            written.append(name)
    tmp = dotenv.with_name(f".{dotenv.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(tmp, dotenv)
    dotenv.chmod(0o600)
    return written


def restrict_to_owner(*paths: Path) -> list[Path]:
    """Make each existing file of ``paths`` readable by its owner only; return those changed."""
    changed = []
    for path in paths:
        try:
            mode = path.stat().st_mode & 0o777
            if path.is_file() and mode & 0o077:
                path.chmod(mode & 0o700)
                changed.append(path)
        except OSError:
            continue
    return changed


def dotenv_path() -> Path:
    """Return the ``.env`` the entry points read (``MLOPS_DOTENV`` or the project's)."""
    from src.runtime_env import PROJECT_ROOT

    return Path(os.environ.get("MLOPS_DOTENV") or PROJECT_ROOT / ".env")
