"""Where a measured command spends its time: cProfile and ``-X importtime`` summaries."""

from __future__ import annotations

import pstats
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.bench.harness import PY, ROOT, BenchError, run

#: Where a tracked Iris training can spend its time (B1's profile).
B1_PARTS: dict[str, tuple[str, str]] = {
    "whole training (train_model)": ("src/training/train.py", "train_model"),
    "MLflow part (_track: imports, run, logging, registry)": ("src/training/train.py", "_track"),
    "experiment look-up and MLflow store start (use_experiment)": (
        "src/tracking.py",
        "use_experiment",
    ),
    "mlflow.sklearn.log_model (skops dump + load, serving-input check)": (
        "mlflow/sklearn/__init__.py",
        "log_model",
    ),
    "import skops.io (its sklearn estimator scan)": ("src/workarounds.py", "import_skops_io"),
    "confusion-matrix figure (matplotlib)": ("src/iris/metrics.py", "confusion_figure"),
    "register the version and move the alias": ("src/tracking.py", "register_model_version"),
    "MLflow dependency-mismatch check": (
        "requirements_utils.py",
        "warn_dependency_requirement_mismatches",
    ),
    "fit + evaluate without MLflow (build_estimator incl. sklearn import)": (
        "src/training/train.py",
        "build_estimator",
    ),
}


#: Where a ZenML baseline run spends its time beyond the training itself (B4's profile).
B4_PARTS: dict[str, tuple[str, str]] = {
    "whole run (main)": ("run_yolo_pipeline_baseline.py", "main"),
    "stack check: active stack, MLflow tracker, experiment (prepare_stack)": (
        "launch.py",
        "prepare_stack",
    ),
    "compile + snapshot (_create_snapshot)": ("pipeline_definition.py", "_create_snapshot"),
    "↳ activate every installed integration": (
        "integrations/registry.py",
        "activate_integrations",
    ),
    "↳↳ sklearn integration (scikit-learn + scipy, unused here)": (
        "integrations/sklearn/__init__.py",
        "activate",
    ),
    "↳↳ pytorch integration (torch, which training imports anyway)": (
        "integrations/pytorch/__init__.py",
        "activate",
    ),
    "steps, ZenML's part and ours (step_runner.run)": ("step_runner.py", "run"),
    "↳ the training itself (train_yolo, as in train_cv)": (
        "src/cv/training.py",
        "train_yolo",
    ),
    "↳ test-split evaluation (as in train_cv)": (
        "src/cv/evaluation.py",
        "evaluate_yolo_weights",
    ),
    "↳ storing step outputs as artifacts": ("step_runner.py", "_store_output_artifacts"),
}

#: Where ``python -m src.train_cv`` spends its time beyond ultralytics' training (B8's profile).
B8_PARTS: dict[str, tuple[str, str]] = {
    "whole run (train_cv main)": ("src/train_cv.py", "main"),
    "↳ tracked training (train_yolo: MLflow run, dataset, staging)": (
        "src/cv/training.py",
        "train_yolo",
    ),
    "↳↳ ultralytics' training, as `yolo train` runs it (model.train)": (
        "ultralytics/engine/model.py",
        "train",
    ),
    "↳↳ MLflow store start and experiment look-up (use_experiment)": (
        "src/tracking.py",
        "use_experiment",
    ),
    "↳ test-split evaluation (not in `yolo train`)": (
        "src/cv/evaluation.py",
        "evaluate_yolo_weights",
    ),
}


def profile_python(
    args: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    parts: dict[str, tuple[str, str]] | None = None,
    top: int = 25,
) -> str:
    """Return where ``python <args>`` spends its time: named parts, top entries, top imports.

    ``parts`` maps a label to (file fragment, function name) whose cumulative time is shown.
    """
    with tempfile.TemporaryDirectory() as scratch:
        prof = Path(scratch) / "run.prof"
        elapsed, _ = run([PY, "-m", "cProfile", "-o", str(prof), *args], cwd, env)
        _, imports = run([PY, "-X", "importtime", *args], cwd, env)
        stats = pstats.Stats(str(prof))
    rows = []
    total = max(
        (v[3] for k, v in stats.stats.items() if k[2] == "<module>"),  # type: ignore[attr-defined]
        default=elapsed,
    )
    for (filename, line, name), values in stats.stats.items():  # type: ignore[attr-defined]
        cumulative = values[3]
        if "importlib" in filename or filename.startswith("<") or name.startswith("<"):
            continue
        short = re.sub(r".*site-packages/", "", filename)
        short = short.replace(str(cwd) + "/", "").replace(str(ROOT) + "/", "")
        rows.append((cumulative, f"{short}:{line}({name})"))
    rows.sort(reverse=True)
    lines = [f"cProfile of `python {' '.join(args)}` ({elapsed:.2f} s under the profiler):", ""]
    if parts:
        lines += ["| cumulative s | share | part |", "|---:|---:|---|"]
        for label, (file_part, name) in parts.items():
            part_s: float = sum(
                v[3]
                for k, v in stats.stats.items()  # type: ignore[attr-defined]
                if file_part in k[0] and k[2] == name
            )
            lines.append(f"| {part_s:.2f} | {part_s / total:.0%} | {label} |")
        lines += ["", "Top entries:", ""]
    lines += ["| cumulative s | share | function |", "|---:|---:|---|"]
    for cumulative, where in rows[:top]:
        lines.append(f"| {cumulative:.2f} | {cumulative / total:.0%} | `{where}` |")
    lines += ["", "Top-level imports (`python -X importtime`, cumulative):", ""]
    lines += ["| import s | module |", "|---:|---|"]
    for seconds, module in top_imports(imports, 12):
        lines.append(f"| {seconds:.2f} | `{module}` |")
    return "\n".join(lines)


def profile_dvc(args: Sequence[str], cwd: Path, env: dict[str, str], top: int = 15) -> str:
    """Return where ``dvc <args>`` spends its own time (waiting for stage commands set apart)."""
    with tempfile.TemporaryDirectory() as scratch:
        prof = Path(scratch) / "dvc.prof"
        elapsed, _ = run([PY, "-m", "cProfile", "-o", str(prof), "-m", "dvc", *args], cwd, env)
        stats = pstats.Stats(str(prof)).stats  # type: ignore[attr-defined]
    total = max((v[3] for k, v in stats.items() if k[2] == "<module>"), default=elapsed)
    waiting = sum(
        v[2] for k, v in stats.items() if k[2] in ("waitpid", "<built-in method posix.waitpid>")
    )

    def entries(file_part: str, name: str) -> list[tuple[Any, ...]]:
        return [v for k, v in stats.items() if file_part in k[0] and k[2] == name]

    def cumulative(file_part: str, name: str) -> float:
        return sum(v[3] for v in entries(file_part, name))

    rewrites = sum(v[1] for v in entries("dvc/dvcfile.py", "_dump_lockfile"))  # call counts
    own = total - waiting
    groups = {
        "YAML parsing (ruamel.yaml, dvc.yaml / dvc.lock / params.yaml)": cumulative(
            "serialize/_yaml.py", "parse_yaml"
        ),
        f"writing dvc.lock ({rewrites} rewrites)": cumulative("dvc/dvcfile.py", "_dump_lockfile"),
        "hashing and caching outputs": cumulative("dvc/stage/__init__.py", "save")
        + cumulative("dvc/stage/__init__.py", "commit"),
        "building the stage graph": cumulative("dvc/repo/index.py", "graph"),
    }
    lines = [
        f"cProfile of `dvc {' '.join(args)}` ({total:.2f} s under the profiler): "
        f"{waiting:.2f} s waiting for stage commands, {own:.2f} s DVC's own work, of which:",
        "",
        "| s | share of DVC's own | part |",
        "|---:|---:|---|",
    ]
    for label, seconds in groups.items():
        lines.append(f"| {seconds:.2f} | {seconds / own:.0%} | {label} |")
    rows = sorted(
        (
            (v[2], re.sub(r".*site-packages/", "", k[0]) + f":{k[1]}({k[2]})")
            for k, v in stats.items()
            if "waitpid" not in k[2]
        ),
        reverse=True,
    )
    lines += ["", "Largest self times:", "", "| self s | function |", "|---:|---|"]
    lines += [f"| {seconds:.2f} | `{where}` |" for seconds, where in rows[:top]]
    return "\n".join(lines)


#: DVC's own read-modify-write of dvc.lock, the one it does after every stage it runs.
_LOCK_REWRITE = """
import shutil, statistics, sys, tempfile, time
from pathlib import Path
from dvc.utils.serialize import modify_yaml
with tempfile.TemporaryDirectory() as scratch:
    lock = Path(scratch) / "dvc.lock"
    shutil.copyfile(sys.argv[1], lock)
    with modify_yaml(lock):  # untimed: imports ruamel.yaml
        pass
    times = []
    for _ in range(int(sys.argv[2])):
        started = time.perf_counter()
        with modify_yaml(lock):
            pass
        times.append(time.perf_counter() - started)
print(f"rewrite_s={statistics.median(times)}")
"""


def dvc_lock_rewrite(lock: Path, env: dict[str, str], repeats: int = 5) -> dict[str, float]:
    """Return the size of ``lock`` and the median seconds of one DVC rewrite of a copy of it.

    DVC rewrites the whole lock after each stage through ruamel's round-trip parser and
    emitter (pure Python), so a cold repro pays this once per stage, and it grows with the
    lock's entries: each stage's deps and outs.
    """
    _, output = run([PY, "-c", _LOCK_REWRITE, str(lock), str(repeats)], lock.parent, env)
    found = re.search(r"^rewrite_s=([\d.e-]+)$", output, flags=re.M)
    if not found:
        raise BenchError(f"the dvc.lock rewrite probe printed no time:\n{output[-500:]}")
    text = lock.read_text()
    return {
        "dvc_lock_lines": len(text.splitlines()),
        "dvc_lock_entries": len(re.findall(r"^\s*- path:", text, flags=re.M)),
        "dvc_lock_rewrite_s": round(float(found.group(1)), 3),
    }


def top_imports(importtime_output: str, top: int) -> list[tuple[float, str]]:
    """Return the ``top`` slowest top-level imports (seconds, module) of -X importtime output."""
    found = []
    for line in importtime_output.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match and not match.group(2).startswith(" "):
            found.append((int(match.group(1)) / 1e6, match.group(2).strip()))
    return sorted(found, reverse=True)[:top]


def imported_modules(args: Sequence[str], cwd: Path, env: dict[str, str]) -> set[str]:
    """Return the top-level packages ``python <args>`` imports (from -X importtime)."""
    _, output = run([PY, "-X", "importtime", *args], cwd, env)
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", output, flags=re.M)
    return {name.split(".")[0] for name in names}
