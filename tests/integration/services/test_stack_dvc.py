"""DVC round trip through the S3 remote that ``make stack-register`` configured."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from src.io_utils import sha256_file
from tests.integration.services.conftest import PY, Stack


def test_dvc_push_wipe_pull_gives_identical_files(stack: Stack) -> None:
    repo = stack.dvc_repo
    data = repo / "data"
    (data / "nested").mkdir(parents=True)
    (data / "table.csv").write_text("id,value\n" + "".join(f"{i},{i * i}\n" for i in range(500)))
    (data / "nested" / "blob.bin").write_bytes(os.urandom(256 * 1024))
    before = {
        path.relative_to(repo): sha256_file(path) for path in data.rglob("*") if path.is_file()
    }
    dvc = str(Path(PY).parent / "dvc")

    stack.run(dvc, "add", "-q", "data", cwd=repo)
    pushed = stack.run(dvc, "push", cwd=repo)  # the default remote: minio
    assert "pushed" in pushed.stdout
    remote_keys = stack.bucket_keys("dvc", "stack-test/files/md5/")
    assert len(remote_keys) >= 3  # two files and the directory listing

    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(data)
    stack.run(dvc, "pull", cwd=repo)
    after = {
        path.relative_to(repo): sha256_file(path) for path in data.rglob("*") if path.is_file()
    }
    assert after == before
