"""``make doctor``: check every piece of the configured stack, one line each, with a hint.

    ✓ S3 buckets        mlflow, zenml, dvc writable at http://127.0.0.1:9000
    ✗ MLflow auth       http://127.0.0.1:5000 accepts anonymous writes … — hint: …
    ✗ MLflow artifacts  HTTP 500 storing doctor/… through the server — hint: is S3 up? …

With no server configured (the embedded default) only the local checks run and
the server ones are listed as skipped. The exit code is 1 if any check failed.
Each check has a short timeout and imports only what it needs, so a healthy stack
is checked in seconds and a dead one is reported just as fast.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from src.runtime_env import PROJECT_ROOT
from src.services.settings import BUCKETS, DVC_BUCKET, DVC_REMOTE_NAME, ServiceSettings

#: Packages whose installed version must equal the lock's.
KEY_PACKAGES = ("mlflow", "zenml", "dvc", "dvc-s3", "boto3", "s3fs", "moto")
_TIMEOUT = 5.0
#: A ZenML login hashes the password on the server and its stack queries hydrate components:
#: seconds on a busy machine, so they get the time the artifact round trip gets.
_ZENML_API_TIMEOUT = 30.0


@dataclass(frozen=True)
class Check:
    """The outcome of one check; ``ok=None`` means skipped."""

    name: str
    ok: bool | None
    detail: str
    hint: str = ""

    @property
    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "–"}[self.ok]
        hint = f" — hint: {self.hint}" if self.hint and self.ok is False else ""
        return f"{mark} {self.name:<18} {self.detail}{hint}"


class _Failed(Exception):
    """Raised inside a check to report a failure with a hint."""

    def __init__(self, detail: str, hint: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


# --------------------------------------------------------------------------- helpers
def locked_versions(lock: Path = PROJECT_ROOT / "requirements.lock") -> dict[str, str]:
    """Return ``{name: version}`` pinned in the hash-locked requirements file."""
    pins: dict[str, str] = {}
    if not lock.is_file():
        return pins
    for line in lock.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, _, rest = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = rest.split()[0].rstrip("\\").strip()
    return pins


def _http(
    method: str,
    url: str,
    data: bytes | None = None,
    timeout: float = _TIMEOUT,
    auth: tuple[str, str] | None = None,
) -> tuple[int, bytes]:
    """Return ``(status, body)``; HTTP errors are returned, connection errors raised."""
    import base64

    request = urllib.request.Request(url, data=data, method=method)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    if data is not None and method == "POST":
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _unreachable(url: str, exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    return f"{url} unreachable ({reason})"


def _s3_error(settings: ServiceSettings, exc: BaseException) -> _Failed:
    """Return a failure naming S3 and whether the keys or the connection are at fault."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "?")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"):
            return _Failed(
                f"S3 at {settings.s3_endpoint_url} rejected AWS_ACCESS_KEY_ID="
                f"{settings.access_key_id!r} ({code})",
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in .env must be the "
                "keys the S3 server (MinIO/moto) was started with",
            )
        return _Failed(f"S3 at {settings.s3_endpoint_url}: {code}", "see the S3 server's log")
    return _Failed(
        _unreachable(settings.s3_endpoint_url, exc),
        "make stack-up-local (or make stack-up); S3_ENDPOINT_URL in .env",
    )


# --------------------------------------------------------------------------- checks
def check_venv(settings: ServiceSettings) -> str:
    expected = (PROJECT_ROOT / ".venv").resolve()
    prefix = Path(sys.prefix).resolve()
    python = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] != (3, 11):
        raise _Failed(f"Python {python}; the project needs 3.11", "make install")
    if prefix != expected:
        raise _Failed(
            f"running from {prefix}, not {expected}", "use the make targets or .venv/bin/python"
        )
    return f"{prefix}, Python {python}"


def check_versions(settings: ServiceSettings) -> str:
    pins = locked_versions()
    found, wrong = [], []
    for name in KEY_PACKAGES:
        try:
            installed = version(name)
        except PackageNotFoundError:
            wrong.append(f"{name} missing")
            continue
        pinned = pins.get(name)
        if pinned and installed != pinned:
            wrong.append(f"{name} {installed} (lock {pinned})")
        found.append(f"{name} {installed}")
    if wrong:
        raise _Failed("; ".join(wrong), "make install (rebuilds .venv from requirements.lock)")
    return ", ".join(found)


def check_credentials(settings: ServiceSettings) -> str:
    problems = settings.credential_problems()
    if problems:
        raise _Failed("; ".join(problems), "make secrets, or set them in .env")
    return (
        "AWS keys, ZenML and MLflow admin passwords, server keys set, none a placeholder, "
        "secrets 12+ characters"
    )


def check_s3_reachable(settings: ServiceSettings) -> str:
    try:
        _http("GET", settings.s3_endpoint_url + "/", timeout=3.0)
    except (urllib.error.URLError, OSError) as exc:
        raise _s3_error(settings, exc) from None
    try:
        names = {b["Name"] for b in settings.s3_client(timeout=3.0).list_buckets()["Buckets"]}
    except Exception as exc:  # botocore's many types: one line
        raise _s3_error(settings, exc) from None
    missing = [bucket for bucket in BUCKETS if bucket not in names]
    if missing:
        raise _Failed(
            f"{settings.s3_endpoint_url}: missing bucket(s) {', '.join(missing)}",
            "make stack-up-local creates them (compose: the minio-init service)",
        )
    return f"{settings.s3_endpoint_url}, keys accepted"


def check_s3_buckets(settings: ServiceSettings) -> str:
    client = settings.s3_client(timeout=3.0)
    key = f"doctor/{uuid.uuid4().hex}.txt"
    for bucket in BUCKETS:
        try:
            client.put_object(Bucket=bucket, Key=key, Body=b"doctor")
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            client.delete_object(Bucket=bucket, Key=key)
        except Exception as exc:
            raise _s3_error(settings, exc) from None
        if body != b"doctor":
            raise _Failed(f"s3://{bucket}: read back {body[:20]!r}", "see the S3 server's log")
    return f"{', '.join(BUCKETS)} writable"


def check_mlflow_health(settings: ServiceSettings) -> str:
    try:
        status, _ = _http("GET", settings.mlflow_url + "/health")
    except (urllib.error.URLError, OSError) as exc:
        raise _Failed(
            _unreachable(settings.mlflow_url, exc),
            "make stack-up-local (or make stack-up); MLFLOW_TRACKING_URI in .env",
        ) from None
    if status != 200:
        raise _Failed(
            f"{settings.mlflow_url}/health answered HTTP {status}",
            "is this an MLflow server? (403: add the host to --allowed-hosts)",
        )
    return f"{settings.mlflow_url} healthy"


def check_mlflow_auth(settings: ServiceSettings) -> str:
    """Fail if the MLflow server accepts an anonymous write, or refuses the clients' account."""
    api = f"{settings.mlflow_url}/api/2.0/mlflow"
    probe = json.dumps({"name": f"doctor-anonymous-{uuid.uuid4().hex}"}).encode()
    user = settings.tracking_username
    try:
        status, body = _http("POST", f"{api}/experiments/create", probe)
        if 200 <= status < 300:
            experiment = json.loads(body or b"{}").get("experiment_id")
            if experiment:  # clean up what the stranger's write made
                _http(
                    "POST",
                    f"{api}/experiments/delete",
                    json.dumps({"experiment_id": experiment}).encode(),
                    auth=settings.mlflow_auth(),
                )
            raise _Failed(
                f"{settings.mlflow_url} accepts anonymous writes (created an experiment "
                "without credentials)",
                "run the server with --app-name basic-auth: make stack-up-local or make "
                "stack-up do",
            )
        if status != 401:
            raise _Failed(
                f"an anonymous write answered HTTP {status}, not 401", "see the MLflow log"
            )
        status, _ = _http(
            "GET", f"{api}/experiments/search?max_results=1", auth=settings.mlflow_auth()
        )
    except (urllib.error.URLError, OSError) as exc:
        raise _Failed(_unreachable(settings.mlflow_url, exc), "make stack-up-local") from None
    if status in (401, 403):
        raise _Failed(
            f"the server refused user {user!r} (HTTP {status})",
            "MLFLOW_TRACKING_USERNAME/PASSWORD in .env (unset: the MLFLOW_AUTH_ADMIN_* "
            "account); the admin is created on the server's first start only",
        )
    if status != 200:
        raise _Failed(f"searching experiments as {user!r} answered HTTP {status}", "")
    return f"anonymous write refused (401), user {user!r} accepted"


def check_mlflow_artifacts(settings: ServiceSettings) -> str:
    path = f"doctor/{uuid.uuid4().hex}.txt"
    url = f"{settings.mlflow_url}/api/2.0/mlflow-artifacts/artifacts/{path}"
    hint = "the MLflow server stores artifacts in s3://mlflow/: is S3 up, are its keys right?"
    try:
        # The server retries S3 on its side: allow it time to answer with its own error.
        auth = settings.mlflow_auth()
        status, _ = _http("PUT", url, b"doctor", timeout=30.0, auth=auth)
        if status != 200:
            raise _Failed(f"HTTP {status} storing an artifact through {settings.mlflow_url}", hint)
        status, body = _http("GET", url, timeout=30.0, auth=auth)
        if status != 200 or body != b"doctor":
            raise _Failed(f"HTTP {status} reading the artifact back", hint)
        _http("DELETE", url, timeout=30.0, auth=auth)
    except (urllib.error.URLError, OSError) as exc:
        raise _Failed(_unreachable(settings.mlflow_url, exc), hint) from None
    return "stored, read back and deleted through the server (s3://mlflow/)"


def check_zenml_server(settings: ServiceSettings) -> str:
    try:
        status, _ = _http("GET", settings.zenml_url + "/health")
        info_status, info = _http("GET", settings.zenml_url + "/api/v1/info")
    except (urllib.error.URLError, OSError) as exc:
        raise _Failed(
            _unreachable(settings.zenml_url, exc),
            "make stack-up-local (or make stack-up); ZENML_STORE_URL in .env",
        ) from None
    if status != 200 or info_status != 200:
        raise _Failed(
            f"{settings.zenml_url} answered HTTP {status}/{info_status}", "is this a ZenML server?"
        )
    server_version = json.loads(info).get("version", "?")
    client_version = version("zenml")
    if server_version != client_version:
        raise _Failed(
            f"server {server_version} != client {client_version}",
            "use the zenml-server image tag equal to the lock's zenml version",
        )
    return f"{settings.zenml_url}, server and client {client_version}"


def _zenml_api(settings: ServiceSettings, token: str, path: str) -> Any:
    request = urllib.request.Request(
        f"{settings.zenml_url}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=_ZENML_API_TIMEOUT) as response:
        return json.loads(response.read())


def check_zenml_stack(settings: ServiceSettings) -> str:
    # Over ZenML's REST API, not its client: importing zenml alone takes seconds.
    # The stack checked is ZENML_STACK_NAME, the one the pipeline runners select.
    from src.errors import ServiceError
    from src.zenml_setup.client import rest_login

    hint = "make stack-register"
    try:
        token = rest_login(
            settings.zenml_url,
            settings.zenml_username,
            settings.zenml_password,
            timeout=_ZENML_API_TIMEOUT,
        )
    except ServiceError as exc:
        raise _Failed(str(exc), "ZENML_ADMIN_PASSWORD in .env") from None
    name = settings.zenml_stack_name
    query = urllib.parse.urlencode({"name": name, "hydrate": "true"})
    stacks = _zenml_api(settings, token, f"stacks?{query}")["items"]
    if not stacks:
        raise _Failed(f"no stack {name!r} on the server", hint)
    components = stacks[0]["metadata"]["components"]

    def configured(kind: str) -> tuple[str, str, dict[str, Any]] | None:
        found = components.get(kind) or []
        if not found:
            return None
        detail = _zenml_api(settings, token, f"components/{found[0]['id']}?hydrate=true")
        return (
            found[0]["name"],
            found[0]["body"]["flavor_name"],
            detail["metadata"]["configuration"],
        )

    store, tracker = configured("artifact_store"), configured("experiment_tracker")
    problems = []
    if store is None or store[1] != "s3":
        problems.append("no S3 artifact store")
    else:
        endpoint = (store[2].get("client_kwargs") or {}).get("endpoint_url")
        if store[2].get("path") != settings.zenml_artifact_path:
            problems.append(f"artifact store path {store[2].get('path')}")
        if endpoint != settings.s3_endpoint_url:
            problems.append(f"artifact store endpoint {endpoint}")
    if tracker is None or tracker[1] != "mlflow":
        problems.append("no MLflow experiment tracker")
    elif tracker[2].get("tracking_uri") != settings.mlflow_url:
        problems.append(f"tracker URI {tracker[2].get('tracking_uri')}")
    elif not str(tracker[2].get("tracking_password") or "").startswith("{{"):
        problems.append("tracker credentials not read from a ZenML secret")
    if problems:
        raise _Failed(f"stack {name}: " + "; ".join(problems) + " (differs from .env)", hint)
    assert store is not None and tracker is not None
    return (
        f"{name}: artifact store {store[0]} ({settings.zenml_artifact_path}), "
        f"tracker {tracker[0]} ({settings.mlflow_url})"
    )


def check_dvc_remote(settings: ServiceSettings, repo_root: Path) -> str:
    from dvc.config import Config

    hint = "make stack-register"
    dvc_dir = repo_root / ".dvc"
    if not dvc_dir.is_dir():
        raise _Failed(f"{repo_root} is not a DVC repository", "make dvc-init")
    # The merged config (system, global, repo, local), read without opening the repo.
    config = Config(dvc_dir=str(dvc_dir))
    remote = dict(config.get("remote", {}).get(DVC_REMOTE_NAME, {}))
    default = config.get("core", {}).get("remote")
    if not remote:
        raise _Failed(f"no remote {DVC_REMOTE_NAME!r}", hint)
    problems = [
        f"{key}={remote.get(key)}"
        for key, wanted in (
            ("url", settings.dvc_remote_url),
            ("endpointurl", settings.s3_endpoint_url),
        )
        if remote.get(key) != wanted
    ]
    if not remote.get("access_key_id") or not remote.get("secret_access_key"):
        problems.append("keys missing from .dvc/config.local")
    if problems:
        raise _Failed(
            f"remote {DVC_REMOTE_NAME}: " + ", ".join(problems) + " (differs from .env)", hint
        )
    # Reach it with the remote's own keys, as `dvc push` will.
    prefix = settings.dvc_remote_url.removeprefix(f"s3://{DVC_BUCKET}/").strip("/")
    client = settings.s3_client(
        access_key_id=remote["access_key_id"],
        secret_access_key=remote["secret_access_key"],
        timeout=3.0,
    )
    try:
        client.list_objects_v2(
            Bucket=settings.dvc_remote_url[5:].split("/")[0], Prefix=prefix, MaxKeys=1
        )
    except Exception as exc:
        failure = _s3_error(settings, exc)
        raise _Failed(f"remote {DVC_REMOTE_NAME}: {failure.detail}", failure.hint) from None
    default_note = "default" if default == DVC_REMOTE_NAME else f"not default ({default or 'none'})"
    return f"{DVC_REMOTE_NAME} -> {settings.dvc_remote_url} reachable, {default_note}"


def check_embedded_store(settings: ServiceSettings) -> str:
    from src.errors import MlopsError
    from src.tracking import check_tracking_available, close_dead_local_runs

    try:
        uri = check_tracking_available()
    except MlopsError as exc:
        raise _Failed(str(exc), "unset MLFLOW_TRACKING_URI or fix its path") from None
    database = Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None
    if database is None or not database.is_file():
        return f"{uri} writable"
    killed = close_dead_local_runs()
    closed = f"; {len(killed)} run(s) of dead processes marked KILLED" if killed else ""
    return f"{uri} writable{closed}"


# --------------------------------------------------------------------------- runner
def run_checks(
    settings: ServiceSettings, *, dvc_repo: Path = PROJECT_ROOT, echo: Callable[[str], None] = print
) -> list[Check]:
    """Run every check, echoing each line as it completes; return the results."""
    # (name, check, the check it needs): a check whose prerequisite failed is not
    # attempted, so a dead S3 is reported at once instead of after the server's retries.
    server_checks: list[tuple[str, Callable[[], str], str | None]] = [
        ("credentials", lambda: check_credentials(settings), None),
        ("S3 reachable", lambda: check_s3_reachable(settings), None),
        ("S3 buckets", lambda: check_s3_buckets(settings), "S3 reachable"),
        ("MLflow server", lambda: check_mlflow_health(settings), None),
        ("MLflow auth", lambda: check_mlflow_auth(settings), "MLflow server"),
        ("MLflow artifacts", lambda: check_mlflow_artifacts(settings), "S3 reachable"),
        ("ZenML server", lambda: check_zenml_server(settings), None),
        ("ZenML stack", lambda: check_zenml_stack(settings), "ZenML server"),
        ("DVC remote", lambda: check_dvc_remote(settings, dvc_repo), None),
    ]
    checks: list[tuple[str, Callable[[], str], str | None]] = [
        ("venv", lambda: check_venv(settings), None),
        ("versions", lambda: check_versions(settings), None),
    ]
    if settings.selected:
        checks += server_checks
    else:
        checks.append(("MLflow store", lambda: check_embedded_store(settings), None))
    results: list[Check] = []
    failed: set[str] = set()
    for name, run, requires in checks:
        began = time.monotonic()
        try:
            if requires in failed:
                raise _Failed(f"not attempted: {requires} failed", "fix that first")
            result = Check(name, True, run())
        except _Failed as failure:
            result = Check(name, False, failure.detail, failure.hint)
        except Exception as exc:  # a check never hides the others
            result = Check(name, False, f"{type(exc).__name__}: {exc}".splitlines()[0])
        if not result.ok:
            failed.add(name)
        if time.monotonic() - began > 10:
            result = Check(
                result.name,
                result.ok,
                f"{result.detail} [{time.monotonic() - began:.0f} s]",
                result.hint,
            )
        results.append(result)
        echo(result.line)
    if not settings.selected:
        for name, _, _ in server_checks:
            result = Check(
                name,
                None,
                "skipped: no server selected",
            )
            results.append(result)
            echo(result.line)
    return results


def run_doctor(settings: ServiceSettings, *, dvc_repo: Path = PROJECT_ROOT) -> int:
    """Print one line per check and a summary; return 1 if any check failed, else 0."""
    mode = (
        "server stack"
        if settings.selected
        else "embedded default: no http MLFLOW_TRACKING_URI, ZENML_STORE_URL or S3_ENDPOINT_URL"
    )
    print(f"mlops-reference doctor ({mode})")
    results = run_checks(settings, dvc_repo=dvc_repo)
    failed = [result.name for result in results if result.ok is False]
    print(f"{len(failed)} check(s) failed: {', '.join(failed)}" if failed else "All checks passed.")
    return 1 if failed else 0
