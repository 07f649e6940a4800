"""Bootstrap the ZenML client and DVC against the server stack (compose or no-Docker).

    make stack-register      # python -m src.services register

From the settings in ``.env``, idempotently:

* ZenML (the set-up itself lives in :mod:`src.zenml_setup.server_stack`):
  log the client in to ``ZENML_STORE_URL`` with ``ZENML_ADMIN_USERNAME`` /
  ``ZENML_ADMIN_PASSWORD``; a secret holding the S3 keys; an S3 artifact store on
  ``ZENML_ARTIFACT_PATH`` with the endpoint URL; a secret holding the MLflow account
  (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``, by default the server's admin) and an MLflow
  experiment tracker on the MLflow server reading it; the stack ``ZENML_STACK_NAME`` of
  the three, registered and set.
* DVC: a remote ``minio`` at ``DVC_REMOTE_URL`` with the endpoint and the keys, all in
  ``.dvc/config.local`` (never committed), made the default remote.

Each step compares what exists with what ``.env`` asks for and changes only the
difference, so a second run reports nothing to change.
"""

from __future__ import annotations

import os
from pathlib import Path

from src.errors import ConfigError, MlopsError
from src.runtime_env import PROJECT_ROOT, _state_defaults
from src.services.secrets import restrict_to_owner
from src.services.settings import DVC_REMOTE_NAME, ServiceSettings
from src.zenml_setup.client import server_error
from src.zenml_setup.components import Registration, masked


def require_separate_zenml_state() -> None:
    """Raise ConfigError if ZenML's client state is the embedded default's folder.

    Logging in rewrites the client's store to the server; done in the embedded
    default's ``.zenml-state/`` it would keep pointing there after the server
    section of ``.env`` is commented out again.
    """
    current = Path(os.environ.get("ZENML_CONFIG_PATH", "")).resolve()
    embedded = Path(_state_defaults(PROJECT_ROOT)["ZENML_CONFIG_PATH"]).resolve()
    if current == embedded:
        raise ConfigError(
            f"ZENML_CONFIG_PATH is the embedded default's ({embedded}); set "
            "ZENML_CONFIG_PATH=./.zenml-server-state with the server section of .env "
            "(see .env.example) before make stack-register"
        )


def register_zenml(settings: ServiceSettings) -> list[Registration]:
    """Log in, then register secret, artifact store, tracker and stack; return the changes."""
    # ZenML logs every step at INFO; the change lines below say what happened.
    os.environ.setdefault("ZENML_LOGGING_VERBOSITY", "WARN")
    from src.zenml_setup.server_stack import login_to_server, register_server_stack

    changes = [
        login_to_server(settings.zenml_url, settings.zenml_username, settings.zenml_password)
    ]
    try:
        changes += register_server_stack(
            stack_name=settings.zenml_stack_name,
            artifact_path=settings.zenml_artifact_path,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.region,
            access_key_id=settings.access_key_id,
            secret_access_key=settings.secret_access_key,
            tracking_uri=settings.mlflow_url,
            tracking_username=settings.tracking_username,
            tracking_password=settings.tracking_password,
        )
    except MlopsError:
        raise
    except Exception as exc:  # a server refusal mid-way, in whatever type zenml raises
        raise server_error(settings.zenml_url, settings.zenml_username, exc) from None
    # ZenML keeps the password and API tokens there, world-readable by default.
    restrict_to_owner(Path(os.environ.get("ZENML_CONFIG_PATH", ".")) / "credentials.yaml")
    return changes


def register_dvc(settings: ServiceSettings, repo_root: Path) -> list[Registration]:
    """Configure the ``minio`` remote in ``.dvc/config.local``, make it the default."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        repo = Repo(str(repo_root))
    except NotDvcRepoError:
        raise ConfigError(f"{repo_root}: not a DVC repository (run dvc init)") from None
    wanted = {
        "url": settings.dvc_remote_url,
        "endpointurl": settings.s3_endpoint_url,
        "region": settings.region,
        "access_key_id": settings.access_key_id,
        "secret_access_key": settings.secret_access_key,
    }
    try:
        current = dict(repo.config.get("remote", {}).get(DVC_REMOTE_NAME, {}))
        stale = {key: value for key, value in wanted.items() if current.get(key) != value}
        default = repo.config.get("core", {}).get("remote")
        if stale or default != DVC_REMOTE_NAME:
            # The local level: keys and this machine's endpoint never reach git.
            with repo.config.edit("local") as local:
                local.setdefault("remote", {}).setdefault(DVC_REMOTE_NAME, {}).update(stale)
                local.setdefault("core", {})["remote"] = DVC_REMOTE_NAME
    finally:
        repo.close()
    restrict_to_owner(repo_root / ".dvc" / "config.local")  # it holds the S3 secret
    action = "unchanged" if not stale else ("updated" if current else "created")
    return [
        Registration(
            "dvc remote",
            DVC_REMOTE_NAME,
            action,
            f"{masked(stale)} in .dvc/config.local" if stale else "",
        ),
        Registration(
            "dvc default remote",
            DVC_REMOTE_NAME,
            "unchanged" if default == DVC_REMOTE_NAME else "set",
            "" if default == DVC_REMOTE_NAME else f"was {default or 'none'}",
        ),
    ]


def bootstrap_clients(
    settings: ServiceSettings, *, dvc_repo: Path, zenml: bool = True, dvc: bool = True
) -> list[Registration]:
    """Run the bootstrap for ZenML and/or DVC; return every change (and non-change)."""
    settings.require_credentials()
    changes: list[Registration] = []
    if zenml:
        require_separate_zenml_state()
        changes += register_zenml(settings)
    if dvc:
        changes += register_dvc(settings, dvc_repo)
    return changes
