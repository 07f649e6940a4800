"""Exception types the project raises at its boundaries.

Every failure a user can fix (a bad params file, missing data, an unreachable
server) is one of these. Entry points turn them into a single line on stderr and
a non-zero exit code with :func:`src.cli.run_main`; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations


class MlopsError(Exception):
    """Base class: a problem the user can act on, reported as one line."""

    exit_code = 1


class ConfigError(MlopsError):
    """params.yaml (or an override) does not satisfy the schema."""

    exit_code = 2


class DataError(MlopsError):
    """An input data file is missing or does not have the expected content."""

    exit_code = 3


class OutputError(MlopsError):
    """An output location cannot be written."""

    exit_code = 4


class TrackingError(MlopsError):
    """The MLflow tracking server or store cannot be used."""

    exit_code = 5


class ServiceError(MlopsError):
    """An external service (S3, ZenML server, DVC remote) is unreachable or refuses us."""

    exit_code = 6


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (CI cancel, ``timeout``, ``docker stop``, Kubernetes).

    A KeyboardInterrupt, so every ``finally`` and every run-closing handler that copes
    with Ctrl-C copes with it the same way; the entry point exits 143 (128 + SIGTERM).
    """
