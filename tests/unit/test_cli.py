"""``src.cli.run_main``: how every entry point ends its process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: A command whose exit handlers report what they saw. The first is registered before
#: run_main (so it runs after run_main's), the second while the command runs (before it).
PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("after:", gc.get_freeze_count() > 0, flush=True))
from src.cli import run_main

def main(argv):
    atexit.register(lambda: print("tool handler:", gc.get_freeze_count() > 0, flush=True))
    return 0

run_main(main, [])
"""


def test_the_heap_is_frozen_at_exit_after_the_tools_own_exit_handlers() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    # The tool's handler ran before the freeze (it could still rely on the collector),
    # and the interpreter's final collections then had nothing left to walk.
    assert result.stdout.splitlines() == ["tool handler: False", "after: True"]
