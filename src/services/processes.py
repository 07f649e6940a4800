"""The server stack without Docker: S3 (moto), an MLflow server and a ZenML server on loopback.

    make stack-up-local      # python -m src.services up
    make stack-down-local    # python -m src.services down

Each service is a background process group started here, with its PID file and
log in one run folder (``STACK_RUN_DIR``, default ``.stack/``)::

    .stack/s3.pid  s3.log  s3-data/                   moto; objects saved on stop
    .stack/mlflow.pid  mlflow.log  mlflow/mlflow.db   SQLite backend; artifacts in s3://mlflow/
        mlflow/basic_auth.ini  mlflow/basic_auth.db   MLflow's basic-auth app: users, permissions
    .stack/zenml.pid  zenml.log  zenml/zenml.db       ZenML server (its own database and config)

Every server authenticates: moto checks the S3 keys, the MLflow server runs MLflow's
basic-auth app (admin ``MLFLOW_AUTH_ADMIN_USERNAME``/``PASSWORD``, created on its first
start), the ZenML server its admin account; the databases are readable by their owner only
and ZenML encrypts its secrets store with ``ZENML_SECRETS_STORE_ENCRYPTION_KEY``.

A PID file records the process's creation time too, so ``down`` signals exactly
the process groups this module started, never a recycled PID. Ports, keys and
the ZenML admin account come from :class:`~src.services.settings.ServiceSettings`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from src.errors import ServiceError
from src.runtime_env import PROJECT_ROOT
from src.services.secrets import restrict_to_owner
from src.services.settings import BUCKETS, MLFLOW_BUCKET, ServiceSettings

#: The services, in start order (S3 first: the servers store their artifacts there).
SERVICE_NAMES: tuple[str, ...] = ("s3", "mlflow", "zenml")
#: Client-side variables that must not leak into a server's own environment
#: (a ZenML server given ZENML_STORE_URL=http://... would try to talk to itself).
_CLIENT_PREFIXES = ("ZENML_STORE_", "ZENML_ACTIVE_", "MLFLOW_TRACKING_")
_CLIENT_VARIABLES = ("ZENML_CONFIG_PATH", "MLOPS_DOTENV")

Echo = Callable[[str], None]


@dataclass(frozen=True)
class ServiceEndpoint:
    """Where one service listens and how to tell it is ready."""

    name: str
    label: str
    port: int
    port_variable: str
    health_url: str
    #: moto answers an anonymous GET with 403: any HTTP answer means it is up.
    any_answer_is_healthy: bool = False

    @property
    def url(self) -> str:
        return self.health_url.removesuffix("/health").rstrip("/")


@dataclass(frozen=True)
class ServiceSpec(ServiceEndpoint):
    """An endpoint plus the command and environment that start the service."""

    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceStatus:
    """What is known about one service of the local stack."""

    name: str
    label: str
    pid: int | None
    healthy: bool
    url: str
    log: Path

    @property
    def line(self) -> str:
        state = "up" if self.healthy else ("starting/unhealthy" if self.pid else "stopped")
        pid = f"pid {self.pid}" if self.pid else "no process"
        return f"{self.name:<7} {state:<18} {self.url:<28} {pid:<12} log: {self.log}"


# --------------------------------------------------------------------------- specs
def _bin(name: str) -> str:
    """Return the venv's console script ``name`` (the interpreter running this module)."""
    return str(Path(sys.executable).parent / name)


def _base_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_CLIENT_PREFIXES) and key not in _CLIENT_VARIABLES
    }
    env["PYTHONUNBUFFERED"] = "1"
    # The servers run in the run folder: `-m src.services.s3_server` must find this project
    # whatever the venv's install of it points at.
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if part
    )
    return env


def _databases(settings: ServiceSettings) -> tuple[Path, ...]:
    """Return the stack's SQLite databases: runs, users and password hashes, secrets."""
    run = settings.run_dir
    return (
        run / "mlflow" / "mlflow.db",
        run / "mlflow" / "basic_auth.db",
        run / "zenml" / "zenml.db",
    )


def _precreate_private(settings: ServiceSettings) -> None:
    """Create the databases empty and 0600 before a server opens them.

    SQLite keeps an existing file's mode, so no window exists where another user could
    read a database the server has just created with the umask's mode.
    """
    for path in _databases(settings):
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    restrict_to_owner(*_databases(settings))


def _jwt_secret(path: Path) -> str:
    """Return the ZenML server's token-signing key, created once so sessions survive restarts."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, readable by its owner only from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)
    return path


def mlflow_auth_config(settings: ServiceSettings) -> Path:
    """Write the basic-auth app's configuration (read via MLFLOW_AUTH_CONFIG_PATH); return it.

    Its user database lives beside the tracking store. The admin's password is not in the
    file: the server reads MLFLOW_AUTH_ADMIN_PASSWORD, and only to create the admin on the
    first start (later changes go through MLflow's update-password API). Users the admin
    creates get no permission on what others made (``NO_PERMISSIONS``) until granted.
    """
    folder = settings.run_dir / "mlflow"
    return write_private(
        folder / "basic_auth.ini",
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{folder / 'basic_auth.db'}\n"
        f"admin_username = {settings.mlflow_admin_username}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
    )


def service_specs(settings: ServiceSettings) -> dict[str, ServiceSpec]:
    """Return the three services' commands and environments, keyed by name."""
    run = settings.run_dir
    host = settings.host
    keys = {
        "AWS_ACCESS_KEY_ID": settings.access_key_id,
        "AWS_SECRET_ACCESS_KEY": settings.secret_access_key,
        "AWS_DEFAULT_REGION": settings.region,
    }
    s3_cmd = [
        sys.executable,
        "-m",
        "src.services.s3_server",
        "--host",
        host,
        "--port",
        str(settings.s3_port),
        "--data-dir",
        str(run / "s3-data"),
    ]
    if not settings.s3_enforce_auth:
        s3_cmd.append("--no-auth")

    mlflow_hosts = ",".join(
        dict.fromkeys(f"{name}:{settings.mlflow_port}" for name in (host, "127.0.0.1", "localhost"))
    )
    mlflow_cmd = (
        _bin("mlflow"),
        "server",
        # Every request but /health needs a user of the auth app (HTTP basic auth).
        "--app-name",
        "basic-auth",
        "--backend-store-uri",
        f"sqlite:///{run / 'mlflow' / 'mlflow.db'}",
        # Proxied artifacts: only this server needs the S3 keys, clients only HTTP.
        "--artifacts-destination",
        f"s3://{MLFLOW_BUCKET}/",
        "--host",
        host,
        "--port",
        str(settings.mlflow_port),
        "--workers",
        "1",
        "--allowed-hosts",
        mlflow_hosts,
    )
    mlflow_env = {
        **_base_env(),
        **keys,
        "MLFLOW_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_AUTH_CONFIG_PATH": str(run / "mlflow" / "basic_auth.ini"),
        "MLFLOW_AUTH_ADMIN_USERNAME": settings.mlflow_admin_username,
        "MLFLOW_AUTH_ADMIN_PASSWORD": settings.mlflow_admin_password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": settings.mlflow_flask_secret_key,
    }

    zenml_dir = run / "zenml"
    zenml_env = {
        **_base_env(),
        "ZENML_SERVER": "true",
        "ZENML_CONFIG_PATH": str(zenml_dir / "config"),
        "ZENML_STORE_URL": f"sqlite:///{zenml_dir / 'zenml.db'}",
        "ZENML_SERVER_DEPLOYMENT_TYPE": "other",
        # The admin account is created on the first start, from .env, as in compose.
        "ZENML_SERVER_AUTO_ACTIVATE": "true",
        "ZENML_DEFAULT_USER_NAME": settings.zenml_username,
        "ZENML_DEFAULT_USER_PASSWORD": settings.zenml_password,
        "ZENML_SERVER_JWT_SECRET_KEY": _jwt_secret(zenml_dir / "jwt_secret"),
        # Secret values are stored AES-GCM encrypted in zenml.db, never in clear.
        "ZENML_SECRETS_STORE_TYPE": "sql",
        "ZENML_SECRETS_STORE_ENCRYPTION_KEY": settings.zenml_encryption_key,
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_COLORS_DISABLED": "true",
    }
    zenml_cmd = (
        sys.executable,
        "-m",
        "uvicorn",
        "zenml.zen_server.zen_server_api:app",
        "--host",
        host,
        "--port",
        str(settings.zenml_port),
        "--no-server-header",
        "--no-access-log",
    )
    endpoints = service_endpoints(settings)
    commands = {
        "s3": (tuple(s3_cmd), {**_base_env(), **keys}),
        "mlflow": (mlflow_cmd, mlflow_env),
        "zenml": (zenml_cmd, zenml_env),
    }
    return {
        name: ServiceSpec(**asdict(endpoints[name]), command=command, env=env)
        for name, (command, env) in commands.items()
    }


def service_endpoints(settings: ServiceSettings) -> dict[str, ServiceEndpoint]:
    """Return label, port and health URL per service, in start order; touches no file."""
    host = settings.host
    return {
        "s3": ServiceEndpoint(
            "s3",
            "S3 (moto)",
            settings.s3_port,
            "S3_PORT",
            f"http://{host}:{settings.s3_port}/",
            any_answer_is_healthy=True,
        ),
        "mlflow": ServiceEndpoint(
            "mlflow",
            "MLflow server",
            settings.mlflow_port,
            "MLFLOW_PORT",
            f"http://{host}:{settings.mlflow_port}/health",
        ),
        "zenml": ServiceEndpoint(
            "zenml",
            "ZenML server",
            settings.zenml_port,
            "ZENML_PORT",
            f"http://{host}:{settings.zenml_port}/health",
        ),
    }


# --------------------------------------------------------------------------- processes
def _pid_file(settings: ServiceSettings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def _log_file(settings: ServiceSettings, name: str) -> Path:
    return settings.run_dir / f"{name}.log"


def running_pid(settings: ServiceSettings, name: str) -> int | None:
    """Return the PID of ``name`` if the process its PID file names is still that process."""
    import psutil

    path = _pid_file(settings, name)
    try:
        record = json.loads(path.read_text())
        process = psutil.Process(int(record["pid"]))
        same = abs(process.create_time() - float(record["create_time"])) < 0.01
    except (OSError, ValueError, KeyError, psutil.Error):
        same = False
        record = None
    if not same:
        # A stale file (process gone, or the PID recycled by someone else's process).
        path.unlink(missing_ok=True)
        return None
    return int(record["pid"]) if record else None


def http_ok(url: str, *, any_answer: bool = False, timeout: float = 2.0) -> bool:
    """True if ``url`` answers HTTP 2xx (or any HTTP status when ``any_answer``)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except urllib.error.HTTPError:
        return any_answer
    except (urllib.error.URLError, OSError):
        return False


def port_in_use(host: str, port: int) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        tail = path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return " | ".join(line.strip() for line in tail)


def _spawn(settings: ServiceSettings, spec: ServiceSpec) -> int:
    """Start ``spec`` as a new process group; return its PID (recorded in the PID file)."""
    import psutil

    log_path = _log_file(settings, spec.name)
    with open(log_path, "a") as log:
        log.write(
            f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(spec.command)}\n"
        )
        log.flush()
        process = subprocess.Popen(
            spec.command,
            env=dict(spec.env),
            cwd=settings.run_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: `down` signals the whole group (mlflow forks uvicorn).
            start_new_session=True,
        )
    record = {
        "pid": process.pid,
        "create_time": psutil.Process(process.pid).create_time(),
        "port": spec.port,
        "command": list(spec.command),
    }
    _pid_file(settings, spec.name).write_text(json.dumps(record) + "\n")
    return process.pid


def _wait_healthy(
    settings: ServiceSettings, specs: Iterable[ServiceSpec], timeout: float, echo: Echo
) -> None:
    """Return once every spec answers its health URL; raise ServiceError if one dies or hangs."""
    pending = {spec.name: spec for spec in specs}
    started = time.monotonic()
    while pending:
        for name, spec in list(pending.items()):
            if http_ok(spec.health_url, any_answer=spec.any_answer_is_healthy):
                echo(
                    f"  {spec.label} ready on {spec.health_url.rsplit('/', 1)[0]} "
                    f"({time.monotonic() - started:.1f} s)"
                )
                del pending[name]
            elif running_pid(settings, name) is None:
                log = _log_file(settings, name)
                raise ServiceError(
                    f"{spec.label} exited during start-up; see {log}: {_log_tail(log)}"
                )
        if pending and time.monotonic() - started > timeout:
            names = ", ".join(spec.label for spec in pending.values())
            raise ServiceError(
                f"{names} not healthy after {timeout:.0f} s; see the logs in {settings.run_dir}"
            )
        if pending:
            time.sleep(0.5)


def _stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL it if it outlives ``timeout``."""
    import psutil

    try:
        leader = psutil.Process(pid)
        members = [leader, *leader.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    _, alive = psutil.wait_procs(members, timeout=timeout)
    if alive:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        # Children that left the group are still ours: kill them one by one.
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=5)


# --------------------------------------------------------------------------- buckets
def ensure_buckets(settings: ServiceSettings, buckets: Iterable[str] = BUCKETS) -> list[str]:
    """Create the missing buckets; return the names created (none on a second call)."""
    from botocore.exceptions import ClientError

    client = settings.s3_client()
    created = []
    for bucket in buckets:
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise ServiceError(
                    f"S3 at {settings.s3_endpoint_url}: bucket {bucket}: "
                    f"{code or exc} (check AWS_ACCESS_KEY_ID/SECRET)"
                ) from None
            client.create_bucket(Bucket=bucket)
            created.append(bucket)
    return created


# --------------------------------------------------------------------------- API
def start_services(
    settings: ServiceSettings, *, timeout: float = 240.0, echo: Echo = print
) -> list[ServiceStatus]:
    """Start the services that are not running; return the status of all three.

    Idempotent: running services are left alone. If a service fails to come up,
    every service this call started is stopped again, so no stray process stays.
    """
    settings.require_credentials()
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    (settings.run_dir / "mlflow").mkdir(exist_ok=True)
    mlflow_auth_config(settings)
    _precreate_private(settings)
    specs = service_specs(settings)
    started: list[str] = []
    try:
        for group in (["s3"], ["mlflow", "zenml"]):
            launched = []
            for name in group:
                spec = specs[name]
                if running_pid(settings, name) is not None:
                    echo(f"  {spec.label} already running (pid {running_pid(settings, name)})")
                    continue
                if port_in_use(settings.host, spec.port):
                    raise ServiceError(
                        f"{spec.label}: port {settings.host}:{spec.port} is taken by another "
                        f"process; stop it or set {spec.port_variable} in .env"
                    )
                pid = _spawn(settings, spec)
                started.append(name)
                launched.append(spec)
                echo(f"  {spec.label} starting (pid {pid}, log {_log_file(settings, name)})")
            _wait_healthy(settings, launched, timeout, echo)
            if group == ["s3"]:
                created = ensure_buckets(settings)
                echo(
                    f"  buckets: created {', '.join(created)}"
                    if created
                    else f"  buckets: {', '.join(BUCKETS)} already exist"
                )
    except BaseException:
        stop_services(settings, names=started, echo=lambda _: None)
        raise
    # Again after the start: a database a server re-created keeps its owner-only mode.
    restrict_to_owner(*_databases(settings))
    return service_status(settings)


def stop_services(
    settings: ServiceSettings,
    *,
    names: Iterable[str] = SERVICE_NAMES,
    timeout: float = 30.0,
    echo: Echo = print,
) -> list[str]:
    """Stop the named services this module started; return the names that were running."""
    stopped = []
    # Reverse order: the servers flush to S3 before S3 saves its objects and exits.
    for name in reversed([n for n in SERVICE_NAMES if n in set(names)]):
        pid = running_pid(settings, name)
        if pid is None:
            _pid_file(settings, name).unlink(missing_ok=True)
            continue
        _stop_pid(pid, timeout)
        _pid_file(settings, name).unlink(missing_ok=True)
        stopped.append(name)
        echo(f"  {name} stopped (pid {pid})")
    return stopped


def service_status(settings: ServiceSettings) -> list[ServiceStatus]:
    """Return one status per service: its PID if running and whether it answers."""
    statuses = []
    for name, endpoint in service_endpoints(settings).items():
        pid = running_pid(settings, name)
        statuses.append(
            ServiceStatus(
                name=name,
                label=endpoint.label,
                pid=pid,
                healthy=pid is not None
                and http_ok(endpoint.health_url, any_answer=endpoint.any_answer_is_healthy),
                url=endpoint.url,
                log=_log_file(settings, name),
            )
        )
    return statuses
