"""Terminal helpers over the MLflow store in use: the UI server, model serving, a runs table.

python -m src.tracking_cli ui [--host 127.0.0.1] [--port 5000]
python -m src.tracking_cli serve iris|yolo|MODEL_URI [--host 127.0.0.1] [--port 5001]
python -m src.tracking_cli experiments [--max-runs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from src.tracking import CHAMPION_ALIAS, embedded_artifact_root, is_embedded, tracking_uri

KEY_METRICS = ("accuracy", "f1_macro", "map50", "map50_95")


def _mlflow_command(*args: str, host: str, port: int) -> list[str]:
    """Return this interpreter's ``mlflow`` command line for a server on ``host:port``."""
    # One worker: on 2 cores more only cost memory and start-up.
    return [sys.executable, "-m", "mlflow", *args, "--host", host, "--port", str(port),
            "--workers", "1"]  # fmt: skip


def serve_ui(host: str, port: int) -> int:
    """Replace this process with ``mlflow server`` over the configured store."""
    uri = tracking_uri()
    if not is_embedded(uri):
        print(f"MLFLOW_TRACKING_URI={uri} is already a server: open it in a browser.")
        return 0
    artifacts = embedded_artifact_root(uri)
    command = _mlflow_command("server", "--backend-store-uri", uri, host=host, port=port)
    if artifacts is not None:
        artifacts.mkdir(parents=True, exist_ok=True)
        command += ["--default-artifact-root", artifacts.as_uri()]
    print(f"MLflow UI on http://{host}:{port} over {uri} (Ctrl-C to stop)", flush=True)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover - execv does not return


def champion_uri(model: str, params_path: str | None = None) -> str:
    """Return the URI to serve: ``iris``/``yolo`` name params.yaml's champions, else as given."""
    if model not in ("iris", "yolo"):
        return model
    from src.config import get_config

    config = get_config(params_path)
    name = (
        config.mlflow.registered_model_name
        if model == "iris"
        else config.cv.tracking.registered_model_name
    )
    return f"models:/{name}@{CHAMPION_ALIAS}"


def serve_model(model: str, host: str, port: int, params_path: str | None = None) -> int:
    """Replace this process with ``mlflow models serve`` of ``model`` (checked first)."""
    from src.tracking import check_model_uri

    uri = check_model_uri(champion_uri(model, params_path))
    command = _mlflow_command(
        "models", "serve", "--model-uri", uri, "--env-manager", "local", host=host, port=port
    )
    # The served process resolves models:/ in the same store; it execs `uvicorn` from PATH,
    # so this interpreter's bin folder (the venv's) goes first.
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri(),
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
    }
    print(f"serving {uri} on http://{host}:{port}/invocations (Ctrl-C to stop)", flush=True)
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return


def list_experiments(max_runs: int) -> int:
    """Print each experiment and its latest runs with key metrics."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri())
    experiments = client.search_experiments()
    if not experiments:
        print(f"no experiments in {tracking_uri()} yet: run `make train` or `make demo`")
        return 0
    for experiment in experiments:
        runs = client.search_runs(
            [experiment.experiment_id],
            max_results=max_runs,
            order_by=["attributes.start_time DESC"],
        )
        print(f"\n{experiment.name}  (id {experiment.experiment_id}, {len(runs)} latest runs)")
        for run in runs:
            metrics = "  ".join(
                f"{k}={run.data.metrics[k]:.4f}" for k in KEY_METRICS if k in run.data.metrics
            )
            name = run.info.run_name or run.info.run_id[:8]
            print(f"  {name:<28} {run.info.status:<9} {metrics}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ui = commands.add_parser("ui", help="serve the MLflow UI over the store in use")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=5000)
    serve = commands.add_parser("serve", help="serve a registered model (mlflow models serve)")
    serve.add_argument(
        "model", help="iris, yolo (their champions in params.yaml) or a models:/ URI or folder"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5001)
    serve.add_argument("--params", default=None, help="params file (default: params.yaml)")
    listing = commands.add_parser("experiments", help="list experiments and runs")
    listing.add_argument("--max-runs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.command == "ui":
        return serve_ui(args.host, args.port)
    if args.command == "serve":
        return serve_model(args.model, args.host, args.port, args.params)
    return list_experiments(args.max_runs)


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
