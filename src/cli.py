"""Glue shared by the command-line entry points: one-line errors and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable

from src.errors import MlopsError


def run_main(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> None:
    """Run ``main`` and exit; a :class:`MlopsError` becomes one line on stderr."""
    try:
        code = main(argv)
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
