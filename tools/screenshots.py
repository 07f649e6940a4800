"""Regenerate the README's pictures from real runs: ``python -m tools.screenshots``.

    python -m tools.screenshots                           # into docs/images/
    python -m tools.screenshots --workspace /tmp/ws --keep  # keep the runs for make demo-video

In a fresh copy of the project with stores of its own (tools/screens/workspace.py) it runs
``make demo`` against ZenML's local server, a two-point grid (the registry's ``champion``
and ``challenger``) and ``predict_cv`` on ultralytics' ``bus.jpg``; renders the offline
DVC plots page; then headless Chromium, reaching only 127.0.0.1, photographs the MLflow UI,
the plots page and the ZenML dashboard. Every picture is scaled to 1280 px at most, saved
as an optimised PNG and checked (size bounds, many colours, all together under 3 MB)
before it replaces the one in the output folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.screens.images import ImageInfo, check_image, check_total, optimise_png  # noqa: E402
from tools.screens.workspace import Workspace, create_workspace, mlflow_ui  # noqa: E402

OUT = ROOT / "docs" / "images"
IRIS_EXPERIMENT = "iris-classifier"
YOLO_EXPERIMENT = "yolo-tiny-person"
#: Two configurations of the default 40 epochs (enough to find persons): the best is champion.
GRID = {"epochs": [40], "imgsz": [160], "lr0": [0.002, 0.004]}
#: Then a short grid whose best stays below the floor: registered as challenger only.
SHORT_GRID = {"epochs": [10], "imgsz": [160], "lr0": [0.004]}
#: Columns of the runs table (the UI keeps them in the browser's local storage).
RUN_COLUMNS = (
    "attributes.`Dataset`",
    "metrics.`accuracy`",
    "metrics.`f1_macro`",
    "params.`train.algorithm`",
    "params.`train.n_estimators`",
)
#: The pictures, in the order the README shows them.
PICTURES = (
    "mlflow-iris-runs.png",
    "mlflow-iris-run.png",
    "mlflow-iris-confusion-matrix.png",
    "mlflow-registry.png",
    "dvc-plots.png",
    "yolo-results.png",
    "yolo-prediction-bus.png",
    "zenml-run-dag.png",
)


def _step(title: str) -> Callable[[], None]:
    started = time.monotonic()
    print(f"- {title}", flush=True)
    return lambda: print(f"  done in {time.monotonic() - started:.0f} s", flush=True)


def build_runs(workspace: Workspace) -> dict[str, Path]:
    """Run the project's commands in the workspace; return what the pictures need."""
    make = ["make", "--no-print-directory", f"VENV={Path(sys.executable).parent.parent}"]
    workspace.run("make-help", [*make, "help"])
    workspace.run("make-demo", [*make, "demo"])
    import yaml

    for name, grid in (("zenml-grid", GRID), ("zenml-grid-short", SHORT_GRID)):
        params = yaml.safe_load((workspace.repo / "params.yaml").read_text())
        params["cv"]["grid"] = grid
        grid_params = workspace.root / f"{name}-params.yaml"
        grid_params.write_text(yaml.safe_dump(params))
        workspace.run(
            name,
            [sys.executable, "-m", "src.zenml_pipelines.run_yolo_pipeline_grid",
             "--params", str(grid_params), "--report-dir", str(workspace.repo / "reports")],
        )  # fmt: skip
    import ultralytics

    bus = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    workspace.run(
        "predict-bus",
        [sys.executable, "-m", "src.predict_cv", str(bus), "--conf", "0.05",
         "--out", str(workspace.root / "predictions")],
    )  # fmt: skip
    plots = workspace.root / "plots"
    workspace.run("dvc-plots", [sys.executable, "tools/render_dvc_plots.py", "--out", str(plots)])
    return {"plots_page": plots / "index.html", "bus": bus}


def _mlflow_ids(workspace: Workspace) -> dict[str, Any]:
    import mlflow

    client = mlflow.MlflowClient(workspace.mlflow_uri)
    iris = client.get_experiment_by_name(IRIS_EXPERIMENT)
    yolo = client.get_experiment_by_name(YOLO_EXPERIMENT)
    assert iris is not None and yolo is not None
    iris_runs = client.search_runs([iris.experiment_id], order_by=["metrics.accuracy DESC"])
    baseline = client.search_runs(
        [yolo.experiment_id], filter_string="tags.pipeline = 'baseline'", max_results=1
    )[0]
    return {
        "iris_experiment": iris.experiment_id,
        "iris_run": iris_runs[0].info.run_id,
        "yolo_artifacts": Path(url2pathname(urlsplit(baseline.info.artifact_uri).path)),
        "zenml_run_name": baseline.info.run_name,
    }


def compose_side_by_side(left: Path, right: Path, out: Path, height: int = 640) -> Path:
    """Write ``left`` and ``right`` scaled to one height, side by side on white."""
    from PIL import Image

    images = []
    for path in (left, right):
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        width = round(image.width * height / image.height)
        images.append(image.resize((width, height), Image.Resampling.LANCZOS))
    gap = 16
    canvas = Image.new("RGB", (sum(i.width for i in images) + gap, height), "white")
    canvas.paste(images[0], (0, 0))
    canvas.paste(images[1], (images[0].width + gap, 0))
    canvas.save(out)
    return out


def _prepare_mlflow_ui(session: Any, experiment_id: str) -> None:
    """Open the MLflow UI as a returning user: assistant panel shut, the runs' key columns."""
    state = {
        "orderByKey": "metrics.`accuracy`",
        "orderByAsc": False,
        "startTime": "ALL",
        "lifecycleFilter": "Active",
        "datasetsFilter": [],
        "modelVersionFilter": "All Runs",
        "selectedColumns": list(RUN_COLUMNS),
    }
    key = f'MLflowLocalStorage-1.1-ExperimentPage-["{experiment_id}"]-ReactComponentState'
    session.page.context.add_init_script(
        "localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');"
        "localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');"
        f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(state))});"
    )


def scaled_copy(source: Path, out: Path, height: int = 640) -> Path:
    """Write ``source`` scaled to ``height``: a photo's PNG costs ~1.5 MB at full size."""
    from PIL import Image

    with Image.open(source) as opened:
        image = opened.convert("RGB")
    width = round(image.width * height / image.height)
    image.resize((width, height), Image.Resampling.LANCZOS).save(out)
    return out


def take_pictures(workspace: Workspace, runs: dict[str, Any], server: Any) -> list[Path]:
    """Photograph the UIs and compose the ultralytics images; return the raw pictures."""
    from tools.screens.browser import browser_session
    from tools.screens.zenml_server import free_port, show_pipeline_run, skip_onboarding

    shots = workspace.shots
    shots.mkdir(parents=True, exist_ok=True)
    ids = _mlflow_ids(workspace)
    with mlflow_ui(workspace, free_port()) as mlflow_url, browser_session() as session:
        _prepare_mlflow_ui(session, ids["iris_experiment"])
        experiment = f"{mlflow_url}/#/experiments/{ids['iris_experiment']}"
        session.page.set_viewport_size({"width": 1440, "height": 560})
        session.open(f"{experiment}/runs", wait_for="Run Name", settle_ms=3000)
        session.shoot(shots / "mlflow-iris-runs.png")
        session.page.set_viewport_size({"width": 1440, "height": 1240})
        session.open(f"{experiment}/runs/{ids['iris_run']}", wait_for="About this run")
        session.shoot(shots / "mlflow-iris-run.png")
        session.page.set_viewport_size({"width": 1440, "height": 760})
        session.open(
            f"{experiment}/runs/{ids['iris_run']}/artifacts/evaluation/confusion_matrix.png",
            wait_for="confusion_matrix.png",
            settle_ms=3000,
        )
        session.shoot(shots / "mlflow-iris-confusion-matrix.png")
        session.page.set_viewport_size({"width": 1440, "height": 520})
        session.open(f"{mlflow_url}/#/models/{YOLO_EXPERIMENT}", wait_for="Version 1")
        session.page.keyboard.press("Escape")  # the "new registry UI" announcement
        session.page.wait_for_timeout(800)
        session.shoot(shots / "mlflow-registry.png")
        session.page.set_viewport_size({"width": 1280, "height": 800})
        session.open(runs["plots_page"].as_uri(), settle_ms=3000)
        session.shoot(shots / "dvc-plots.png", full_page=True, max_height=2400)
        skip_onboarding(server)
        run_id = server.api(f"runs?name={ids['zenml_run_name']}")["items"][0]["id"]
        session.page.set_viewport_size({"width": 1280, "height": 900})
        _, steps = show_pipeline_run(session, server, run_id, shots / "zenml-run-dag.png")
        if len(steps) != 4:
            raise RuntimeError(f"ZenML dashboard shows steps {steps}, expected four")
        if session.refused:
            print(f"  refused (not on this machine): {len(session.refused)} requests", flush=True)
    artifacts = ids["yolo_artifacts"]
    compose_side_by_side(
        artifacts / "results.png", artifacts / "confusion_matrix.png", shots / "yolo-results.png"
    )
    bus = workspace.root / "predictions" / runs["bus"].name
    scaled_copy(bus, shots / "yolo-prediction-bus.png")
    return [shots / name for name in PICTURES]


def publish(raw: list[Path], out: Path) -> list[ImageInfo]:
    """Optimise and check every picture into a staging folder, then replace ``out``'s."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".screens-", dir=out.parent))
    try:
        infos = [check_image(optimise_png(path, staging / path.name)) for path in raw]
        check_total(infos)
        out.mkdir(parents=True, exist_ok=True)
        for info in infos:
            info.path.replace(out / info.path.name)
        return [ImageInfo(out / i.path.name, i.width, i.height, i.colours, i.bytes) for i in infos]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def make_workspace(root: Path, *, reuse_runs: bool = False) -> Workspace:
    """Build a complete workspace at ``root``: runs, logs and raw pictures (minutes).

    With ``reuse_runs`` the runs of an earlier build there are kept and only the pictures
    are taken again.
    """
    from tools.screens.zenml_server import local_server

    runs_file = root / "runs.json"
    if reuse_runs and runs_file.is_file():
        workspace = Workspace(root.resolve())
    else:
        done = _step(f"copy the project into {root}")
        workspace = create_workspace(root)
        done()
    workspace.done.unlink(missing_ok=True)
    with local_server(workspace.env()) as server:
        if reuse_runs and runs_file.is_file():
            saved = json.loads(runs_file.read_text())
            runs = {key: Path(value) for key, value in saved.items()}
        else:
            done = _step(f"make demo, grid, predict, DVC plots (ZenML server {server.url})")
            runs = build_runs(workspace)
            runs_file.write_text(json.dumps({key: str(value) for key, value in runs.items()}))
            done()
        done = _step("pictures: MLflow UI, DVC plots, ZenML dashboard, ultralytics images")
        take_pictures(workspace, runs, server)
        done()
    workspace.done.write_text(json.dumps({"pictures": list(PICTURES)}))
    return workspace


def check_plots_on(params: Path) -> None:
    """Refuse now, not after minutes of runs, a params file whose YOLO runs draw no plots."""
    from src.config import get_config

    if not get_config(params).cv.train.plots:
        raise SystemExit(
            f"error: {params.name}: cv.train.plots is false; the pictures need the YOLO run's "
            "results.png and confusion_matrix.png (set it to true)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the pictures")
    parser.add_argument("--workspace", type=Path, default=None, help="(default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace afterwards")
    parser.add_argument(
        "--reuse-runs", action="store_true", help="take the pictures again over the runs there"
    )
    args = parser.parse_args(argv)
    check_plots_on(ROOT / "params.yaml")
    started = time.monotonic()
    root = args.workspace or Path(tempfile.mkdtemp(prefix="mlops-screens-")) / "ws"
    try:
        workspace = make_workspace(root, reuse_runs=args.reuse_runs)
        infos = publish([workspace.shots / name for name in PICTURES], args.out.resolve())
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    for info in infos:
        print(f"  {info.line}")
    total = sum(i.bytes for i in infos)
    print(
        f"{len(infos)} pictures in {args.out} ({total / 1e6:.2f} MB) "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
