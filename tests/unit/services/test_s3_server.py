"""The no-Docker S3 server keeps its objects across a stop and a start."""

from __future__ import annotations

import socket
from pathlib import Path


def test_s3_objects_survive_save_and_load(tmp_path: Path) -> None:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from src.services.s3_server import _client, load_objects, save_objects

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer("127.0.0.1", port, verbose=False)
    server.start()
    try:
        client = _client("127.0.0.1", port)
        client.create_bucket(Bucket="dvc")
        keys = {"files/md5/ab/cdef": b"\x00\x01binary", "a key/with spaces and é.txt": b"text"}
        for key, body in keys.items():
            client.put_object(Bucket="dvc", Key=key, Body=body)
        assert save_objects(client, tmp_path / "s3-data") == 2
        for key in keys:
            client.delete_object(Bucket="dvc", Key=key)
        client.delete_bucket(Bucket="dvc")
        assert load_objects(client, tmp_path / "s3-data") == 2
        for key, body in keys.items():
            assert client.get_object(Bucket="dvc", Key=key)["Body"].read() == body
    finally:
        server.stop()


def test_anonymous_requests_get_403_and_signed_ones_work() -> None:
    import urllib.error
    import urllib.request

    import pytest

    from src.services.s3_server import S3Server, _client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = S3Server("127.0.0.1", port, refuse_anonymous=True)
    server.start()
    try:
        for method, path in (("GET", "/"), ("PUT", "/anonymous-bucket")):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            # S3's own refusal, not moto's 500 on the missing Authorization header.
            assert refused.value.code == 403
            assert b"<Code>AccessDenied</Code>" in refused.value.read()
        client = _client("127.0.0.1", port)  # signed: passed on to moto
        client.create_bucket(Bucket="signed")
        names = {bucket["Name"] for bucket in client.list_buckets()["Buckets"]}
        assert "signed" in names and "anonymous-bucket" not in names
    finally:
        server.stop()
