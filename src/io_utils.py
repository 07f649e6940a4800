"""Atomic file and folder writes, content hashes, and how paths are shown.

Outputs are written to a temporary file in the target directory and renamed into
place, so a crash or a bad input never leaves a half-written or truncated file
where a good one used to be. :func:`staged_directory` does the same for a whole folder
(a dataset, a training run): it is built next to its target and swapped into place only
when the build succeeded, so a failure never destroys a folder that already exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from src.errors import OutputError
from src.runtime_env import PROJECT_ROOT


def project_relative(path: Path) -> str | None:
    """Return ``path`` resolved and relative to the project root (posix); None if outside it."""
    try:
        return Path(path).resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return None


def display_path(path: Path) -> str:
    """Return ``path`` as messages and manifests show it: project-relative, else as given.

    Inside the project the text is the same on every machine and from any working directory.
    """
    relative = project_relative(path)
    return str(path) if relative is None else relative


def ensure_writable_dir(directory: Path) -> Path:
    """Return ``directory`` after creating it; raise OutputError if it cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot create directory ({exc.strerror})") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{directory}: directory is not writable")
    return directory


def current_umask() -> int:
    """Return the process's umask without changing it (Linux reads it from /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting, then put back at once
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    ensure_writable_dir(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file 0600; an ordinary output follows the user's umask instead.
    os.chmod(tmp, 0o666 & ~current_umask())
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot write ({exc.strerror})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(target: Path, write: Callable[[IO[Any]], object], mode: str = "w") -> Path:
    """Write ``target`` atomically with ``write(fileobj)``; return ``target``."""
    with atomic_path(target) as tmp, open(tmp, mode) as handle:
        write(handle)
    return Path(target)


def atomic_write_text(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` atomically."""
    return atomic_write(target, lambda fh: fh.write(text))


def atomic_write_bytes(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    return atomic_write(target, lambda fh: fh.write(data), mode="wb")


def atomic_write_json(target: Path, payload: Any) -> Path:
    """Write ``payload`` as stable, indented JSON (sorted keys, trailing newline)."""
    return atomic_write_text(target, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def _is_replaceable(target: Path, marker: str | None) -> bool:
    """Return True when ``target`` is empty or carries ``marker`` (a file this tool writes)."""
    if not any(target.iterdir()):
        return True
    return marker is not None and (target / marker).is_file()


@contextmanager
def staged_directory(target: Path, *, marker: str | None) -> Iterator[Path]:
    """Yield an empty folder next to ``target``; it replaces ``target`` when the block succeeds.

    ``marker`` names a file that proves an existing ``target`` was written by the same tool
    (``manifest.json``); any other non-empty folder is refused rather than deleted, so a
    mistyped ``--out`` cannot wipe unrelated files. If the block raises, the staging folder
    is removed and ``target`` is left exactly as it was.
    """
    target = Path(target)
    if target.exists():
        if not target.is_dir():
            raise OutputError(f"{target}: exists and is not a directory")
        if not _is_replaceable(target, marker):
            what = f"has no {marker}" if marker else "is not empty"
            raise OutputError(
                f"{target}: exists and {what}, so it was not written by this tool; "
                "remove it or choose another output folder"
            )
    ensure_writable_dir(target.parent)
    # A hidden sibling on the same filesystem, so the final rename is cheap and atomic.
    staging = target.with_name(f".{target.name}.building-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"{staging}: cannot create directory ({exc.strerror})") from exc
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_into_place(staging, target)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``, keeping the old ``target`` until the rename worked."""
    backup: Path | None = None
    try:
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
            os.rename(target, backup)
        os.rename(staging, target)
    except OSError as exc:
        if backup is not None and backup.exists() and not target.exists():
            os.rename(backup, target)
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{target}: cannot replace ({exc.strerror})") from exc
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def md5_file(path: Path) -> str:
    """Return the md5 of a file's bytes: the hash DVC records for it in dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """Return the hex sha256 of a string (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done (a short commit: renames, registry).

    A signal that arrives meanwhile is recorded and raised again when the block ends, so
    the interruption still happens, only not between two steps that belong together.
    Python runs signal handlers in the main thread only; elsewhere the block runs as is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, _: arrived.append(signum)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(arrived):
            signal.raise_signal(signum)
