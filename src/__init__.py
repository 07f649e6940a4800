"""mlops-reference: Iris with MLflow + DVC, YOLO-tiny person detector with ZenML + MLflow.

Importing the package does nothing: the entry points (:func:`src.cli.run_main`, the
make targets) apply the offline, no-telemetry environment and the state folders of
:mod:`src.runtime_env` before MLflow, DVC, ZenML or ultralytics are imported.
"""
