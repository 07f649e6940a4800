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
