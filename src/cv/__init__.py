"""The YOLO half's library: dataset, training, evaluation, selection and the decision report.

:mod:`src.cv.dataset` builds and checks the data; :mod:`src.cv.inputs` checks what a
training is given (dataset, model, device) before anything starts; :mod:`src.cv.training`
trains one configuration into one MLflow run; :mod:`src.cv.evaluation` scores the weights on
the held-out split; :mod:`src.cv.selection` picks and registers a grid's best run; and
:mod:`src.cv.report` writes the decision report. ``python -m src.train_cv`` and the ZenML
steps are thin callers of these functions.
"""
