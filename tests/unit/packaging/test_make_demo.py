"""`make demo` numbers its steps: "[i/N] what ..." before each command, 1..N in order."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_every_demo_step_is_announced_with_its_number() -> None:
    dry = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    lines = [line for line in dry.stdout.splitlines() if line.strip()]
    step = re.compile(r'echo "\[(\d+)/(\d+)\] (.+) \.\.\."$')
    announced = [(i, m) for i, line in enumerate(lines) if (m := step.match(line))]
    total = int(announced[0][1].group(2))
    assert [int(m.group(1)) for _, m in announced] == list(range(1, total + 1))
    assert {int(m.group(2)) for _, m in announced} == {total}
    for i, _ in announced:  # each announcement is followed by the command it announces
        assert not lines[i + 1].startswith("echo")
    commands = [line for line in lines[announced[0][0] :] if not line.startswith("echo")]
    assert len(commands) == total  # one command per step, none unannounced
