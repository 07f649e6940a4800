"""mlops-reference: Iris with MLflow + DVC, YOLO-tiny person detector with ZenML + MLflow.

Importing the package applies the project's offline, no-telemetry environment
defaults (see :mod:`src.runtime_env`) before MLflow, DVC, ZenML or ultralytics
are imported by any entry point. It only touches ``os.environ`` and is cheap.
"""

from src.runtime_env import apply_runtime_defaults

apply_runtime_defaults()
