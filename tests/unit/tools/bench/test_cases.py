"""tools/bench/cases.py: which cases a command line selects."""

from __future__ import annotations

import pytest

from tools.bench import cases


def test_selection_defaults_to_every_case_but_the_install() -> None:
    default = [b.id for b in cases.select(None, everything=False)]
    assert "B7" not in default
    assert default[:6] == [f"B{i}" for i in range(1, 7)]
    assert {"B8", "B9"} <= set(default)
    assert "B7" in [b.id for b in cases.select(None, everything=True)]
    assert [b.id for b in cases.select("b6, B1", everything=False)] == ["B6", "B1"]
    with pytest.raises(SystemExit, match="unknown id"):
        cases.select("B99", everything=False)
