"""Project tools: dataset builders run by DVC, and the benchmark (``python -m tools.bench``)."""
