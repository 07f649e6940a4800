"""An S3-compatible server on loopback: moto's, with the stack's keys enforced like MinIO.

    python -m src.services.s3_server --host 127.0.0.1 --port 9000

No MinIO binary can be had without Docker here, so the no-Docker stack uses moto's
standalone server. Out of the box moto accepts any key; this launcher seeds one
IAM user holding ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` and switches
request authentication on, so a wrong key is refused (``InvalidAccessKeyId``,
``SignatureDoesNotMatch``) and an unsigned request gets 403 ``AccessDenied``, exactly as
MinIO would refuse them.

moto keeps objects in memory. With ``--data-dir`` they are written there on a clean
stop (SIGTERM) and loaded back on start, so the buckets outlive a restart as they
would on MinIO's volume (a killed process loses what changed since its start).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

#: The seeded user may do anything: it plays MinIO's root user.
_ALLOW_ALL = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)


def seed_credentials(access_key_id: str, secret_access_key: str) -> None:
    """Register ``access_key_id``/``secret_access_key`` as the only accepted key pair."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    backend = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_user(region_name="us-east-1", user_name="stack-root", path="/", tags=[])
    key = backend.create_access_key("stack-root")
    # moto generates random keys; the stack's keys come from .env instead.
    key.access_key_id = access_key_id
    key.secret_access_key = secret_access_key
    backend.put_user_policy("stack-root", "allow-all", _ALLOW_ALL)


def _client(host: str, port: int) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "unchecked",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "unchecked",
        config=Config(s3={"addressing_style": "path"}),
    )


def load_objects(client: Any, data_dir: Path) -> int:
    """Upload the buckets saved in ``data_dir``; return how many objects were restored."""
    manifest = data_dir / "manifest.json"
    if not manifest.is_file():
        return 0
    saved: dict[str, list[list[str]]] = json.loads(manifest.read_text())
    count = 0
    for bucket, entries in saved.items():
        client.create_bucket(Bucket=bucket)
        for key, blob in entries:
            client.put_object(Bucket=bucket, Key=key, Body=(data_dir / "blobs" / blob).read_bytes())
            count += 1
    return count


def save_objects(client: Any, data_dir: Path) -> int:
    """Write every bucket's objects under ``data_dir``; return how many were saved."""
    staging = data_dir.with_name(data_dir.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "blobs").mkdir(parents=True)
    saved: dict[str, list[list[str]]] = {}
    count = 0
    for bucket in client.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        entries = saved.setdefault(name, [])
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                # Keys may hold any character and be long: files are named by hash.
                blob = hashlib.sha256(f"{name}/{item['Key']}".encode()).hexdigest()
                body = client.get_object(Bucket=name, Key=item["Key"])["Body"].read()
                (staging / "blobs" / blob).write_bytes(body)
                entries.append([item["Key"], blob])
                count += 1
    (staging / "manifest.json").write_text(json.dumps(saved))
    # Swap only once the copy is complete, so a failure keeps the previous state.
    if data_dir.exists():
        shutil.rmtree(data_dir)
    staging.rename(data_dir)
    return count


class S3Server:
    """moto's S3 in a background thread of this process, unsigned requests refused if asked."""

    def __init__(self, host: str, port: int, *, refuse_anonymous: bool) -> None:
        self.host, self.port, self.refuse_anonymous = host, port, refuse_anonymous
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind ``host:port`` and serve in a daemon thread (listening when this returns)."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from src.workarounds import refuse_anonymous_s3

        app: Any = DomainDispatcherApplication(create_backend_app)
        if self.refuse_anonymous:
            app = refuse_anonymous_s3(app)
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()


def serve(host: str, port: int, *, enforce_auth: bool, data_dir: Path | None = None) -> None:
    """Serve S3 on ``host:port`` until SIGTERM or SIGINT, persisting to ``data_dir``."""
    if enforce_auth:
        # Read by moto.settings at import time: authenticate every request from the first.
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"

    if enforce_auth:
        access_key = os.environ.get("AWS_ACCESS_KEY_ID", "")
        secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        if not access_key or not secret_key:
            raise SystemExit("s3_server: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")
        seed_credentials(access_key, secret_key)
    # One log line per request would bury the start/stop lines in .stack/s3.log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = S3Server(host, port, refuse_anonymous=enforce_auth)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    if data_dir is not None:
        restored = load_objects(_client(host, port), data_dir)
        print(f"s3_server: restored {restored} objects from {data_dir}", flush=True)
    print(
        f"s3_server: listening on http://{host}:{port} "
        f"(credentials {'enforced' if enforce_auth else 'not checked'})",
        flush=True,
    )
    stop.wait()
    if data_dir is not None:
        saved = save_objects(_client(host, port), data_dir)
        print(f"s3_server: saved {saved} objects to {data_dir}", flush=True)
    server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--no-auth", action="store_true", help="accept any key (moto's default)")
    parser.add_argument("--data-dir", type=Path, help="save objects here on stop, load on start")
    args = parser.parse_args(argv)
    serve(args.host, args.port, enforce_auth=not args.no_auth, data_dir=args.data_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
