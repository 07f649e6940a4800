"""The benchmark cases B1-B9: what each one runs on its two sides, and its target."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from tools.bench.harness import (
    DVC,
    PY,
    ROOT,
    Bench,
    BenchError,
    Context,
    Result,
    alternate,
    judge,
    median,
    ratio,
    run,
    timed,
)
from tools.bench.profiles import (
    B1_PARTS,
    B4_PARTS,
    B8_PARTS,
    dvc_lock_rewrite,
    imported_modules,
    profile_dvc,
    profile_python,
)

#: The Iris pipeline's last stages: `dvc repro evaluate export` runs prepare -> train -> both.
#: (Listing all four as targets makes DVC collect and parse dvc.yaml once per target.)
IRIS_LEAVES = ("evaluate", "export")
IRIS_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("-m", "src.data.prepare"),
    ("-m", "src.training.train"),
    ("-m", "src.evaluation.evaluate"),
    ("-m", "src.deploy.export"),
)

#: What the process of a tracked Iris training imports whatever is done in parallel (B1's floor).
B1_FLOOR_MODULES = (
    "pandas",
    "sklearn.ensemble",
    "mlflow.sklearn",
    "mlflow.store.tracking.sqlalchemy_store",
    "skops.io",
    "matplotlib.figure",
)
B1_FLOOR_IMPORTS = (
    # With the collector paused, as the training imports them (src/collector.py).
    "import gc; gc.disable()\n"
    "import "
    + ", ".join(m for m in B1_FLOOR_MODULES if m != "skops.io")
    + "\nfrom src.workarounds import import_skops_io; import_skops_io()"
)

#: Tiny YOLO settings for B4/B5: enough to run every step, not to learn anything.
TINY_TRAIN: dict[str, Any] = {"epochs": 1, "imgsz": 64, "batch": 8, "workers": 0, "device": "cpu"}
TINY_GRID: dict[str, Any] = {"epochs": [1], "imgsz": [64], "lr0": [0.01, 0.02]}


def bench_b1(ctx: Context, result: Result) -> None:
    """B1: ``python -m src.training.train`` with MLflow on / off (fresh processes both)."""
    work = ctx.workdir("b1")
    repo = ctx.fresh_copy(work)
    env = ctx.bench_env(work)
    run([PY, "-m", "src.data.prepare"], repo, env)
    on = [PY, "-m", "src.training.train"]
    off = [PY, "-m", "src.training.train", "--no-mlflow"]
    # The very first run creates the SQLite store (schema migrations, once per store).
    result.details["first_run_fresh_store_s"] = round(timed(on, repo, env), 2)
    result.a, result.b = alternate(
        lambda: timed(on, repo, env), lambda: timed(off, repo, env), ctx.repeats, ctx.warmup
    )
    result.value = ratio(result.a, result.b)
    # The floor: a tracked training runs in one process that must import all of these (the
    # model is logged with skops from the embedded SQL store), whatever runs in parallel.
    floor = [PY, "-c", B1_FLOOR_IMPORTS]
    floor_s = median([timed(floor, repo, env) for _ in range(max(ctx.repeats, 1))])
    result.details["imports_only_s"] = round(floor_s or 0.0, 2)
    if floor_s and result.b_median:
        result.notes.append(
            f"the imports alone ({', '.join(B1_FLOOR_MODULES)}) take {floor_s:.2f} s, "
            f"{floor_s / result.b_median:.2f} x the --no-mlflow training"
        )
    if ctx.profile or judge(result.value, result.target) == "fail":
        result.profile = profile_python(on[1:], repo, env, B1_PARTS)


def bench_b2(ctx: Context, result: Result) -> None:
    """B2: a no-op ``dvc repro`` (everything up to date) / ``dvc version``."""
    work = ctx.workdir("b2")
    repo = ctx.fresh_copy(work)
    env = ctx.bench_env(work)
    seconds, _ = run([DVC, "repro"], repo, env)
    result.details["setup_full_repro_s"] = round(seconds, 2)
    _, status = run([DVC, "status"], repo, env)
    if "up to date" not in status.lower():
        raise BenchError(f"dvc status after repro is not clean:\n{status}")
    result.a, result.b = alternate(
        lambda: timed([DVC, "repro"], repo, env),
        lambda: timed([DVC, "version"], repo, env),
        ctx.repeats,
        ctx.warmup,
    )
    result.value = ratio(result.a, result.b)
    if ctx.profile or judge(result.value, result.target) == "fail":
        result.profile = profile_dvc(["repro"], repo, env)


def bench_b3(ctx: Context, result: Result) -> None:
    """B3: cold ``dvc repro`` of the Iris stages / the same commands run directly."""
    work = ctx.workdir("b3")
    # One warm MLflow store shared by both sides: its one-off migrations are not DVC's cost.
    env = ctx.bench_env(work)
    copies = work / "copies"

    def with_dvc() -> float:
        repo = ctx.fresh_copy(copies)
        try:
            return timed([DVC, "repro", *IRIS_LEAVES], repo, env)
        finally:
            shutil.rmtree(repo, ignore_errors=True)

    def direct() -> float:
        repo = ctx.fresh_copy(copies)
        try:
            return sum(timed([PY, *args], repo, env) for args in IRIS_COMMANDS)
        finally:
            shutil.rmtree(repo, ignore_errors=True)

    result.a, result.b = alternate(with_dvc, direct, ctx.repeats, max(ctx.warmup, 1))
    result.value = ratio(result.a, result.b)
    repo = ctx.fresh_copy(copies)
    try:
        # The part of DVC's own work that grows with the lock: its rewrite after each stage.
        try:
            result.details |= dvc_lock_rewrite(repo / "dvc.lock", env, max(ctx.repeats, 1))
        except BenchError as exc:
            result.notes.append(f"dvc.lock rewrite not measured: {exc}")
        else:
            result.notes.append(
                "dvc.lock has {dvc_lock_lines} lines, {dvc_lock_entries} deps and outs; DVC "
                "rewrites it after each stage it runs, {dvc_lock_rewrite_s:.3f} s a rewrite "
                "(median)".format(**result.details)
            )
        if ctx.profile or judge(result.value, result.target) == "fail":
            result.profile = profile_dvc(["repro", *IRIS_LEAVES], repo, env)
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def write_tiny_params(repo: Path) -> None:
    """Put the tiny YOLO training and grid settings into the copy's params.yaml."""
    import yaml

    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text()) or {}
    cv = params.setdefault("cv", {})
    cv.setdefault("train", {}).update(TINY_TRAIN)
    cv["grid"] = dict(TINY_GRID)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def yolo_ready(ctx: Context, name: str, tiny: bool = True) -> tuple[Path, Path, dict[str, str]]:
    """Return (repo copy, work folder, env) ready for YOLO runs: ZenML modules and font present.

    ``tiny`` puts the tiny training settings into the copy's params.yaml; without it the
    copy trains with the project's default ``cv.train``.
    """
    missing = [
        module
        for module in (
            "src/train_cv.py",
            "src/zenml_pipelines/run_yolo_pipeline_baseline.py",
            "src/zenml_pipelines/run_yolo_pipeline_grid.py",
        )
        if not (ROOT / module).is_file()
    ]
    if missing:
        raise BenchError(f"not available: {', '.join(missing)} not in the working tree yet")
    work = ctx.workdir(name)
    repo = ctx.fresh_copy(work)
    env = ctx.bench_env(work)
    if tiny:
        write_tiny_params(repo)
    # ultralytics fetches Arial.ttf whatever YOLO_OFFLINE says; give it matplotlib's font.
    font_dir = work / "ultralytics" / "Ultralytics"
    font_dir.mkdir(parents=True, exist_ok=True)
    import matplotlib

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    shutil.copyfile(font, font_dir / "Arial.ttf")
    # The pipeline's data step insists the dataset matches dvc.lock: build it the DVC way.
    run([DVC, "repro", "make_tiny_person"], repo, env)
    return repo, work, env


def bench_b4(ctx: Context, result: Result) -> None:
    """B4: a ZenML baseline run / ``python -m src.train_cv`` with the same tiny params."""
    repo, work, env = yolo_ready(ctx, "b4")
    runs = work / "runs"
    zenml = [
        PY,
        "-m",
        "src.zenml_pipelines.run_yolo_pipeline_baseline",
        "--runs-dir",
        str(runs),
    ]
    plain = [
        PY,
        "-m",
        "src.train_cv",
        "--runs-dir",
        str(runs),
        "--weights-out",
        str(work / "weights" / "best.pt"),
    ]
    # The first pipeline run registers the stack and builds the dataset (one-off set-up).
    seconds, _ = run(zenml, repo, env)
    result.details["first_pipeline_run_s"] = round(seconds, 2)
    result.a, result.b = alternate(
        lambda: timed(zenml, repo, env), lambda: timed(plain, repo, env), ctx.repeats, ctx.warmup
    )
    result.value = ratio(result.a, result.b)
    if ctx.profile or judge(result.value, result.target) == "fail":
        result.profile = profile_python(zenml[1:], repo, env, B4_PARTS)


def bench_b5(ctx: Context, result: Result) -> None:
    """B5: data steps recomputed by a second grid run over unchanged data (ZenML run records)."""
    repo, work, env = yolo_ready(ctx, "b5")
    base = [
        PY,
        "-m",
        "src.zenml_pipelines.run_yolo_pipeline_grid",
        "--runs-dir",
        str(work / "runs"),
        "--no-register",
        "--no-report",
    ]
    first, second = work / "first.json", work / "second.json"
    seconds, _ = run([*base, "--summary-out", str(first)], repo, env)
    result.a = [seconds]
    seconds, _ = run([*base, "--summary-out", str(second)], repo, env)
    result.b = [seconds]
    names = [r["zenml_run_name"] for r in json.loads(second.read_text())["runs"]]
    query = (
        "import json, sys\n"
        "from zenml.client import Client\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    run = Client().get_pipeline_run(name)\n"
        "    out[name] = {step: s.status.value for step, s in run.steps.items()}\n"
        "print(json.dumps(out))\n"
    )
    _, output = run([PY, "-c", query, *names], repo, env)
    statuses: dict[str, dict[str, str]] = json.loads(output.strip().splitlines()[-1])
    data_steps = {"prepare_tiny_person_dataset"}
    recomputed = sum(
        1
        for steps in statuses.values()
        for step, status in steps.items()
        if step in data_steps and status != "cached"
    )
    result.value = float(recomputed)
    result.unit = "count"
    result.details["second_run_step_status"] = statuses
    result.notes.append(
        f"{len(names)} configurations; first grid {result.a[0]:.1f} s, "
        f"second {result.b[0]:.1f} s (single runs, not medians)"
    )


def last_row_metric(results_csv: Path, column: str = "metrics/mAP50-95(B)") -> float | None:
    """Return ``column`` of the last epoch in an ultralytics results.csv (None if absent)."""
    import csv

    if not results_csv.is_file():
        return None
    with open(results_csv, newline="") as handle:
        rows = [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(handle)]
    return float(rows[-1][column]) if rows and column in rows[-1] else None


def bench_b8(ctx: Context, result: Result) -> None:
    """B8: ``python -m src.train_cv`` / ultralytics' ``yolo train``, default params, same args."""
    import yaml

    repo, work, env = yolo_ready(ctx, "b8", tiny=False)
    train = (yaml.safe_load((repo / "params.yaml").read_text()) or {})["cv"]["train"]
    data_yaml = repo / "data" / "tiny_person" / "data.yaml"
    # The device train_cv resolves `auto` to, so both sides train on the same one.
    _, output = run(
        [PY, "-c", f"import src.cv.inputs as i; print(i.check_device({train['device']!r}))"],
        repo,
        env,
    )
    device = output.strip().splitlines()[-1]
    # ultralytics' settings in the copy's YOLO_CONFIG_DIR: no MLflow (or other) callback and a
    # local font, as train_cv sets them, so the CLI side stays offline and tracks nothing.
    _, output = run(
        [
            PY,
            "-c",
            "from src.workarounds import configure_ultralytics as c; c()\n"
            "from ultralytics.utils import SETTINGS; print(SETTINGS['mlflow'])",
        ],
        repo,
        env,
    )
    if output.strip().splitlines()[-1] != "False":
        raise BenchError(f"ultralytics' MLflow callback is still on in {env['YOLO_CONFIG_DIR']}")
    runs = work / "runs"
    ours = [
        PY,
        "-m",
        "src.train_cv",
        "--runs-dir",
        str(runs),
        "--weights-out",
        str(work / "weights" / "best.pt"),
    ]
    # The arguments train_cv passes to model.train (src/cv/training.py), nothing else.
    peer = [
        str(Path(PY).with_name("yolo")),
        "train",
        f"data={data_yaml}",
        f"model={train['model']}",
        f"epochs={train['epochs']}",
        f"imgsz={train['imgsz']}",
        f"batch={train['batch']}",
        f"lr0={train['lr0']}",
        f"optimizer={train['optimizer']}",
        f"nbs={train['nbs'] or train['batch']}",
        f"seed={train['seed']}",
        f"patience={train['patience']}",
        f"device={device}",
        f"workers={train['workers']}",
        "deterministic=True",
        "amp=False",
        f"plots={train['plots']}",
        "verbose=False",
        f"project={work / 'yolo-cli'}",
        "name=run",
        "exist_ok=True",
    ]
    result.a, result.b = alternate(
        lambda: timed(ours, repo, env), lambda: timed(peer, repo, env), ctx.repeats, ctx.warmup
    )
    result.value = ratio(result.a, result.b)
    ours_csv = next(iter(sorted(runs.glob("*/results.csv"))), runs / "missing")
    result.details["val_map50_95_train_cv"] = last_row_metric(ours_csv)
    peer_csv = work / "yolo-cli" / "run" / "results.csv"
    result.details["val_map50_95_yolo_cli"] = last_row_metric(peer_csv)
    result.details["device"] = device
    result.notes.append(
        f"{train['epochs']} epochs, imgsz {train['imgsz']}, batch {train['batch']}, "
        f"{train['optimizer']} lr0 {train['lr0']}, seed {train['seed']}, "
        f"workers {train['workers']}, {device}; last-epoch val mAP50-95: train_cv "
        f"{result.details['val_map50_95_train_cv']}, yolo train "
        f"{result.details['val_map50_95_yolo_cli']}"
    )
    if ctx.profile or judge(result.value, result.target) == "fail":
        result.profile = profile_python(ours[1:], repo, env, B8_PARTS)


def bench_b9(ctx: Context, result: Result) -> None:
    """B9: ``make test-fast`` and ``make test`` wall time in a fresh copy, the venvs reused.

    The copy's ``.venv`` (and Poetry's ``.tools``) are links to the project's, and ``make -o``
    keeps make from reinstalling into them, so neither an install nor a download is counted:
    the lanes' own time is.
    """
    work = ctx.workdir("b9")
    repo = ctx.fresh_copy(work)
    env = ctx.bench_env(work)
    # The suite runs as from a user's shell: the variables the tests set themselves are not
    # preset (the copy's own stores are under the copy anyway).
    for key in ("MLFLOW_TRACKING_URI", "ZENML_CONFIG_PATH", "YOLO_CONFIG_DIR"):
        env.pop(key, None)
    for folder in (".venv", ".tools"):
        if (ROOT / folder).is_dir():
            (repo / folder).symlink_to(ROOT / folder, target_is_directory=True)
    make = ["make", "-o", ".venv/.installed", "-o", ".tools/poetry/bin/poetry"]
    fast = [*make, "test-fast"]
    full = [*make, "test"]
    for _ in range(ctx.warmup):
        timed(fast, repo, env)
    result.a = [timed(fast, repo, env) for _ in range(ctx.repeats)]
    if ctx.fast_lane_only:
        result.notes.append("`make test` not run (--fast-lane-only): only the fast lane measured")
    else:
        # One run: the whole suite takes minutes (a median of five would take an hour).
        result.b = [run(full, repo, env, timeout=3600)[0]]
        result.notes.append("`make test`: one run, not a median")
    result.value = median(result.a)
    result.unit = "s"
    result.notes.append(
        "in a fresh copy of the working tree whose .venv and .tools link to the project's "
        "(`make -o .venv/.installed ...`): no install counted"
    )


def dir_size(path: Path) -> int:
    """Return the bytes of the files under ``path`` (links not followed)."""
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def bench_b7(ctx: Context, result: Result) -> None:
    """B7: ``make install`` into an empty venv, cold then warm pip cache: wall time and size."""
    work = ctx.workdir("b7")
    repo = ctx.fresh_copy(work)
    cache = work / "pip-cache"
    cache.mkdir()
    python = shutil.which("python3.11") or sys.executable
    # Not bench_env(): the project's venv must not be on PATH, an empty one is measured.
    env = {**os.environ, "PIP_CACHE_DIR": str(cache), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def install(label: str) -> float:
        venv = work / f"venv-{label}"
        shutil.rmtree(venv, ignore_errors=True)
        started = time.perf_counter()
        # The same three commands as `make install` (Makefile's $(INSTALLED) rule).
        run([python, "-m", "venv", str(venv)], repo, env)
        pip = str(venv / "bin" / "pip")
        run(
            [pip, "install", "--quiet", "--require-hashes", "--no-deps", "-r", "requirements.lock"],
            repo,
            env,
            timeout=3600,
        )
        run([pip, "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", "."], repo, env)
        elapsed = time.perf_counter() - started
        result.details[f"{label}_venv_bytes"] = dir_size(venv)
        result.details[f"{label}_pip_cache_bytes"] = dir_size(cache)
        shutil.rmtree(venv, ignore_errors=True)
        return elapsed

    result.a = [install("cold")]
    result.b = [install("warm")]
    gib = 1024**3
    result.unit = "GiB venv"
    result.value = result.details["cold_venv_bytes"] / gib
    result.notes.append(
        f"venv {result.details['cold_venv_bytes'] / gib:.2f} GiB; pip cache after the cold "
        f"install {result.details['cold_pip_cache_bytes'] / gib:.2f} GiB; one run each"
    )
    result.notes.append(
        "pip here reads a local wheel folder and file:// indexes (pip config), so 'cold' "
        "means an empty pip cache, not a download"
    )
    if result.details["cold_pip_cache_bytes"] < 50 * 1024**2:
        result.notes.append(
            "the cold install left the pip cache (nearly) empty: pip caches what it downloads "
            "over HTTP, not wheels read from local files, so the warm install redoes the same work"
        )


def bench_b6(ctx: Context, result: Result) -> None:
    """B6: ``python -m src.training.train --help`` / ``python -c "import sklearn"``."""
    work = ctx.workdir("b6")
    repo = ctx.fresh_copy(work)
    env = ctx.bench_env(work)
    helped = [PY, "-m", "src.training.train", "--help"]
    sklearn = [PY, "-c", "import sklearn"]
    heavy = sorted(imported_modules(helped[1:], repo, env) & {"pandas", "sklearn", "mlflow"})
    result.details["heavy_imports_in_help"] = heavy
    if heavy:
        result.notes.append(f"--help imports {', '.join(heavy)}")
    result.a, result.b = alternate(
        lambda: timed(helped, repo, env), lambda: timed(sklearn, repo, env), ctx.repeats, ctx.warmup
    )
    result.value = ratio(result.a, result.b)
    if ctx.profile or judge(result.value, result.target) == "fail":
        result.profile = profile_python(helped[1:], repo, env)


#: B10 gives the study this share of the grid's wall time (the target).
B10_BUDGET = 0.6


def bench_b10(ctx: Context, result: Result) -> None:
    """B10: the default grid / the Optuna study over its ranges, in one invocation.

    The value is the study's time to reach the grid's best val mAP50-95 over the grid's wall
    time (inf when it never does). The study gets the target as its budget (``--timeout-s``:
    no trial starts after it); both sides skip registry and report, and a tiny pipeline run
    first registers the ZenML stack and caches the data step, so neither side pays for them.
    One run per side: each takes minutes, and both are deterministic on one machine.
    """
    import datetime as dt

    import yaml

    repo, work, env = yolo_ready(ctx, "b10")
    tiny = work / "tiny_params.yaml"
    shutil.copyfile(repo / "params.yaml", tiny)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    defaults = (yaml.safe_load((ROOT / "params.yaml").read_text()) or {}).get("cv", {})
    for section in ("train", "grid", "tune"):
        params["cv"].pop(section, None)
        if section in defaults:
            params["cv"][section] = defaults[section]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    runs = str(work / "runs")
    warm = [PY, "-m", "src.zenml_pipelines.run_yolo_pipeline_baseline", "--params", str(tiny)]
    run([*warm, "--runs-dir", runs], repo, env)
    quiet = ["--runs-dir", runs, "--no-register", "--no-report"]

    grid_json = work / "grid.json"
    grid = [PY, "-m", "src.zenml_pipelines.run_yolo_pipeline_grid", *quiet]
    grid_s, _ = run([*grid, "--summary-out", str(grid_json)], repo, env, timeout=7200)
    grid_runs = json.loads(grid_json.read_text())["runs"]
    grid_best = max(r["summary"]["metrics"]["map50_95"] for r in grid_runs)

    budget = B10_BUDGET * grid_s
    study_json = work / "study.json"
    study = [PY, "-m", "src.zenml_pipelines.run_yolo_tune", *quiet, "--study", "b10"]
    study += ["--timeout-s", f"{budget:.0f}", "--summary-out", str(study_json)]
    started = dt.datetime.now()
    study_s, _ = run(study, repo, env, timeout=7200)
    trials = json.loads(study_json.read_text())["trials"]
    complete = [t for t in trials if t["state"] == "COMPLETE"]
    study_best = max((t["value"] for t in complete), default=0.0)
    reached = [
        (dt.datetime.fromisoformat(t["completed"]) - started).total_seconds()
        for t in complete
        if t["value"] >= grid_best
    ]
    reach_s = min(reached) if reached else None

    result.a, result.b = [grid_s], [study_s]
    result.value = reach_s / grid_s if reach_s is not None else float("inf")
    result.details |= {
        "grid_best_val_map50_95": round(grid_best, 4),
        "grid_configurations": len(grid_runs),
        # The landscape the study searches: each grid point's value and time.
        "grid_runs": [
            {
                "config": r["summary"].get("config_name"),
                "val_map50_95": round(r["summary"]["metrics"]["map50_95"], 4),
                "seconds": r.get("seconds"),
            }
            for r in grid_runs
        ],
        "grid_epochs": sum(int(r["summary"]["metrics"]["epochs_completed"]) for r in grid_runs),
        "study_best_val_map50_95": round(study_best, 4),
        "study_time_to_grid_best_s": None if reach_s is None else round(reach_s, 1),
        "study_budget_s": round(budget, 1),
        "study_epochs": sum(
            int((t["summary"] or {}).get("metrics", {}).get("epochs_completed", 0)) for t in trials
        ),
        "trials": [
            {k: t[k] for k in ("number", "state", "value", "params", "pruned_at_epoch")}
            for t in trials
        ],
    }
    pruned = sum(t["state"] == "PRUNED" for t in trials)
    result.notes.append(
        "grid: "
        + ", ".join(
            f"{r['summary'].get('config_name')} {r['summary']['metrics']['map50_95']:.3f}"
            for r in sorted(grid_runs, key=lambda r: -r["summary"]["metrics"]["map50_95"])
        )
    )
    result.notes.append(
        f"one run per side; grid: {len(grid_runs)} configurations, best val mAP50-95 "
        f"{grid_best:.3f} in {grid_s:.0f} s; study: {len(trials)} trials ({pruned} pruned), "
        f"best {study_best:.3f} in {study_s:.0f} s (budget {budget:.0f} s)"
    )
    if reach_s is None:
        result.notes.append(
            f"the study never reached the grid's best ({study_best:.3f} < {grid_best:.3f})"
        )
    else:
        result.notes.append(f"the study reached the grid's best after {reach_s:.0f} s")


#: Every case by id. The targets are set here and nowhere else: ``measure`` judges each
#: result against its case's target, and the report prints it beside the value.
BENCHES: dict[str, Bench] = {
    b.id: b
    for b in (
        Bench(
            "B1",
            "`python -m src.training.train`, MLflow on / off",
            "MLflow on",
            "--no-mlflow",
            target="≤ 2.0",
            measure=bench_b1,
        ),
        Bench(
            "B2",
            "no-op `dvc repro` / `dvc version`",
            "dvc repro",
            "dvc version",
            target="≤ 1.5",
            measure=bench_b2,
        ),
        Bench(
            "B3",
            "cold `dvc repro` of the Iris stages / the stage commands run directly",
            "dvc repro",
            "direct",
            target="≤ 1.10",
            measure=bench_b3,
        ),
        Bench(
            "B4",
            "ZenML baseline run / `python -m src.train_cv`, same tiny params",
            "ZenML",
            "train_cv",
            target="≤ 1.3",
            measure=bench_b4,
        ),
        Bench(
            "B5",
            "second grid run, unchanged data: data steps recomputed",
            "1st grid",
            "2nd grid",
            target="= 0",
            measure=bench_b5,
        ),
        Bench(
            "B6",
            '`python -m src.training.train --help` / `python -c "import sklearn"`',
            "--help",
            "import sklearn",
            target="≤ 0.2",
            measure=bench_b6,
        ),
        Bench(
            "B7",
            "`make install` into an empty venv, cold / warm pip cache",
            "cold cache",
            "warm cache",
            target="report",
            measure=bench_b7,
            default=False,
        ),
        Bench(
            "B8",
            "`python -m src.train_cv` / ultralytics' `yolo train`, default params, same arguments",
            "train_cv",
            "yolo train",
            target="≤ 1.05",
            measure=bench_b8,
        ),
        Bench(
            "B9",
            "`make test-fast` / `make test` wall time in a fresh copy (venv reused)",
            "make test-fast",
            "make test",
            target="A ≤ 30 s, B ≤ 720 s",
            measure=bench_b9,
        ),
        Bench(
            "B10",
            "default grid / Optuna study over its ranges: study's time to the grid's best val "
            "mAP50-95, over the grid's wall time",
            "grid",
            "study",
            target="≤ 0.6",
            measure=bench_b10,
        ),
    )
}


def select(only: str | None, everything: bool) -> list[Bench]:
    """Return the benchmarks to run: ``--only`` ids, ``--all``, or the default set (not B7)."""
    if only:
        ids = [part.strip().upper() for part in only.split(",") if part.strip()]
        unknown = [i for i in ids if i not in BENCHES]
        if unknown:
            raise SystemExit(
                f"error: unknown id(s) {', '.join(unknown)}; known: {', '.join(BENCHES)}"
            )
        return [BENCHES[i] for i in ids]
    return [b for b in BENCHES.values() if everything or b.default]
