"""Atomic file and folder writes, content hashes, and how paths are shown.

Outputs are written to a temporary file in the target directory and renamed into
place, so a crash or a bad input never leaves a half-written or truncated file
where a good one used to be. :func:`staged_directory` does the same for a whole folder
(a dataset, a training run): it is built next to its target and swapped into place only
when the build succeeded, so a failure never destroys a folder that already exists.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
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


def check_dir_creatable(directory: Path) -> None:
    """Raise OutputError unless ``directory`` exists writable or could be made; create nothing.

    For checks made long before the first write (a training): a run refused later leaves no
    empty folder behind.
    """
    existing = next(parent for parent in (directory, *directory.parents) if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{existing}: not a writable directory, so {directory} cannot be made")


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


#: A staging or backup sibling: ``.<name>.building-<pid>-<hex>`` or ``.<name>.old-<pid>-<hex>``.
_STAGING_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<kind>building|old)-(?P<pid>\d+)-[0-9a-f]{8}$")


def _sibling(target: Path, kind: str) -> Path:
    """Return a hidden sibling of ``target`` named for this process (kind: building or old)."""
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def staging_path(target: Path) -> Path:
    """Return a fresh path next to ``target`` to build it in (nothing is created).

    The name carries this process's PID, so :func:`remove_dead_staging` can tell a folder
    left by a killed process from one still in use.
    """
    return _sibling(Path(target), "building")


def new_staging_dir(target: Path, *, marker: str | None) -> Path:
    """Return a new empty folder next to ``target``, after checking ``target`` may be replaced.

    ``marker`` names a file that proves an existing ``target`` was written by the same tool
    (``manifest.json``); any other non-empty folder is refused rather than deleted, so a
    mistyped ``--out`` cannot wipe unrelated files.
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
    staging = staging_path(target)
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"{staging}: cannot create directory ({exc.strerror})") from exc
    return staging


@contextmanager
def staged_directory(target: Path, *, marker: str | None) -> Iterator[Path]:
    """Yield an empty folder next to ``target``; it replaces ``target`` when the block succeeds.

    See :func:`new_staging_dir` for ``marker``. If the block raises, the staging folder
    is removed and ``target`` is left exactly as it was.
    """
    staging = new_staging_dir(target, marker=marker)
    try:
        yield staging
        publish_staged([(staging, Path(target))])
    finally:
        remove_path(staging)


def remove_path(path: Path) -> None:
    """Remove a file, link or folder if it exists (no error when it is already gone)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        Path(path).unlink(missing_ok=True)


@contextmanager
def _folders_locked(folders: list[Path]) -> Iterator[None]:
    """Hold an exclusive flock on each folder (in a fixed order, so two callers cannot deadlock)."""
    handles: list[int] = []
    try:
        for folder in sorted(set(folders)):
            handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            handles.append(handle)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        for handle in reversed(handles):
            fcntl.flock(handle, fcntl.LOCK_UN)
            os.close(handle)


def publish_staged(moves: Sequence[tuple[Path, Path]]) -> None:
    """Move each staged file or folder onto its target, all of them or none.

    The old targets are kept until every move worked and put back if one fails
    (OutputError). The target folders are locked meanwhile, so two processes publishing to
    the same place take turns: what they publish is never mixed. A file target is never
    absent for a moment (a hard link keeps the old one); a folder is, between two renames.
    """
    moves = [(Path(staged), Path(target)) for staged, target in moves]
    done: list[tuple[Path, Path, Path | None, bool]] = []  # staged, target, backup, placed
    with _folders_locked([target.parent.resolve() for _, target in moves]):
        target = moves[0][1] if moves else Path()
        try:
            for staged, target in moves:
                backup: Path | None = None
                is_folder = target.is_dir() and not target.is_symlink()
                if target.exists() and is_folder != staged.is_dir():
                    found, wanted = ("directory", "file") if is_folder else ("file", "folder")
                    raise OutputError(f"{target}: is a {found}, expected a {wanted}; remove it")
                if target.exists() or target.is_symlink():
                    backup = _sibling(target, "old")
                    if is_folder:
                        os.rename(target, backup)
                    else:
                        try:
                            os.link(target, backup, follow_symlinks=False)
                        except OSError:  # a filesystem without hard links
                            shutil.copy2(target, backup, follow_symlinks=False)
                done.append((staged, target, backup, False))
                if is_folder or not target.exists():
                    os.rename(staged, target)
                else:
                    os.replace(staged, target)
                done[-1] = (staged, target, backup, True)
        except BaseException as exc:
            for staged, placed_target, backup, placed in reversed(done):
                if placed:
                    os.rename(placed_target, staged)
                if backup is not None:
                    os.replace(backup, placed_target)
            if isinstance(exc, OSError):
                raise OutputError(f"{target}: cannot replace ({exc.strerror})") from exc
            raise
    for _, _, backup, _ in done:
        if backup is not None:
            remove_path(backup)


def remove_dead_staging(folder: Path) -> list[Path]:
    """Clean ``folder`` of the staging siblings of processes that are gone; return them.

    SIGKILL (an OOM kill, ``kill -9``) leaves a ``.<name>.building-<pid>-…`` folder behind;
    the next run and ``make doctor`` call this. A backup (``.<name>.old-<pid>-…``) whose
    target is missing (the process died between two renames) is put back, not removed.
    Only this machine's processes can be checked: the folder is assumed to be local.
    """
    import psutil

    folder = Path(folder)
    if not folder.is_dir():
        return []
    cleaned = []
    for path in sorted(folder.iterdir()):
        match = _STAGING_NAME.match(path.name)
        if match is None:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or psutil.pid_exists(pid):
            continue
        target = path.with_name(match["name"])
        if match["kind"] == "old" and not (target.exists() or target.is_symlink()):
            os.rename(path, target)
        else:
            remove_path(path)
        cleaned.append(path)
    return cleaned


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
