"""Fetching COCO128 over HTTP from a server on 127.0.0.1: checked, swapped in, one-line errors."""

from __future__ import annotations

import hashlib
import io
import re
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from src.cv.dataset import SYNTHETIC_MARKER
from src.cv.dataset.download import download_coco128, fetch_coco128
from src.errors import DataError, OutputError, ServiceError

ROOT = Path(__file__).resolve().parents[3]


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _zip(pristine: Path, top: str = "coco128/", skip: str | None = None) -> bytes:
    """Return a zip of ``pristine`` laid out like the official one (``coco128/`` on top)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(f"{top}LICENSE", "GNU AGPL\n")
        zf.writestr(f"{top}README.txt", "first 128 images of COCO train2017\n")
        for path in sorted(pristine.rglob("*")):
            rel = path.relative_to(pristine).as_posix()
            if path.name == SYNTHETIC_MARKER or (skip and rel.startswith(skip)):
                continue  # the real archive has no marker
            if path.is_file():
                zf.write(path, f"{top}{rel}")
    return buffer.getvalue()


class _Server:
    """An HTTP server on a free 127.0.0.1 port serving ``routes`` (path -> body)."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.cut_short: set[str] = set()
        self.unsized: set[str] = set()  # served without a Content-Length
        routes, cut_short, unsized = self.routes, self.cut_short, self.unsized

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = routes.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                if self.path not in unsized:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.close_connection = True  # the end of the body is the hang-up
                self.end_headers()
                # A cut-short transfer announces the whole length, then hangs up halfway.
                self.wfile.write(body[: len(body) // 2] if self.path in cut_short else body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll: shutdown() waits for it, and every test stops a server.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    served = _Server()
    yield served
    served.close()


@pytest.fixture
def stalled_url() -> Iterator[str]:
    """Return a URL whose server accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)  # the kernel completes the handshake; nobody ever reads or writes
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/coco128.zip"
    sock.close()


def _only(parent: Path, *names: str) -> None:
    """Assert ``parent`` holds exactly ``names``: no staging folder, no partial download."""
    assert sorted(p.name for p in parent.iterdir()) == sorted(names)


# --------------------------------------------------------------------------- success
def test_downloads_the_official_layout(server: _Server, pristine: Path, tmp_path: Path) -> None:
    archive = _zip(pristine)
    server.routes["/coco128.zip"] = archive
    dest = tmp_path / "data" / "coco128"
    seen: list[tuple[int, int | None]] = []
    result = download_coco128(
        dest,
        f"{server.base}/coco128.zip",
        sha256=hashlib.sha256(archive).hexdigest(),
        progress=lambda got, total: seen.append((got, total)),
    )
    assert result == dest
    expected = {k: v for k, v in _tree(pristine).items() if k != SYNTHETIC_MARKER}
    assert {k: v for k, v in _tree(dest).items() if k not in ("LICENSE", "README.txt")} == expected
    assert seen[-1] == (len(archive), len(archive))
    assert [got for got, _ in seen] == sorted(got for got, _ in seen)
    _only(dest.parent, "coco128")

    server.routes.clear()  # present: nothing is fetched again (the server would say 404)
    assert download_coco128(dest, f"{server.base}/coco128.zip") == dest


def test_a_zip_without_a_top_folder_works_too(
    server: _Server, pristine: Path, tmp_path: Path
) -> None:
    server.routes["/flat.zip"] = _zip(pristine, top="")
    dest = download_coco128(tmp_path / "coco128", f"{server.base}/flat.zip")
    assert (dest / "images" / "train2017").is_dir() and (dest / "labels" / "train2017").is_dir()


# --------------------------------------------------------------------------- failures
def test_http_404_is_a_service_error(server: _Server, tmp_path: Path) -> None:
    url = f"{server.base}/missing.zip"
    with pytest.raises(ServiceError) as info:
        download_coco128(tmp_path / "coco128", url)
    assert str(info.value) == f"{url}: download failed (HTTP 404 Not Found)"
    _only(tmp_path)


def test_a_truncated_zip_is_a_data_error(server: _Server, pristine: Path, tmp_path: Path) -> None:
    archive = _zip(pristine)
    server.routes["/truncated.zip"] = archive[: len(archive) // 2]
    with pytest.raises(DataError, match="not a complete zip archive"):
        download_coco128(tmp_path / "coco128", f"{server.base}/truncated.zip")
    _only(tmp_path)


def test_a_transfer_cut_short_is_a_service_error(
    server: _Server, pristine: Path, tmp_path: Path
) -> None:
    server.routes["/cut.zip"] = _zip(pristine)
    server.cut_short.add("/cut.zip")
    with pytest.raises(ServiceError, match="cut short"):
        download_coco128(tmp_path / "coco128", f"{server.base}/cut.zip")
    _only(tmp_path)


def test_a_zip_without_images_is_a_data_error(
    server: _Server, pristine: Path, tmp_path: Path
) -> None:
    server.routes["/noimages.zip"] = _zip(pristine, skip="images/")
    url = f"{server.base}/noimages.zip"
    with pytest.raises(DataError) as info:
        download_coco128(tmp_path / "coco128", url)
    assert str(info.value) == f"{url}: the archive has no images/train2017/ folder"
    server.routes["/nolabels.zip"] = _zip(pristine, skip="labels/")
    with pytest.raises(DataError, match="has no labels/train2017/ folder"):
        download_coco128(tmp_path / "coco128", f"{server.base}/nolabels.zip")
    _only(tmp_path)


def test_a_sha256_mismatch_is_a_data_error(server: _Server, pristine: Path, tmp_path: Path) -> None:
    archive = _zip(pristine)
    server.routes["/coco128.zip"] = archive
    with pytest.raises(DataError) as info:
        download_coco128(tmp_path / "coco128", f"{server.base}/coco128.zip", sha256="0" * 64)
    assert f"sha256 {hashlib.sha256(archive).hexdigest()} does not match" in str(info.value)
    _only(tmp_path)


def test_a_stalled_server_times_out(stalled_url: str, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(ServiceError) as info:
        download_coco128(tmp_path / "coco128", stalled_url, timeout=0.5)
    assert time.monotonic() - start < 5
    assert str(info.value) == f"{stalled_url}: download failed (no answer for 0.5 s)"
    _only(tmp_path)


def test_a_failure_keeps_the_previous_folder(
    server: _Server, pristine: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "coco128"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    server.routes["/coco128.zip"] = _zip(pristine)
    with pytest.raises(OutputError, match="is not empty"):
        download_coco128(dest, f"{server.base}/coco128.zip")
    assert _tree(dest) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}
    _only(tmp_path, "coco128")


def test_download_refuses_the_synthetic_stand_in(pristine: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="synthetic COCO128 stand-in"):
        download_coco128(pristine, (tmp_path / "never-fetched.zip").as_uri())


def test_local_file_urls_fail_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="download failed"):
        download_coco128(tmp_path / "c", (tmp_path / "absent.zip").as_uri())
    bogus = tmp_path / "bogus.zip"
    bogus.write_text("not a zip")
    with pytest.raises(DataError, match="not a complete zip archive"):
        download_coco128(tmp_path / "c", bogus.as_uri())
    _only(tmp_path, "bogus.zip")


# --------------------------------------------------------------------------- progress, CLI
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("sized", [True, False])
def test_the_byte_bar_goes_to_a_terminal_only(
    server: _Server, pristine: Path, tmp_path: Path, sized: bool
) -> None:
    archive = _zip(pristine)
    server.routes["/coco128.zip"] = archive
    if not sized:
        server.unsized.add("/coco128.zip")
    url = f"{server.base}/coco128.zip"
    lines: list[str] = []
    screen = _Terminal()
    fetch_coco128(tmp_path / "a", url, sha256=None, timeout=10, echo=lines.append, stream=screen)
    drawn = screen.getvalue()
    assert drawn.startswith("\rCOCO128:") and drawn.endswith("\n")  # closed: its line ended
    kib = f"{len(archive) / 1024:.1f}k"
    if sized:  # the Content-Length gives the total: a bar up to 100 %
        assert re.search(rf"\rCOCO128: 100%\|#+\| {kib}/{kib} \[", drawn)
    else:  # no total: a byte counter
        assert "%" not in drawn and f"\rCOCO128: {kib}B [" in drawn

    pipe = io.StringIO()  # not a terminal: nothing at all
    fetch_coco128(tmp_path / "b", url, sha256=None, timeout=10, echo=lines.append, stream=pipe)
    assert pipe.getvalue() == ""
    assert lines == [f"downloading COCO128 from {url} into {tmp_path / d} ..." for d in "ab"]
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.integration  # fresh interpreters: seconds, kept out of the fast lane
def test_the_tools_exit_non_zero_with_one_line(
    server: _Server, stalled_url: str, pristine: Path, tmp_path: Path
) -> None:
    download = str(ROOT / "tools" / "download_coco128.py")
    tiny = str(ROOT / "tools" / "make_tiny_person_from_coco128.py")
    missing = f"{server.base}/missing.zip"
    result = _cli(download, "--out", "c128", "--url", missing, cwd=tmp_path)
    assert result.returncode == ServiceError.exit_code
    assert (
        result.stderr.splitlines()[-1] == f"error: {missing}: download failed (HTTP 404 Not Found)"
    )
    result = _cli(download, "--out", "c", "--url", stalled_url, "--timeout", "0.5", cwd=tmp_path)
    assert result.returncode == ServiceError.exit_code
    assert result.stderr == f"error: {stalled_url}: download failed (no answer for 0.5 s)\n"

    archive = _zip(pristine)
    server.routes["/coco128.zip"] = archive
    url = f"{server.base}/coco128.zip"
    argv = ["--source", "c128", "--out", "tp", "--url", url, "--max-images", "all"]
    result = _cli(tiny, "--download", *argv, "--sha256", "f" * 64, cwd=tmp_path)
    assert result.returncode == DataError.exit_code
    assert result.stderr.count("\n") == 1 and "does not match" in result.stderr
    _only(tmp_path)
    sha = hashlib.sha256(archive).hexdigest()
    result = _cli(tiny, "--download", *argv, "--sha256", sha, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tiny person dataset: tp (train" in result.stdout
    assert (tmp_path / "c128" / "images" / "train2017").is_dir()
    assert "[" not in result.stderr, "no progress bar when stderr is not a terminal"
