"""ZenML pipelines of the YOLO half: the wiring, and the baseline, grid and study runners.

``python -m src.zenml_pipelines.run_yolo_pipeline_baseline``,
``python -m src.zenml_pipelines.run_yolo_pipeline_grid`` and
``python -m src.zenml_pipelines.run_yolo_tune`` need no prior set-up: they register the
local stack (src.zenml_setup) and build the dataset when it is missing.
"""
