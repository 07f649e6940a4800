"""Glue shared by the command-line entry points: environment, one-line errors, exit codes."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from src.collector import skip_the_exit_collection
from src.errors import MlopsError, Terminated
from src.runtime_env import apply_runtime_defaults


def run_main(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> None:
    """Run ``main`` and exit; a :class:`MlopsError` becomes one line on stderr.

    The environment defaults (``.env``, offline switches, state folders) are applied
    first, before ``main`` imports any tool: entry modules import them lazily. SIGTERM
    is handled like Ctrl-C (runs end KILLED, staging folders go), with exit code 143.
    """
    apply_runtime_defaults()
    skip_the_exit_collection()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        code = main(argv)
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Terminated:
        print("terminated (SIGTERM)", file=sys.stderr)
        sys.exit(143)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # Once is enough: a second SIGTERM while cleaning up must not cut the cleanup short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()
