"""ZenML pipelines of the YOLO half: the wiring, and the baseline and grid runners.

``python -m src.zenml_pipelines.run_yolo_pipeline_baseline`` and
``python -m src.zenml_pipelines.run_yolo_pipeline_grid`` need no prior set-up: they
register the local stack (src.zenml_setup) and build the dataset when it is missing.
"""
