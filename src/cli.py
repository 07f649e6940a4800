"""Glue shared by the command-line entry points: environment, one-line errors, exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable

from src.errors import MlopsError
from src.runtime_env import apply_runtime_defaults


def run_main(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> None:
    """Run ``main`` and exit; a :class:`MlopsError` becomes one line on stderr.

    The environment defaults (``.env``, offline switches, state folders) are applied
    first, before ``main`` imports any tool: entry modules import them lazily.
    """
    apply_runtime_defaults()
    try:
        code = main(argv)
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
