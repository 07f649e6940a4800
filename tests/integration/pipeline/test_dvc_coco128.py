"""The with-internet path in a fresh copy of the repo: `make cv-data-coco128` against a zip
served on 127.0.0.1 downloads through DVC, cuts data/tiny_person from it and versions both."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from src.config import SyntheticCocoParams, set_param
from src.cv.dataset import SYNTHETIC_MARKER
from src.cv.dataset.synthetic import make_synthetic_coco128
from tests.repo_copy import ROOT, copy_repo, tool_env


def _coco128_zip(root: Path) -> bytes:
    """Return a small zip in the official layout (``coco128/images/train2017/...``)."""
    source = root / "source"
    make_synthetic_coco128(source, SyntheticCocoParams(images=24, imgsz=64, seed=3))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.name != SYNTHETIC_MARKER:
                zf.write(path, f"coco128/{path.relative_to(source).as_posix()}")
    return buffer.getvalue()


@pytest.fixture
def served_zip(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """Return the URL of a COCO128-layout zip on 127.0.0.1 and the paths requested so far."""
    body, requests = _coco128_zip(tmp_path), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/coco128.zip", requests
    httpd.shutdown()
    httpd.server_close()


def _run(repo: Path, *command: str) -> str:
    result = subprocess.run(
        command, cwd=repo, env=tool_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def test_make_cv_data_coco128_downloads_through_dvc(
    tmp_path: Path, served_zip: tuple[str, list[str]]
) -> None:
    url, requests = served_zip
    repo = copy_repo(tmp_path / "repo")
    assert "download_coco128" not in _run(repo, "dvc", "dag"), "offline: no download stage"
    set_param(repo / "params.yaml", "cv.download.url", url)

    venv = f"VENV={ROOT / '.venv'}"  # the project's venv: nothing is installed in the copy
    output = _run(repo, "make", "-s", "cv-data-coco128", venv)
    assert requests == ["/coco128.zip"]
    assert "Running stage 'download_coco128@data/coco128'" in output
    assert "make_synthetic_coco128" not in output, "the stand-in is not built"
    assert (repo / "data" / "coco128" / "images" / "train2017").is_dir()
    assert not (repo / "data" / "coco128_synthetic").exists()

    params = yaml.safe_load((repo / "params.yaml").read_text())["cv"]
    assert params["dataset"]["source"] == "data/coco128"
    assert params["download"]["into"] == ["data/coco128"]
    manifest = json.loads((repo / "data" / "tiny_person" / "manifest.json").read_text())
    assert manifest["source"]["path"] == "data/coco128"
    assert manifest["source"]["description"].startswith("COCO128-layout folder")
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    assert lock["make_tiny_person"]["deps"][0]["path"] == "data/coco128"
    assert lock["download_coco128@data/coco128"]["outs"][0]["path"] == "data/coco128"

    # What `make zenml-baseline`'s data step checks; a second repro requests nothing.
    status = _run(repo, "dvc", "status", "--with-deps", "make_tiny_person")
    assert "up to date" in status
    again = _run(repo, "dvc", "repro", "make_tiny_person")
    assert "Running stage" not in again and requests == ["/coco128.zip"]

    remote = tmp_path / "remote"
    _run(repo, "dvc", "remote", "add", "-d", "local", str(remote))
    _run(repo, "dvc", "push")
    pushed = {p.name for p in remote.rglob("*.dir")}
    recorded = {lock[s]["outs"][0]["md5"].removesuffix(".dir")[2:] + ".dir" for s in
                ("download_coco128@data/coco128", "make_tiny_person")}  # fmt: skip
    assert recorded <= pushed, "both the download and the dataset are versioned"
