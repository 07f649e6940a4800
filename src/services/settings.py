"""The stack's configuration, read once from the environment (which ``.env`` fills).

The same variables drive both ways to run the servers: ``docker-compose.yml``
interpolates them and :mod:`src.services.processes` reads them here, so one
``.env`` selects the stack for the trainers, the ZenML client, DVC and the tools.
Nothing in this module talks to a server.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from src.errors import ConfigError
from src.runtime_env import PROJECT_ROOT

#: Buckets the stack needs; compose's ``minio-init`` creates the same three.
MLFLOW_BUCKET = "mlflow"
ZENML_BUCKET = "zenml"
DVC_BUCKET = "dvc"
BUCKETS: tuple[str, ...] = (MLFLOW_BUCKET, ZENML_BUCKET, DVC_BUCKET)

#: The DVC remote ``make stack-register`` configures (ZenML names: src.zenml_setup.server_stack).
DVC_REMOTE_NAME = "minio"

#: Variables that select or describe the server stack (documented in ``.env.example``).
STACK_VARIABLES: tuple[str, ...] = (
    "STACK_HOST",
    "S3_PORT",
    "MLFLOW_PORT",
    "ZENML_PORT",
    "S3_ENDPOINT_URL",
    "MLFLOW_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "MLFLOW_TRACKING_URI",
    "ZENML_STORE_URL",
    "ZENML_ADMIN_USERNAME",
    "ZENML_ADMIN_PASSWORD",
    "ZENML_STACK_NAME",
    "ZENML_ARTIFACT_PATH",
    "ZENML_CONFIG_PATH",
    "DVC_REMOTE_URL",
    "STACK_RUN_DIR",
    "STACK_S3_ENFORCE_AUTH",
    "STACK_ALLOW_REMOTE",
    "MLFLOW_AUTH_ADMIN_USERNAME",
    "MLFLOW_AUTH_ADMIN_PASSWORD",
    "MLFLOW_FLASK_SERVER_SECRET_KEY",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "ZENML_SECRETS_STORE_ENCRYPTION_KEY",
)

_TRUE = ("1", "true", "yes")


def is_loopback(host: str) -> bool:
    """True if ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a TCP port number") from None
    if not 1 <= value <= 65535:
        raise ConfigError(f"{name}={value}: a TCP port is between 1 and 65535")
    return value


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = (env.get(name) or default).rstrip("/")
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(f"{name}={value!r}: expected a {' or '.join(schemes)} URL")
    return value


@dataclass(frozen=True)
class ServiceSettings:
    """Where each service of the server stack is, and the credentials to use it."""

    host: str = "127.0.0.1"
    s3_port: int = 9000
    mlflow_port: int = 5000
    zenml_port: int = 8080
    s3_endpoint_url: str = "http://127.0.0.1:9000"
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    mlflow_url: str = "http://127.0.0.1:5000"
    zenml_url: str = "http://127.0.0.1:8080"
    zenml_username: str = "admin"
    zenml_password: str = field(default="", repr=False)
    #: The MLflow server's admin account (basic-auth app), created on its first start.
    mlflow_admin_username: str = "admin"
    mlflow_admin_password: str = field(default="", repr=False)
    mlflow_flask_secret_key: str = field(default="", repr=False)
    #: What MLflow clients send: MLFLOW_TRACKING_USERNAME/PASSWORD, else the admin account.
    tracking_username: str = "admin"
    tracking_password: str = field(default="", repr=False)
    #: Encrypts the ZenML server's secrets store (AES-GCM; ZenML hashes it into the key).
    zenml_encryption_key: str = field(default="", repr=False)
    zenml_stack_name: str = "s3_mlflow_stack"
    zenml_artifact_path: str = f"s3://{ZENML_BUCKET}/mlops-reference"
    dvc_remote_url: str = f"s3://{DVC_BUCKET}/mlops-reference"
    run_dir: Path = PROJECT_ROOT / ".stack"
    #: The no-Docker S3 server checks keys like MinIO does (tests turn it off only
    #: when they need to prove the opposite).
    s3_enforce_auth: bool = True
    #: STACK_ALLOW_REMOTE=1: the user accepts a STACK_HOST other machines can reach.
    allow_remote: bool = False
    #: True when the environment asks for the server stack (any of its URLs is set).
    selected: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceSettings:
        """Return the settings in ``env`` (default ``os.environ``); raise ConfigError if invalid."""
        env = os.environ if env is None else env
        host = env.get("STACK_HOST") or "127.0.0.1"
        allow_remote = (env.get("STACK_ALLOW_REMOTE") or "").lower() in _TRUE
        if not is_loopback(host) and not allow_remote:
            raise ConfigError(
                f"STACK_HOST={host!r} is not a loopback address: the servers would be reachable "
                "from other machines; keep 127.0.0.1, or set STACK_ALLOW_REMOTE=1 in .env "
                "to accept that"
            )
        mlflow_admin = env.get("MLFLOW_AUTH_ADMIN_USERNAME") or "admin"
        mlflow_admin_password = env.get("MLFLOW_AUTH_ADMIN_PASSWORD", "")
        s3_port = _port(env, "S3_PORT", 9000)
        mlflow_port = _port(env, "MLFLOW_PORT", 5000)
        zenml_port = _port(env, "ZENML_PORT", 8080)
        s3_default = env.get("MLFLOW_S3_ENDPOINT_URL") or f"http://{host}:{s3_port}"
        tracking = env.get("MLFLOW_TRACKING_URI", "")
        # An embedded (sqlite) tracking URI is no server URL: fall back to the port.
        mlflow_default = tracking if tracking.startswith(("http://", "https://")) else ""
        mlflow_url = _url(
            {"MLFLOW_TRACKING_URI": mlflow_default},
            "MLFLOW_TRACKING_URI",
            f"http://{host}:{mlflow_port}",
            ("http", "https"),
        )
        run_dir = Path(env.get("STACK_RUN_DIR") or PROJECT_ROOT / ".stack")
        artifact_path = (env.get("ZENML_ARTIFACT_PATH") or cls.zenml_artifact_path).rstrip("/")
        dvc_url = (env.get("DVC_REMOTE_URL") or cls.dvc_remote_url).rstrip("/")
        for name, value in (("ZENML_ARTIFACT_PATH", artifact_path), ("DVC_REMOTE_URL", dvc_url)):
            if not value.startswith("s3://") or len(value) <= len("s3://"):
                raise ConfigError(f"{name}={value!r}: expected s3://<bucket>/<prefix>")
        return cls(
            host=host,
            s3_port=s3_port,
            mlflow_port=mlflow_port,
            zenml_port=zenml_port,
            s3_endpoint_url=_url(env, "S3_ENDPOINT_URL", s3_default, ("http", "https")),
            region=env.get("AWS_DEFAULT_REGION") or "us-east-1",
            access_key_id=env.get("AWS_ACCESS_KEY_ID", ""),
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", ""),
            mlflow_url=mlflow_url,
            zenml_url=_url(
                env, "ZENML_STORE_URL", f"http://{host}:{zenml_port}", ("http", "https")
            ),
            zenml_username=env.get("ZENML_ADMIN_USERNAME") or "admin",
            zenml_password=env.get("ZENML_ADMIN_PASSWORD", ""),
            mlflow_admin_username=mlflow_admin,
            mlflow_admin_password=mlflow_admin_password,
            mlflow_flask_secret_key=env.get("MLFLOW_FLASK_SERVER_SECRET_KEY", ""),
            tracking_username=env.get("MLFLOW_TRACKING_USERNAME") or mlflow_admin,
            tracking_password=env.get("MLFLOW_TRACKING_PASSWORD") or mlflow_admin_password,
            zenml_encryption_key=env.get("ZENML_SECRETS_STORE_ENCRYPTION_KEY", ""),
            zenml_stack_name=env.get("ZENML_STACK_NAME") or cls.zenml_stack_name,
            zenml_artifact_path=artifact_path,
            dvc_remote_url=dvc_url,
            run_dir=run_dir if run_dir.is_absolute() else PROJECT_ROOT / run_dir,
            s3_enforce_auth=(env.get("STACK_S3_ENFORCE_AUTH") or "true").lower()
            not in ("0", "false", "no"),
            allow_remote=allow_remote,
            selected=bool(
                mlflow_default or env.get("ZENML_STORE_URL") or env.get("S3_ENDPOINT_URL")
            ),
        )

    def credential_values(self) -> dict[str, str]:
        """Return the credential variables every stack needs, by name."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "ZENML_ADMIN_PASSWORD": self.zenml_password,
            "MLFLOW_AUTH_ADMIN_PASSWORD": self.mlflow_admin_password,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": self.mlflow_flask_secret_key,
            "ZENML_SECRETS_STORE_ENCRYPTION_KEY": self.zenml_encryption_key,
        }

    @property
    def remote_warning(self) -> str | None:
        """Return the warning to print when the servers listen beyond loopback (opted in)."""
        if is_loopback(self.host):
            return None
        return (
            f"warning: STACK_HOST={self.host} (STACK_ALLOW_REMOTE=1): the servers are reachable "
            "from other machines; only their passwords and keys protect them, over plain HTTP"
        )

    def mlflow_auth(self) -> tuple[str, str]:
        """Return the (username, password) MLflow clients of the stack send."""
        return self.tracking_username, self.tracking_password

    def credential_problems(self) -> list[str]:
        """Return what is wrong with the credentials: unset, a placeholder, or too short."""
        from src.services.secrets import credential_problems

        values = self.credential_values()
        return credential_problems(values, tuple(values))

    def require_credentials(self) -> None:
        """Raise ConfigError naming each unset, placeholder or short credential variable."""
        from src.services.secrets import require_strong

        values = self.credential_values()
        require_strong(values, tuple(values))

    def s3_client(
        self,
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeout: float = 10.0,
    ) -> Any:
        """Return a boto3 S3 client on the stack's endpoint (few retries: fail fast)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint_url,
            region_name=self.region,
            aws_access_key_id=access_key_id or self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 1, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )
