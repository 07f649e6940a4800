"""Stage ``export``: package the trained model as an MLflow model directory for serving.

    python -m src.deploy.export
    mlflow models serve -m models/iris_mlflow_model --env-manager local -p 5001

The model file is loaded only after its sha256 matches ``models/metadata.json``;
the directory is built beside the target and swapped in, so a failed export
leaves the previous one in place.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from src.collector import quiet_start_up
from src.config import EXPORTED_MODEL_DIR, IRIS_FEATURES, METADATA_FILE, TEST_CSV
from src.errors import OutputError
from src.io_utils import ensure_writable_dir


@quiet_start_up()  # no collection walks the MLflow and skops it imports (tools/bench/NOTES.md, B3)
def export_mlflow_model(
    metadata_path: Path = METADATA_FILE,
    out_dir: Path = EXPORTED_MODEL_DIR,
    example_csv: Path = TEST_CSV,
) -> Path:
    """Write an MLflow (skops-format) model directory at ``out_dir``; return it."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    from src.iris.dataset import read_iris_csv
    from src.iris.model_io import SKOPS_TRUSTED_TYPES, load_verified_model, model_requirements
    from src.workarounds import import_skops_io, pinned_requirements

    import_skops_io()  # save_model writes skops; this import skips loading torch
    model = load_verified_model(metadata_path)
    example = read_iris_csv(example_csv)[list(IRIS_FEATURES)].head(5)
    ensure_writable_dir(out_dir.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        built = staging / "model"
        # Requirements pinned to the installed versions: MLflow's mismatch check is moot.
        with pinned_requirements():
            mlflow.sklearn.save_model(
                model,
                built,
                signature=infer_signature(example, model.predict(example)),
                input_example=example,
                pip_requirements=model_requirements(),
                skops_trusted_types=SKOPS_TRUSTED_TYPES,
            )
        previous = staging / "previous"
        if out_dir.exists():
            out_dir.rename(previous)
        built.rename(out_dir)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write the exported model ({exc})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metadata", type=Path, default=METADATA_FILE)
    parser.add_argument("--out", type=Path, default=EXPORTED_MODEL_DIR)
    args = parser.parse_args(argv)
    path = export_mlflow_model(args.metadata, args.out)
    print(
        f"export: MLflow model at {path}; serve it with "
        f"`mlflow models serve -m {path} --env-manager local`"
    )
    return 0


if __name__ == "__main__":
    from src.cli import run_main

    run_main(main)
