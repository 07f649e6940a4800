"""ZenML steps of the YOLO pipeline: thin typed wrappers over the plain functions in src.cv.

Import this package only after :func:`src.zenml_setup.client.prepare_zenml` (the runners do),
since importing a step module imports zenml.
"""
