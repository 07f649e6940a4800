"""Running and timing the measured commands: throw-away copies, alternated sides, medians.

Every figure is the median of ``repeats`` runs after ``warmup`` discarded ones, and the two
sides of a ratio are alternated within the same invocation (A B, B A, A B ...) so a change of
machine load hits both sides alike. Each command runs in a copy of the working tree under a
temporary folder, with its own MLflow store and ZenML state, so the real workspace
(mlflow.db, models/, dvc.lock, .zenml-state/) is never touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PY = str(VENV_BIN / "python")
DVC = str(VENV_BIN / "dvc")

#: Versions printed in the report: what the measured code paths run on.
VERSIONS = (
    "mlflow",
    "dvc",
    "zenml",
    "scikit-learn",
    "skops",
    "pandas",
    "numpy",
    "matplotlib",
    "ultralytics",
    "torch",
    "pip",
)


class BenchError(RuntimeError):
    """A measured command failed, or a benchmark cannot run here."""


@dataclass
class Result:
    """One benchmark id: its samples, the derived value and the verdict against the target."""

    id: str
    what: str
    target: str
    status: str = "not run"  # pass | fail | report | not available | error
    a_label: str = ""
    b_label: str = ""
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    value: float | None = None
    unit: str = "ratio"
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    profile: str = ""
    measured_at: str = ""
    command: str = ""
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)

    @property
    def a_median(self) -> float | None:
        """Return the median of side A (None without samples)."""
        return median(self.a)

    @property
    def b_median(self) -> float | None:
        """Return the median of side B (None without samples)."""
        return median(self.b)


def median(samples: Sequence[float]) -> float | None:
    """Return the median of ``samples``, or None when there are none."""
    return float(statistics.median(samples)) if samples else None


def ratio(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Return median(a) / median(b), or None when either side is empty or b is zero."""
    ma, mb = median(a), median(b)
    if ma is None or mb is None or mb == 0:
        return None
    return ma / mb


#: A per-side target: ``A ≤ 30 s, B ≤ 720 s`` bounds each side's median (B9's test lanes).
_SIDE_CLAUSE = re.compile(r"\s*([AB])\s*(≤|<=)\s*([0-9.]+)\s*s\s*")


def judge_result(result: Result, target: str) -> str:
    """Return the verdict of ``result``: per-side clauses, else its value against ``target``.

    A side without samples (not run this time) is left out of a per-side verdict.
    """
    clauses = target.split(",")
    matches = [_SIDE_CLAUSE.fullmatch(clause) for clause in clauses]
    if not all(matches):
        return judge(result.value, target)
    verdicts = []
    for match in matches:
        assert match is not None
        side = result.a_median if match.group(1) == "A" else result.b_median
        if side is not None:
            verdicts.append(side <= float(match.group(3)))
    if not verdicts:
        return "error"
    return "pass" if all(verdicts) else "fail"


def judge(value: float | None, target: str) -> str:
    """Return ``pass``/``fail`` for ``value`` against ``≤ x`` / ``= x``; ``report`` otherwise."""
    match = re.fullmatch(r"\s*(≤|<=|=|==)\s*([0-9.]+)\s*", target)
    if match is None:
        return "report"
    if value is None:
        return "error"
    op, limit = match.group(1), float(match.group(2))
    ok = value <= limit if op in ("≤", "<=") else value == limit
    return "pass" if ok else "fail"


def alternate(
    run_a: Callable[[], float],
    run_b: Callable[[], float],
    repeats: int,
    warmup: int,
) -> tuple[list[float], list[float]]:
    """Return (a samples, b samples): ``warmup`` discarded pairs, then ``repeats`` alternated."""
    for _ in range(warmup):
        run_a()
        run_b()
    a: list[float] = []
    b: list[float] = []
    for i in range(repeats):
        # Alternate which side goes first so drifting load and warm caches favour neither.
        if i % 2 == 0:
            a.append(run_a())
            b.append(run_b())
        else:
            b.append(run_b())
            a.append(run_a())
    return a, b


def run(
    cmd: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float = 1800,
) -> tuple[float, str]:
    """Return (wall seconds, stdout + stderr) of ``cmd``; raise BenchError if it fails."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(cmd)}: timed out after {timeout:.0f} s") from None
    elapsed = time.perf_counter() - started
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(cmd)} (in {cwd}) exited {proc.returncode}:\n{tail}")
    return elapsed, output


def timed(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """Return the wall seconds of ``cmd``."""
    return run(cmd, cwd, env)[0]


@dataclass(frozen=True)
class Context:
    """Where and how the benchmarks run: the options every case reads."""

    tmp: Path
    repeats: int
    warmup: int
    profile: bool
    #: ``--env KEY=VALUE`` settings added to every measured command (what-if experiments).
    extra_env: Mapping[str, str] = field(default_factory=dict)
    #: ``--files-at REV:PATH,...``: file contents put into every copy (to measure a "before").
    overlay: Mapping[str, bytes] = field(default_factory=dict)
    #: ``--fast-lane-only``: B9 measures ``make test-fast`` and skips the full ``make test``.
    fast_lane_only: bool = False

    def workdir(self, name: str) -> Path:
        """Return a fresh, empty folder ``name`` under the temporary root."""
        path = self.tmp / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def fresh_copy(self, parent: Path) -> Path:
        """Return a new copy of the working tree under ``parent``, with the overlay applied."""
        return fresh_copy(parent, self.overlay)

    def bench_env(self, root: Path, **extra: str) -> dict[str, str]:
        """Return the environment of a copy at ``root``, with the ``--env`` settings."""
        return bench_env(root, self.extra_env, **extra)


def bench_env(
    root: Path, extra_env: Mapping[str, str] | None = None, **extra: str
) -> dict[str, str]:
    """Return the environment of a copy at ``root``: venv first, its own stores, offline.

    ``extra`` and then ``extra_env`` (the ``--env`` settings) are applied last.
    """
    env = {
        **os.environ,
        # The venv first on PATH, as `make` does: dvc.yaml's `python -m ...` must find it.
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "ZENML_CONFIG_PATH": str(root / "zenml-state"),
        "YOLO_CONFIG_DIR": str(root / "ultralytics"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "ZENML_ANALYTICS_OPT_IN": "false",
        "YOLO_OFFLINE": "1",
    }
    # A developer's shell must not point the copy at a shared server or bucket.
    for key in list(env):
        if key.startswith(("ZENML_STORE", "MLOPS_DOTENV", "AWS_ENDPOINT", "MLFLOW_S3")):
            env.pop(key)
    env.update(extra)
    env.update(extra_env or {})
    return env


def dvc_cached_outs(root: Path = ROOT) -> list[str]:
    """Return the outputs dvc.yaml caches (they belong in DVC's cache, never in git)."""
    import yaml

    stages = (yaml.safe_load((root / "dvc.yaml").read_text()) or {}).get("stages", {})
    outs = []
    for stage in stages.values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []) or []:
                path, options = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
                if (options or {}).get("cache", True):
                    outs.append(str(path).rstrip("/"))
    return outs


def fresh_copy(parent: Path, overlay: Mapping[str, bytes] | None = None) -> Path:
    """Return a git-initialised copy of the working tree as a clone would see it.

    Tracked files plus untracked, not ignored ones, then the ``overlay`` contents (path to
    bytes). DVC-cached outputs are left out even when a missing .gitignore in the workspace
    lets git see them: a clone never has them, and DVC refuses to manage outputs that git
    tracks.
    """
    parent.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="repo-", dir=parent))
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    outs = dvc_cached_outs()
    for name in filter(None, listing.split("\0")):
        if any(name == out or name.startswith(out + "/") for out in outs):
            continue
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for name, content in (overlay or {}).items():
        (target / name).write_bytes(content)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "copy"], cwd=target, check=True)
    return target


def load_overlay(spec: str) -> dict[str, bytes]:
    """Return {path: content at REV} for ``REV:PATH[,PATH...]``; raise SystemExit if unknown."""
    rev, sep, paths = spec.partition(":")
    if not sep or not rev or not paths:
        raise SystemExit(f"error: --files-at {spec!r}: expected REV:PATH[,PATH...]")
    overlay = {}
    for name in filter(None, (p.strip() for p in paths.split(","))):
        shown = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True)
        if shown.returncode != 0:
            raise SystemExit(f"error: --files-at: {rev}:{name} not found")
        overlay[name] = shown.stdout
    return overlay


@dataclass(frozen=True)
class Bench:
    """A benchmark id: what it measures, its target and the function that measures it."""

    id: str
    what: str
    a_label: str
    b_label: str
    target: str
    measure: Callable[[Context, Result], None]
    default: bool = True


def measure(bench: Bench, ctx: Context) -> Result:
    """Return the result of one benchmark; a failure becomes an ``error`` result, not a crash."""
    result = Result(
        id=bench.id,
        what=bench.what,
        target=bench.target,
        a_label=bench.a_label,
        b_label=bench.b_label,
        measured_at=dt.datetime.now().isoformat(timespec="seconds"),
        load_before=[round(x, 2) for x in os.getloadavg()],
    )
    try:
        bench.measure(ctx, result)
        result.status = judge_result(result, bench.target)
    except BenchError as exc:
        message = str(exc)
        result.status = "not available" if message.startswith("not available") else "error"
        result.notes.append(message)
    except Exception as exc:  # one broken benchmark must not lose the others' results
        result.status = "error"
        result.notes.append(f"{type(exc).__name__}: {exc}")
    result.load_after = [round(x, 2) for x in os.getloadavg()]
    return result


def machine_info() -> dict[str, Any]:
    """Return the CPU, cores, memory, load, OS, Python and package versions of this machine."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        memory = round(int(first.split()[1]) / 1024**2, 1)
    versions = {}
    for name in VERSIONS:
        try:
            versions[name] = package_version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }
