"""The scale-out stack: S3 (MinIO or moto), an MLflow server and a ZenML server.

* :mod:`src.services.settings` reads the one configuration (environment / ``.env``).
* :mod:`src.services.processes` runs the stack without Docker on loopback.
* :mod:`src.services.bootstrap` bootstraps ZenML and DVC against either stack.
* :mod:`src.services.doctor` checks every piece and says what to fix.

``python -m src.services --help`` lists the commands; the Makefile's "Full stack"
section wraps them. Nothing heavy is imported here: each command imports what it uses.
"""
