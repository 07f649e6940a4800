"""The one place that talks to MLflow: store selection, runs, tags and the model registry.

Every trainer (Iris, YOLO, the ZenML steps) goes through these functions, so the
tracking URI, experiment set-up, standard tags and promotion rules exist once.

* Default store: embedded SQLite at the repo root (``mlflow.db``) with artifacts
  in ``mlartifacts/``. No server needed; ``make mlflow-ui`` serves the same files.
* ``MLFLOW_TRACKING_URI`` (environment or ``.env``) selects a server instead.

``mlflow`` is imported lazily: entry points that do not track pay nothing.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import ParseResult, urlparse

from src.config import MLFLOW_ARTIFACTS_DIR, MLFLOW_DB, PROJECT_ROOT
from src.errors import DataError, OutputError, TrackingError

if TYPE_CHECKING:
    import mlflow
    from mlflow.entities.model_registry import ModelVersion

CHAMPION_ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"
#: Model-version tag holding the promotion metric's value, so comparing versions
#: needs no extra run look-ups.
METRIC_TAG_PREFIX = "metric."


# --------------------------------------------------------------------------- store
def tracking_uri() -> str:
    """Return the tracking URI in use: ``MLFLOW_TRACKING_URI`` or the embedded SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{MLFLOW_DB}"


def is_embedded(uri: str | None = None) -> bool:
    """True when ``uri`` is a local database store rather than a tracking server."""
    scheme = urlparse(uri or tracking_uri()).scheme
    return scheme not in ("http", "https", "databricks")


def display_uri(uri: str) -> str:
    """Return ``uri`` with any password replaced by ``****`` (for messages and logs)."""
    parsed = urlparse(uri)
    if parsed.password is None:
        return uri
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":****@", 1)
    return parsed._replace(netloc=netloc).geturl()


#: The SQLAlchemy driver each database scheme needs, and the package that provides it.
_DATABASE_DRIVERS: dict[str, tuple[str, str]] = {
    "postgresql": ("psycopg2", "psycopg2-binary"),
    "postgresql+psycopg2": ("psycopg2", "psycopg2-binary"),
    "postgresql+psycopg": ("psycopg", "psycopg[binary]"),
    "mysql": ("MySQLdb", "mysqlclient"),
    "mysql+pymysql": ("pymysql", "PyMySQL"),
    "mssql": ("pyodbc", "pyodbc"),
    "mssql+pyodbc": ("pyodbc", "pyodbc"),
}


def check_tracking_available(uri: str | None = None, timeout: float = 5.0) -> str:
    """Return ``uri`` if it can be used; raise TrackingError naming it otherwise.

    Called before any training so an unreachable server is reported in one line
    up front, not as a traceback after minutes of work. A password is never printed.
    """
    uri = uri or tracking_uri()
    parsed = urlparse(uri)
    shown = f"MLFLOW_TRACKING_URI={display_uri(uri)}"
    if parsed.scheme in ("http", "https"):
        if parsed.username or parsed.password:
            raise TrackingError(
                f"{shown}: credentials in the URI are not sent; put them in "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (.env) and drop them "
                "from the URI"
            )
        health = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(health, timeout=timeout) as response:
                if response.status != 200:
                    raise TrackingError(f"{shown}: /health answered HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            raise TrackingError(
                f"{shown}: /health answered HTTP {exc.code}; is this an MLflow server?"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(
                f"{shown}: server unreachable ({reason}); "
                "start it (make mlflow-ui / make stack-up-local) or unset "
                "the variable to use the embedded store"
            ) from None
        return uri
    if parsed.scheme == "sqlite":
        raw = uri.removeprefix("sqlite:///") if uri.startswith("sqlite:///") else ""
        if not raw:
            raise TrackingError(
                f"{shown}: names no database file; use sqlite:///<absolute path>/mlflow.db"
            )
        db_path = Path(raw)
        if db_path.is_dir():
            raise TrackingError(f"{shown}: {db_path} is a directory; name a file inside it")
        folder = db_path.parent if db_path.parent != Path("") else Path.cwd()
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise TrackingError(f"{shown}: folder {folder} is not writable")
        return uri
    if parsed.scheme in _DATABASE_DRIVERS:
        module, package = _DATABASE_DRIVERS[parsed.scheme]
        if importlib.util.find_spec(module) is None:
            raise TrackingError(
                f"{shown}: the database driver {module} is not installed; "
                f"`.venv/bin/pip install {package}`, or use the MLflow "
                "server in front of that database (http://...)"
            )
        _check_database_reachable(parsed, shown, timeout)
        return uri
    if parsed.scheme == "databricks":
        return uri
    raise TrackingError(
        f"{shown}: unsupported scheme '{parsed.scheme}'; use "
        "sqlite:///<path>, http(s)://<server> or a database URL"
    )


#: The port a database URL without one means, by scheme family.
_DEFAULT_DATABASE_PORTS: dict[str, int] = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}


def _check_database_reachable(parsed: ParseResult, shown: str, timeout: float) -> None:
    """Raise TrackingError unless the database URL's host accepts a TCP connection.

    A TCP connect costs milliseconds and no SQLAlchemy import; without it an unreachable
    database surfaces as a driver traceback once the store is first used.
    """
    family = parsed.scheme.split("+", 1)[0]
    host = parsed.hostname or "localhost"
    port = parsed.port or _DEFAULT_DATABASE_PORTS[family]
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise TrackingError(
            f"{shown}: database server unreachable at {host}:{port} ({exc.strerror or exc}); "
            "start it (make stack-up) or unset the variable to use the embedded store"
        ) from None


def embedded_artifact_root(uri: str | None = None) -> Path | None:
    """Return the artifact folder of a SQLite store: ``mlartifacts/`` beside the database."""
    uri = uri or tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    db_path = Path(uri.removeprefix("sqlite:///"))
    if db_path.resolve() == MLFLOW_DB.resolve():
        return MLFLOW_ARTIFACTS_DIR
    return db_path.parent / "mlartifacts"


@contextmanager
def store_lock(uri: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on a SQLite store (a ``.lock`` file beside it); servers: no-op.

    Serialises what MLflow does not make atomic for a local store: its first migration,
    experiment creation, and the champion compare-and-set.
    """
    uri = uri or tracking_uri()
    if not uri.startswith("sqlite:///"):
        yield
        return
    database = Path(uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(f"{database.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _import_mlflow() -> Any:
    import mlflow

    return mlflow


_experiment_ids: dict[tuple[str, str], str] = {}


def use_experiment(name: str, uri: str | None = None) -> str:
    """Point MLflow at the store and ``name``; return the experiment id (looked up once)."""
    mlflow = _import_mlflow()
    uri = uri or tracking_uri()
    mlflow.set_tracking_uri(uri)
    key = (uri, name)
    if key not in _experiment_ids:
        # The first use of a fresh SQLite store runs MLflow's migrations, which two
        # processes doing it at once break; creating an experiment races the same way.
        with store_lock(uri):
            client = mlflow.MlflowClient(uri)
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                # The embedded store keeps artifacts in one known folder, not in ./mlruns
                # of whatever directory the command ran from.
                root = embedded_artifact_root(uri)
                location = (root / name).as_uri() if root else None
                experiment_id = client.create_experiment(name, artifact_location=location)
            else:
                experiment_id = experiment.experiment_id
        _experiment_ids[key] = experiment_id
    mlflow.set_experiment(experiment_id=_experiment_ids[key])
    return _experiment_ids[key]


# --------------------------------------------------------------------------- runs
def git_commit(root: Path = PROJECT_ROOT) -> str:
    """Return the checked-out commit (``-dirty`` when tracked files changed), or ``unknown``."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def standard_tags(**extra: str) -> dict[str, str]:
    """Tags every run carries: git commit and project, plus ``extra``.

    A ``git_commit`` passed in ``extra`` (already computed by the caller) is used as is,
    which spares two git subprocesses.
    """
    tags = {"project": "mlops-reference", **extra}
    if "git_commit" not in tags:
        tags["git_commit"] = git_commit()
    return tags


def process_tags() -> dict[str, str]:
    """Tags naming the process that runs a training, so a later one can tell it died."""
    import psutil

    return {
        "host": socket.gethostname(),
        "pid": str(os.getpid()),
        "pid_started": repr(psutil.Process().create_time()),
    }


def _process_alive(pid: int, started: float | None) -> bool:
    import psutil

    try:
        process = psutil.Process(pid)
        return started is None or abs(process.create_time() - started) < 0.01
    except psutil.Error:
        return False


def close_dead_local_runs(staging_folders: Sequence[Path] | None = None) -> list[str]:
    """Return the runs of every experiment that :func:`mark_dead_runs_killed` just closed.

    The staging files and folders those processes left (``runs/yolo/.<name>.building-<pid>-…``)
    are removed too (:func:`src.io_utils.remove_dead_staging`); by default in the Iris model
    folder and the YOLO run and model folders.
    """
    from src.config import CV_MODELS_DIR, CV_RUNS_DIR, MODELS_DIR
    from src.io_utils import remove_dead_staging

    defaults = (MODELS_DIR, CV_RUNS_DIR, CV_MODELS_DIR)
    for folder in defaults if staging_folders is None else staging_folders:
        remove_dead_staging(folder)
    mlflow = _import_mlflow()
    client = mlflow.MlflowClient(tracking_uri())
    ids = [experiment.experiment_id for experiment in client.search_experiments()]
    return mark_dead_runs_killed(client, ids)


def mark_dead_runs_killed(client: Any, experiment_ids: list[str]) -> list[str]:
    """End as KILLED the RUNNING runs of ``experiment_ids`` whose process on this host is gone.

    SIGKILL (an OOM kill, ``kill -9``) cannot be caught, so such a run would stay
    RUNNING for ever; the next training on the machine, and ``make doctor``, close it.
    A run of another host, or of a live process (same PID and start time), is left alone.
    """
    if not experiment_ids:
        return []
    host = socket.gethostname().replace("'", "")
    runs = client.search_runs(
        experiment_ids,
        filter_string=f"attributes.status = 'RUNNING' and tags.host = '{host}'",
        max_results=200,
    )
    killed = []
    for run in runs:
        try:
            pid = int(run.data.tags.get("pid", ""))
        except ValueError:
            continue
        started_tag = run.data.tags.get("pid_started")
        started = float(started_tag) if started_tag else None
        if (pid, started) == (os.getpid(), None) or _process_alive(pid, started):
            continue
        client.set_tag(run.info.run_id, "killed_because", f"process {pid} on {host} is gone")
        client.set_terminated(run.info.run_id, status="KILLED")
        killed.append(run.info.run_id)
    return killed


@contextmanager
def tracked_run(
    experiment_name: str,
    *,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_id: str | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """Start (or join) an MLflow run; it ends FAILED if the block raises, KILLED on a signal.

    If a run is already active (a ZenML step under the MLflow experiment tracker)
    that run is used as is, so one training is always exactly one run. ``run_id``
    reopens a finished run instead of starting one (test metrics logged after training).
    Ctrl-C and SIGTERM end the run KILLED; each run carries its host and PID, and a new
    run first closes the runs whose local process is gone (SIGKILL cannot be caught).
    """
    check_tracking_available()
    mlflow = _import_mlflow()
    active = mlflow.active_run()
    if active is not None:
        mlflow.set_tags({**dict(tags or {}), **process_tags()})
        yield active
        return
    if run_id is not None:
        mlflow.set_tracking_uri(tracking_uri())
        run = mlflow.start_run(run_id=run_id, tags=dict(tags or {}))
    else:
        experiment_id = use_experiment(experiment_name)
        mark_dead_runs_killed(mlflow.MlflowClient(tracking_uri()), [experiment_id])
        run = mlflow.start_run(run_name=run_name, tags={**dict(tags or {}), **process_tags()})
    try:
        yield run
    except BaseException as exc:
        reason = _server_failure(exc)
        # Ctrl-C and SIGTERM (src.errors.Terminated) end a run KILLED; a crash, FAILED.
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        if reason is None and isinstance(exc, OSError):
            _discard_run_artifacts(run)
        try:
            mlflow.end_run(status=status)
        except Exception as end_exc:
            # The server is gone: the run stays RUNNING there. One line, not two tracebacks.
            raise TrackingError(
                f"MLflow server {display_uri(tracking_uri())} failed mid-run ({reason or exc}); "
                f"run {run.info.run_id} could not be marked FAILED ({_server_failure(end_exc)})"
            ) from exc
        if reason is not None:
            raise TrackingError(
                f"MLflow server {display_uri(tracking_uri())} failed mid-run ({reason}); "
                f"run {run.info.run_id} marked FAILED"
            ) from exc
        if isinstance(exc, OSError):
            where = exc.filename or embedded_artifact_root() or "a file"
            raise OutputError(
                f"{where}: cannot write ({exc.strerror or exc}); MLflow run {run.info.run_id} "
                "marked FAILED and its partial artifacts removed"
            ) from exc
        raise
    mlflow.end_run(status="FINISHED")


def _discard_run_artifacts(run: Any) -> None:
    """Remove what a failed run wrote to a local artifact store: its files and logged models.

    A disk that fills up mid-copy leaves a truncated file (``model.skops``, ``best.pt``)
    that a later load would choke on. Remote stores keep theirs; the models are deleted
    from the run's outputs either way, so nothing offers them for registration.
    """
    import shutil

    from mlflow.utils.file_utils import local_file_uri_to_path

    mlflow = _import_mlflow()
    client = mlflow.MlflowClient(tracking_uri())
    locations = [run.info.artifact_uri]
    try:
        models = client.search_logged_models(experiment_ids=[run.info.experiment_id])
    except Exception:
        models = []
    for model in models:
        if model.source_run_id == run.info.run_id:
            locations.append(model.artifact_location)
            with suppress(Exception):
                client.delete_logged_model(model.model_id)
    for location in locations:
        if location and location.startswith("file:"):
            shutil.rmtree(local_file_uri_to_path(location), ignore_errors=True)


def _server_failure(exc: BaseException) -> str | None:
    """Return a one-line reason when ``exc`` is the tracking server (or its S3) failing."""
    import requests

    mlflow = _import_mlflow()
    if isinstance(exc, requests.RequestException) or (
        isinstance(exc, mlflow.exceptions.MlflowException) and "API request to" in str(exc)
    ):
        text = " ".join(str(exc).split())
        return text if len(text) <= 300 else text[:297] + "..."
    return None


def log_flat_params(params: Mapping[str, Any], prefix: str = "") -> None:
    """Log a nested mapping of params with dotted keys (``train.n_estimators``)."""
    mlflow = _import_mlflow()
    flat: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], path: str) -> None:
        for key, value in node.items():
            name = f"{path}{key}"
            if isinstance(value, Mapping):
                walk(value, f"{name}.")
            else:
                flat[name] = "None" if value is None else value

    walk(params, prefix)
    mlflow.log_params(flat)


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class PromotionDecision:
    """What the registry did with a new model version, and why."""

    model_name: str
    version: str
    metric: str
    value: float
    previous_champion: str | None
    previous_value: float | None
    promoted: bool
    #: The quality floor a champion must reach, when one is set.
    floor: float | None = None

    @property
    def below_floor(self) -> bool:
        return self.floor is not None and self.value < self.floor

    @property
    def summary(self) -> str:
        if self.below_floor:
            kept = (
                f"v{self.previous_champion} stays {CHAMPION_ALIAS}"
                if self.previous_champion is not None
                else f"no {CHAMPION_ALIAS} yet"
            )
            return (
                f"{self.model_name} v{self.version} ({self.metric}={self.value:.4f}) is below "
                f"the floor {self.floor:g} for {CHAMPION_ALIAS}: {CHALLENGER_ALIAS} only; {kept}"
            )
        if self.previous_champion is None:
            return (
                f"{self.model_name} v{self.version} is the first {CHAMPION_ALIAS} "
                f"({self.metric}={self.value:.4f})"
            )
        verdict = "promoted to" if self.promoted else "kept out of"
        return (
            f"{self.model_name} v{self.version} ({self.metric}={self.value:.4f}) {verdict} "
            f"{CHAMPION_ALIAS}; previous v{self.previous_champion} "
            f"({self.metric}={self.previous_value:.4f})"
        )


def register_model_version(model_uri: str, name: str, *, metric: str, value: float) -> ModelVersion:
    """Register ``model_uri`` as a new version of ``name``, tagged with its metric value."""
    mlflow = _import_mlflow()
    return mlflow.register_model(
        model_uri, name, tags={f"{METRIC_TAG_PREFIX}{metric}": repr(float(value))}
    )


def logged_model_uri(run_id: str, name: str) -> str:
    """Return the ``models:/<model id>`` URI of the model ``name`` logged in run ``run_id``.

    Registering ``runs:/<run id>/<name>`` also works but warns that it falls back to the
    logged model; looking it up in the run's outputs says plainly when there is none.
    """
    mlflow = _import_mlflow()
    client = mlflow.MlflowClient(tracking_uri())
    run = client.get_run(run_id)
    outputs = run.outputs.model_outputs if run.outputs else []
    for output in outputs:
        model = client.get_logged_model(output.model_id)
        if model.name == name:
            return f"models:/{model.model_id}"
    raise TrackingError(
        f"MLflow run {run_id} has no logged model named {name!r} (it holds "
        f"{len(outputs)} model(s)); retrain it with the current code"
    )


def check_model_uri(uri: str) -> str:
    """Return ``uri`` if the registry can resolve it; raise DataError in one line otherwise.

    ``models:/<name>@<alias>`` and ``models:/<name>/<version>`` are checked with the client,
    so a missing alias is reported before any server or model load starts.
    """
    if not uri.startswith("models:/"):
        if not Path(uri).exists():
            raise DataError(f"{uri}: no such model folder (expected models:/NAME@ALIAS or a path)")
        return uri
    check_tracking_available()
    mlflow = _import_mlflow()
    client = mlflow.MlflowClient(tracking_uri())
    ref = uri.removeprefix("models:/").strip("/")
    name, alias = ref.split("@", 1) if "@" in ref else (ref.split("/")[0], None)
    version = ref.split("/", 1)[1] if alias is None and "/" in ref else None
    if name.startswith("m-") and alias is None and version is None:
        return uri  # a logged model id: MLflow's own error names it well enough
    try:
        model = client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        raise DataError(
            f"{uri}: no registered model {name!r} in {tracking_uri()}; train and register one first"
        ) from None
    if alias is not None and alias not in model.aliases:
        known = ", ".join(sorted(model.aliases)) or "none"
        raise DataError(f"{uri}: model {name!r} has no alias {alias!r} (aliases: {known})")
    if version is not None:
        try:
            client.get_model_version(name, version)
        except mlflow.exceptions.MlflowException:
            raise DataError(f"{uri}: model {name!r} has no version {version!r}") from None
    return uri


def _alias_version(client: Any, name: str, alias: str) -> Any | None:
    mlflow = _import_mlflow()
    try:
        return client.get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None


def _version_metric(client: Any, version: Any, metric: str) -> float | None:
    tagged = version.tags.get(f"{METRIC_TAG_PREFIX}{metric}")
    if tagged is not None:
        return float(tagged)
    if version.run_id:
        return client.get_run(version.run_id).data.metrics.get(metric)
    return None


def promote_if_better(
    name: str,
    version: str,
    *,
    metric: str,
    value: float,
    allow_ties: bool,
    set_challenger: bool = False,
    floor: float | None = None,
) -> PromotionDecision:
    """Move the ``champion`` alias to ``version`` when it beats the current champion.

    ``allow_ties=True`` promotes when the new value is at least as good (the Iris
    rule: a retrain on new code or data wins a tie); ``False`` requires a strict
    improvement (the YOLO grid rule). Higher metric values are better.
    With ``set_challenger`` the version first receives the ``challenger`` alias.
    Below ``floor`` a version never becomes champion, even the first one: it gets the
    ``challenger`` alias instead, so it can be inspected but is never served by default.
    """
    mlflow = _import_mlflow()
    client = mlflow.MlflowClient(tracking_uri())
    # Compare-and-set: two trainings finishing together must not both read the old
    # champion and let the worse one win. The lock covers processes on this machine.
    with store_lock():
        if set_challenger:
            client.set_registered_model_alias(name, CHALLENGER_ALIAS, version)
        current = _alias_version(client, name, CHAMPION_ALIAS)
        previous_value = _version_metric(client, current, metric) if current is not None else None
        if floor is not None and value < floor:
            promoted = False
            client.set_registered_model_alias(name, CHALLENGER_ALIAS, version)
        elif current is None or previous_value is None:
            promoted = True
        elif allow_ties:
            promoted = value >= previous_value
        else:
            promoted = value > previous_value
        if promoted:
            client.set_registered_model_alias(name, CHAMPION_ALIAS, version)
    return PromotionDecision(
        model_name=name,
        version=str(version),
        metric=metric,
        value=float(value),
        previous_champion=None if current is None else str(current.version),
        previous_value=previous_value,
        promoted=promoted,
        floor=floor,
    )


def register_and_promote(
    model_uri: str,
    name: str,
    *,
    run_id: str,
    metric: str,
    value: float,
    allow_ties: bool,
    set_challenger: bool = False,
    floor: float | None = None,
    record: Callable[[PromotionDecision], None] | None = None,
) -> PromotionDecision:
    """Register the model of a FINISHED run and apply the champion rule, as one unit.

    A run that did not finish (RUNNING, FAILED, KILLED) is refused with TrackingError and
    nothing is registered. ``record`` (tags on the run, say) runs inside the unit. If any
    step fails, the new version is deleted and the aliases are put back, so the registry
    never holds a version that no decision was made for. Ctrl-C and SIGTERM wait for it.
    """
    from src.io_utils import signals_deferred

    mlflow = _import_mlflow()
    client = mlflow.MlflowClient(tracking_uri())
    status = client.get_run(run_id).info.status
    if status != "FINISHED":
        raise TrackingError(
            f"MLflow run {run_id} is {status}, not FINISHED: its model is not registered"
        )
    with signals_deferred():
        before = {
            alias: version.version
            for alias in (CHAMPION_ALIAS, CHALLENGER_ALIAS)
            if (version := _alias_version(client, name, alias)) is not None
        }
        version = register_model_version(model_uri, name, metric=metric, value=value)
        try:
            decision = promote_if_better(
                name,
                str(version.version),
                metric=metric,
                value=value,
                allow_ties=allow_ties,
                set_challenger=set_challenger,
                floor=floor,
            )
            if record is not None:
                record(decision)
        except BaseException:
            _undo_registration(client, name, str(version.version), before)
            raise
    return decision


def _undo_registration(client: Any, name: str, version: str, aliases: dict[str, str]) -> None:
    """Delete ``version`` of ``name`` and point ``aliases`` back where they were."""
    with store_lock():
        for alias in (CHAMPION_ALIAS, CHALLENGER_ALIAS):
            with suppress(Exception):
                if alias in aliases:
                    client.set_registered_model_alias(name, alias, aliases[alias])
                else:
                    current = _alias_version(client, name, alias)
                    if current is not None and str(current.version) == version:
                        client.delete_registered_model_alias(name, alias)
        with suppress(Exception):
            client.delete_model_version(name, version)
