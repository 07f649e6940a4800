"""The S3 + MLflow-server stack on a ZenML server, registered by ``make stack-register``.

:mod:`src.services.bootstrap` calls these against a ZenML server, the compose one or
the no-Docker one; values come from ``.env`` through :mod:`src.services.settings`.
"""

from __future__ import annotations

from typing import Any

from src.zenml_setup.client import rest_login, server_error, zenml_client
from src.zenml_setup.components import (
    Registration,
    ensure_active,
    ensure_component,
    ensure_stack,
    masked,
)
from src.zenml_setup.local_stack import DEFAULT_COMPONENT

SERVER_SECRET_NAME = "s3_stack_credentials"
#: The MLflow account the tracker logs in with (the server's basic-auth app).
MLFLOW_SECRET_NAME = "mlflow_stack_credentials"
SERVER_ARTIFACT_STORE_NAME = "s3_artifacts"
SERVER_TRACKER_NAME = "mlflow_server"


def login_to_server(url: str, username: str, password: str) -> Registration:
    """Connect the client to the server at ``url`` with a password; return what changed."""
    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StoreType
    from zenml.login.credentials_store import get_credentials_store
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    # Checked over HTTP first: zenml stores the credentials before it tries them, so a
    # wrong password would otherwise replace the client's working login.
    rest_login(url, username, password)
    config = GlobalConfiguration()
    saved = config.store
    logged_in = (
        saved is not None
        and saved.type == StoreType.REST
        and saved.url.rstrip("/") == url
        and get_credentials_store().get_password(url) == (username, password)
    )
    try:
        # Connects and authenticates: a wrong password fails here, in one line.
        config.set_store(
            RestZenStoreConfiguration.model_validate(
                {"url": url, "username": username, "password": password}
            )
        )
    except Exception as exc:  # zenml raises many types; all mean "cannot log in"
        raise server_error(url, username, exc) from None
    return Registration(
        "zenml", "login", "unchanged" if logged_in else "set", f"{url} as {username}"
    )


def _ensure_secret(client: Any, name: str, values: dict[str, str]) -> Registration:
    """Return what was done to make secret ``name`` hold ``values``."""
    try:
        secret = client.get_secret(name, allow_partial_name_match=False)
    except KeyError:
        client.create_secret(name, values=values, private=False)
        return Registration("zenml secret", name, "created", masked(values))
    current = {k: v.get_secret_value() if v is not None else None for k, v in secret.values.items()}
    if all(current.get(k) == v for k, v in values.items()):
        return Registration("zenml secret", name, "unchanged")
    client.update_secret(name, add_or_update_values=values)
    return Registration("zenml secret", name, "updated", masked(values))


def server_tracker_configuration(tracking_uri: str) -> dict[str, str]:
    """Return the server tracker's configuration: its credentials are references to a secret.

    ZenML resolves ``{{secret.key}}`` when a step uses the tracker, so the password is
    stored once, in the (encrypted) secrets store, never in the component's configuration.
    """
    return {
        "tracking_uri": tracking_uri,
        "tracking_username": f"{{{{{MLFLOW_SECRET_NAME}.username}}}}",
        "tracking_password": f"{{{{{MLFLOW_SECRET_NAME}.password}}}}",
    }


def register_server_stack(
    *,
    stack_name: str,
    artifact_path: str,
    endpoint_url: str,
    region: str,
    access_key_id: str,
    secret_access_key: str,
    tracking_uri: str,
    tracking_username: str,
    tracking_password: str,
) -> list[Registration]:
    """Register (or update) the S3 + MLflow-server stack and activate it; idempotent.

    A secret holds the S3 keys; the artifact store reads them through it, with the
    endpoint of MinIO/moto; another secret holds the MLflow account, which the tracker
    on the MLflow server reads through references; the orchestrator stays ZenML's local one.
    """
    from zenml.enums import StackComponentType

    client = zenml_client()
    keys = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
    mlflow_account = {"username": tracking_username, "password": tracking_password}
    return [
        _ensure_secret(client, SERVER_SECRET_NAME, keys),
        _ensure_secret(client, MLFLOW_SECRET_NAME, mlflow_account),
        ensure_component(
            client,
            StackComponentType.ARTIFACT_STORE,
            SERVER_ARTIFACT_STORE_NAME,
            "s3",
            {
                "path": artifact_path,
                "authentication_secret": SERVER_SECRET_NAME,
                "client_kwargs": {"endpoint_url": endpoint_url, "region_name": region},
            },
        ),
        ensure_component(
            client,
            StackComponentType.EXPERIMENT_TRACKER,
            SERVER_TRACKER_NAME,
            "mlflow",
            server_tracker_configuration(tracking_uri),
        ),
        ensure_stack(
            client,
            stack_name,
            {
                StackComponentType.ORCHESTRATOR: DEFAULT_COMPONENT,
                StackComponentType.ARTIFACT_STORE: SERVER_ARTIFACT_STORE_NAME,
                StackComponentType.EXPERIMENT_TRACKER: SERVER_TRACKER_NAME,
            },
        ),
        ensure_active(client, stack_name),
    ]
