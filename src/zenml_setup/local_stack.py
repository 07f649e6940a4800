"""The stack every pipeline runner selects: the active one if it tracks to MLflow, else local.

:func:`ensure_mlflow_stack` is called by every runner. If the active stack already
has an MLflow experiment tracker (the local stack below, or a server stack that
``make stack-register`` created) it is used as is; otherwise
:func:`register_local_stack` registers, idempotently, and activates::

    mlops-local          the stack
      orchestrator       default  (ZenML's local, in-process orchestrator)
      artifact store     default  (a folder under $ZENML_CONFIG_PATH)
      experiment tracker mlops-local-mlflow  (flavor mlflow, tracking URI =
                                              src.tracking.tracking_uri())

so the YOLO runs land in the same MLflow store as the Iris runs and ``make mlflow-ui``
shows both. ZenML keeps its state in ``$ZENML_CONFIG_PATH`` (``.zenml-state/`` in the
repo by default, see src.runtime_env); analytics are off.

After set-up the process's ``MLFLOW_TRACKING_URI`` is aligned with the tracker's, so
what src.tracking reads or registers (model registry, decision report) is the store the
ZenML steps wrote to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from src.errors import ServiceError
from src.runtime_env import PROJECT_ROOT
from src.tracking import is_embedded, tracking_uri
from src.workarounds import pin_tracking_uri
from src.zenml_setup.client import zenml_client
from src.zenml_setup.components import ensure_active, ensure_component, ensure_stack

LOCAL_STACK_NAME = "mlops-local"
LOCAL_TRACKER_NAME = "mlops-local-mlflow"
#: ZenML's built-in local orchestrator and artifact store, present in every store.
DEFAULT_COMPONENT = "default"
#: Dummy credentials: ZenML requires an auth method for an http(s) tracking URI, and an
#: MLflow server without auth ignores them.
_DUMMY_AUTH = {"tracking_username": "mlops", "tracking_password": "mlops"}


@dataclass(frozen=True)
class StackInfo:
    """The active ZenML stack and its MLflow tracker."""

    name: str
    tracker: str
    tracking_uri: str
    artifact_store: str
    registered: bool

    @property
    def line(self) -> str:
        verb = "registered and activated" if self.registered else "active"
        return (
            f"ZenML stack '{self.name}' {verb}: tracker '{self.tracker}' -> "
            f"{self.tracking_uri}, artifact store '{self.artifact_store}'"
        )


def tracker_configuration(uri: str) -> dict[str, Any]:
    """Return an MLflow tracker's configuration for ``uri`` (with auth for a server)."""
    config: dict[str, Any] = {"tracking_uri": uri}
    if not is_embedded(uri):
        config |= {
            "tracking_username": os.environ.get("MLFLOW_TRACKING_USERNAME")
            or _DUMMY_AUTH["tracking_username"],
            "tracking_password": os.environ.get("MLFLOW_TRACKING_PASSWORD")
            or _DUMMY_AUTH["tracking_password"],
        }
    return config


def register_local_stack(*, activate: bool = True, uri: str | None = None) -> StackInfo:
    """Return the local stack after registering (or updating) it; idempotent.

    The tracker follows ``uri`` (default: :func:`src.tracking.tracking_uri`), so moving
    the repo or setting ``MLFLOW_TRACKING_URI`` updates it instead of failing.
    """
    from zenml.enums import StackComponentType

    client = zenml_client()
    uri = uri or tracking_uri()
    tracker_type = StackComponentType.EXPERIMENT_TRACKER
    changes = [
        ensure_component(
            client, tracker_type, LOCAL_TRACKER_NAME, "mlflow", tracker_configuration(uri)
        ),
        ensure_stack(
            client,
            LOCAL_STACK_NAME,
            {
                StackComponentType.ORCHESTRATOR: DEFAULT_COMPONENT,
                StackComponentType.ARTIFACT_STORE: DEFAULT_COMPONENT,
                tracker_type: LOCAL_TRACKER_NAME,
            },
        ),
    ]
    if activate:
        ensure_active(client, LOCAL_STACK_NAME)
    registered = any(change.action == "created" for change in changes)
    return StackInfo(LOCAL_STACK_NAME, LOCAL_TRACKER_NAME, uri, DEFAULT_COMPONENT, registered)


def active_stack_info() -> StackInfo | None:
    """Return the active stack if it has an MLflow experiment tracker, else None."""
    from zenml.enums import StackComponentType

    client = zenml_client()
    model = client.active_stack_model
    trackers = model.components.get(StackComponentType.EXPERIMENT_TRACKER) or []
    mlflow_trackers = [t for t in trackers if t.flavor_name == "mlflow"]
    if not mlflow_trackers:
        return None
    tracker = client.active_stack.experiment_tracker
    stores = model.components.get(StackComponentType.ARTIFACT_STORE) or []
    return StackInfo(
        name=model.name,
        tracker=mlflow_trackers[0].name,
        tracking_uri=tracker.get_tracking_uri(),
        artifact_store=stores[0].name if stores else "?",
        registered=False,
    )


def select_configured_stack() -> str | None:
    """Return ``ZENML_STACK_NAME`` after making it this process's active stack (if set).

    Set through ZenML's own ``ZENML_ACTIVE_STACK_ID`` for this process only: no config
    file is rewritten, so the local and the server stack never fight over ``.zen/``.
    """
    name = os.environ.get("ZENML_STACK_NAME")
    if not name:
        return None
    client = zenml_client()
    try:
        stack = client.get_stack(name, allow_name_prefix_match=False)
    except KeyError:
        raise ServiceError(
            f"ZENML_STACK_NAME={name}: no such stack in the ZenML store "
            f"({os.environ.get('ZENML_STORE_URL') or 'local'}); run "
            "make stack-register"
        ) from None
    os.environ["ZENML_ACTIVE_STACK_ID"] = str(stack.id)
    return name


def ensure_mlflow_stack() -> StackInfo:
    """Return the stack pipelines run on: the active one if it tracks to MLflow, else local.

    Also points this process's ``MLFLOW_TRACKING_URI`` at the tracker's store.
    ``ZENML_STACK_NAME`` (the server stack in ``.env``) is selected first when set.
    """
    select_configured_stack()
    info = active_stack_info()
    if info is None:
        info = register_local_stack(activate=True)
    if info.tracking_uri != tracking_uri():
        print(f"MLflow: using the tracker's store {info.tracking_uri} (stack '{info.name}')")
    pin_tracking_uri(info.tracking_uri)
    return info


def init_repository() -> StackInfo:
    """Return the stack after ``zenml init`` at the repo root (if needed) and stack set-up."""
    from zenml.client import Client

    if not Client.is_repository_directory(PROJECT_ROOT):
        Client.initialize(PROJECT_ROOT)
        print(f"ZenML repository initialised at {PROJECT_ROOT} (.zen/)")
    return ensure_mlflow_stack()
