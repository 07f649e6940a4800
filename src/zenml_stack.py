"""The one place that sets ZenML up: source root, the local stack, and the MLflow tracker.

:func:`ensure_mlflow_stack` is called by every pipeline runner. If the active stack
already has an MLflow experiment tracker (the local stack below, or a server stack that
``make stack-register`` created) it is used as is; otherwise :func:`register_local_stack`
registers, idempotently, and activates::

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

Command line: ``python -m src.zenml_stack {init,local,show}``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

from src.cli import run_main
from src.errors import ServiceError
from src.runtime_env import PROJECT_ROOT
from src.tracking import is_embedded, tracking_uri

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


def prepare_zenml() -> None:
    """Make the repo ZenML's source root, so ``src.*`` steps load whatever the working dir."""
    from zenml.utils import source_utils

    source_utils.set_custom_source_root(str(PROJECT_ROOT))


#: Installed ZenML integrations whose materializers the YOLO pipelines never need.
YOLO_UNUSED_INTEGRATIONS = ("sklearn",)


def skip_integrations(names: tuple[str, ...] = YOLO_UNUSED_INTEGRATIONS) -> None:
    """Keep ZenML from activating ``names`` when it compiles a pipeline in this process.

    Before every run ZenML activates each installed integration to register its
    materializers. scikit-learn is installed for the Iris half, so the sklearn
    integration would import scikit-learn and SciPy (about a second and a half here) in
    every YOLO pipeline run, whose artifacts are only paths and dicts. A pipeline that
    returned a scikit-learn object would still work (ZenML falls back to its pickle
    materializer, with a warning), so only the YOLO runners call this.
    """
    from zenml.integrations.registry import integration_registry

    for name in names:
        integration_registry.integrations.pop(name, None)


def _client() -> Any:
    prepare_zenml()
    from zenml.client import Client

    try:
        return Client()
    except Exception as exc:  # an unreachable ZenML server surfaces here, in many types
        raise ServiceError(f"ZenML store unavailable ({exc}); check `zenml status`") from None


def _tracker_configuration(uri: str) -> dict[str, Any]:
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

    client = _client()
    uri = uri or tracking_uri()
    tracker_type = StackComponentType.EXPERIMENT_TRACKER
    registered = False
    try:
        tracker = client.get_stack_component(
            tracker_type, LOCAL_TRACKER_NAME, allow_name_prefix_match=False
        )
        if tracker.configuration.get("tracking_uri") != uri:
            client.update_stack_component(
                LOCAL_TRACKER_NAME, tracker_type, configuration=_tracker_configuration(uri)
            )
    except KeyError:
        client.create_stack_component(
            LOCAL_TRACKER_NAME, "mlflow", tracker_type, _tracker_configuration(uri)
        )
        registered = True
    try:
        client.get_stack(LOCAL_STACK_NAME, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack(
            LOCAL_STACK_NAME,
            components={
                StackComponentType.ORCHESTRATOR: DEFAULT_COMPONENT,
                StackComponentType.ARTIFACT_STORE: DEFAULT_COMPONENT,
                tracker_type: LOCAL_TRACKER_NAME,
            },
        )
        registered = True
    if activate:
        client.activate_stack(LOCAL_STACK_NAME)
    return StackInfo(LOCAL_STACK_NAME, LOCAL_TRACKER_NAME, uri, DEFAULT_COMPONENT, registered)


def active_stack_info() -> StackInfo | None:
    """Return the active stack if it has an MLflow experiment tracker, else None."""
    from zenml.enums import StackComponentType

    client = _client()
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


def pin_tracking_uri(uri: str) -> None:
    """Point this process's MLflow (and src.tracking) at ``uri`` again.

    ZenML's tracker ends each step with ``mlflow.set_tracking_uri("")``, which also sets
    ``MLFLOW_TRACKING_URI`` to an empty string; without this, code running after a
    pipeline (registry, report) would silently fall back to the default store.
    """
    os.environ["MLFLOW_TRACKING_URI"] = uri
    import mlflow

    mlflow.set_tracking_uri(uri)


def init_repository() -> StackInfo:
    """Return the stack after ``zenml init`` at the repo root (if needed) and stack set-up."""
    from zenml.client import Client

    if not Client.is_repository_directory(PROJECT_ROOT):
        Client.initialize(PROJECT_ROOT)
        print(f"ZenML repository initialised at {PROJECT_ROOT} (.zen/)")
    return ensure_mlflow_stack()


# --------------------------------------------------------------------------- server stack
# `make stack-register` (src.stack.register) calls these against a ZenML server, the
# compose one or the no-Docker one; values come from .env through src.stack.settings.
SERVER_SECRET_NAME = "s3_stack_credentials"
SERVER_ARTIFACT_STORE_NAME = "s3_artifacts"
SERVER_TRACKER_NAME = "mlflow_server"
_HIDDEN_KEYS = ("aws_secret_access_key", "secret_access_key", "tracking_password")


@dataclass(frozen=True)
class Registration:
    """One object the stack bootstrap looked at, and what it did to it."""

    component: str
    name: str
    action: str  # created | updated | set | unchanged
    detail: str = ""

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    @property
    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{'+' if self.changed else '='} {self.component} {self.name}: {self.action}{detail}"


def masked(values: dict[str, Any]) -> str:
    """Return ``key=value`` pairs with secret values shown as ``****``."""
    return ", ".join(f"{k}=****" if k in _HIDDEN_KEYS else f"{k}={v}" for k, v in values.items())


def server_error(url: str, username: str, exc: BaseException) -> ServiceError:
    """Return a one-line ServiceError naming the ZenML server and what to check."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    if any(
        word in f"{type(exc).__name__} {text}".lower()
        for word in ("credential", "authentic", "401", "password")
    ):
        return ServiceError(
            f"ZenML server {url} refused the login of ZENML_ADMIN_USERNAME="
            f"{username!r} ({text}); check ZENML_ADMIN_PASSWORD (the server's "
            "admin password is fixed when its database is first created)"
        )
    return ServiceError(
        f"ZenML server {url}: {text}; is it running (make stack-status / "
        "make stack-up-local) and is ZENML_STORE_URL right?"
    )


def login_to_server(url: str, username: str, password: str) -> Registration:
    """Connect the client to the server at ``url`` with a password; return what changed."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from zenml.config.global_config import GlobalConfiguration
    from zenml.enums import StoreType
    from zenml.login.credentials_store import get_credentials_store
    from zenml.zen_stores.rest_zen_store import RestZenStoreConfiguration

    # Checked over HTTP first: zenml stores the credentials before it tries them, so a
    # wrong password would otherwise replace the client's working login.
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    try:
        urllib.request.urlopen(f"{url}/api/v1/login", data=form, timeout=15).close()
    except urllib.error.HTTPError as exc:
        raise server_error(
            url, username, RuntimeError(f"HTTP {exc.code} authentication refused")
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise server_error(url, username, RuntimeError(f"unreachable ({exc})")) from None
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


def _ensure_component(
    client: Any, component_type: Any, name: str, flavor: str, configuration: dict[str, Any]
) -> Registration:
    label = f"zenml {component_type.value.replace('_', '-')}"
    try:
        existing = client.get_stack_component(component_type, name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack_component(name, flavor, component_type, configuration)
        return Registration(label, name, "created", f"flavor {flavor}; {masked(configuration)}")
    if existing.flavor_name != flavor:
        raise ServiceError(
            f"{label} {name!r} exists with flavor {existing.flavor_name}, not "
            f"{flavor}; delete it and run make stack-register again"
        )
    stale = {k: v for k, v in configuration.items() if existing.configuration.get(k) != v}
    if not stale:
        return Registration(label, name, "unchanged")
    client.update_stack_component(name, component_type, configuration=stale)
    return Registration(label, name, "updated", masked(stale))


def register_server_stack(
    *,
    stack_name: str,
    artifact_path: str,
    endpoint_url: str,
    region: str,
    access_key_id: str,
    secret_access_key: str,
    tracking_uri: str,
) -> list[Registration]:
    """Register (or update) the S3 + MLflow-server stack and activate it; idempotent.

    A secret holds the S3 keys; the artifact store reads them through it, with the
    endpoint of MinIO/moto; the tracker points at the MLflow server (dummy auth, see
    :func:`_tracker_configuration`); the orchestrator stays ZenML's local one.
    """
    from zenml.enums import StackComponentType

    client = _client()
    changes = []
    keys = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
    try:
        secret = client.get_secret(SERVER_SECRET_NAME, allow_partial_name_match=False)
    except KeyError:
        client.create_secret(SERVER_SECRET_NAME, values=keys, private=False)
        changes.append(Registration("zenml secret", SERVER_SECRET_NAME, "created", masked(keys)))
    else:
        current = {
            k: v.get_secret_value() if v is not None else None for k, v in secret.values.items()
        }
        if any(current.get(k) != v for k, v in keys.items()):
            client.update_secret(SERVER_SECRET_NAME, add_or_update_values=keys)
            changes.append(
                Registration("zenml secret", SERVER_SECRET_NAME, "updated", masked(keys))
            )
        else:
            changes.append(Registration("zenml secret", SERVER_SECRET_NAME, "unchanged"))
    changes.append(
        _ensure_component(
            client,
            StackComponentType.ARTIFACT_STORE,
            SERVER_ARTIFACT_STORE_NAME,
            "s3",
            {
                "path": artifact_path,
                "authentication_secret": SERVER_SECRET_NAME,
                "client_kwargs": {"endpoint_url": endpoint_url, "region_name": region},
            },
        )
    )
    changes.append(
        _ensure_component(
            client,
            StackComponentType.EXPERIMENT_TRACKER,
            SERVER_TRACKER_NAME,
            "mlflow",
            _tracker_configuration(tracking_uri),
        )
    )
    wanted = {
        StackComponentType.ORCHESTRATOR: DEFAULT_COMPONENT,
        StackComponentType.ARTIFACT_STORE: SERVER_ARTIFACT_STORE_NAME,
        StackComponentType.EXPERIMENT_TRACKER: SERVER_TRACKER_NAME,
    }
    described = ", ".join(f"{t.value}={n}" for t, n in wanted.items())
    try:
        stack = client.get_stack(stack_name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack(stack_name, components=wanted)
        changes.append(Registration("zenml stack", stack_name, "created", described))
    else:
        current_names = {t: models[0].name for t, models in stack.components.items() if models}
        stale = {t: n for t, n in wanted.items() if current_names.get(t) != n}
        if stale:
            client.update_stack(stack_name, component_updates=stale)
            changes.append(
                Registration(
                    "zenml stack",
                    stack_name,
                    "updated",
                    ", ".join(f"{t.value}={n}" for t, n in stale.items()),
                )
            )
        else:
            changes.append(Registration("zenml stack", stack_name, "unchanged"))
    if client.active_stack_model.name != stack_name:
        client.activate_stack(stack_name)
        changes.append(Registration("zenml active stack", stack_name, "set"))
    else:
        changes.append(Registration("zenml active stack", stack_name, "unchanged"))
    return changes


def select_configured_stack() -> str | None:
    """Return ``ZENML_STACK_NAME`` after making it this process's active stack (if set).

    Set through ZenML's own ``ZENML_ACTIVE_STACK_ID`` for this process only: no config
    file is rewritten, so the local and the server stack never fight over ``.zen/``.
    """
    name = os.environ.get("ZENML_STACK_NAME")
    if not name:
        return None
    client = _client()
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


def main(argv: list[str] | None = None) -> int:
    """Run ``init``, ``local`` or ``show``; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m src.zenml_stack", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "command",
        choices=["init", "local", "show"],
        help="init: zenml init + MLflow stack; local: (re)register and activate the local "
        "stack; show: print the active stack",
    )
    args = parser.parse_args(argv)
    if args.command == "init":
        info = init_repository()
    elif args.command == "local":
        info = register_local_stack(activate=True)
    else:
        found = active_stack_info()
        if found is None:
            print(
                f"active ZenML stack has no MLflow tracker; `make zenml-stack-local` "
                f"registers '{LOCAL_STACK_NAME}'"
            )
            return 1
        info = found
    print(info.line)
    print(f"ZenML state: {os.environ.get('ZENML_CONFIG_PATH')}")
    return 0


if __name__ == "__main__":
    run_main(main)
