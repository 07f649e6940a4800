"""The scale-out stack: S3 (MinIO or moto), an MLflow server and a ZenML server.

* :mod:`src.stack.settings` reads the one configuration (environment / ``.env``).
* :mod:`src.stack.local_services` runs the stack without Docker on loopback.
* :mod:`src.stack.register` bootstraps ZenML and DVC against either stack.
* :mod:`src.stack.doctor` checks every piece and says what to fix.

``python -m src.stack --help`` lists the commands; the Makefile's "Full stack"
section wraps them. Nothing heavy is imported here: each command imports what it uses.
"""
