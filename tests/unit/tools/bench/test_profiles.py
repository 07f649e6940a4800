"""tools/bench/profiles.py: reading `python -X importtime` output, probing dvc.lock."""

from __future__ import annotations

import os
from pathlib import Path

from tools.bench import profiles


def test_top_imports_reads_importtime_output() -> None:
    output = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        200 |   numpy.core",
            "import time:       300 |    1500000 | numpy",
            "import time:        50 |     250000 | yaml",
        ]
    )
    assert profiles.top_imports(output, 5) == [(1.5, "numpy"), (0.25, "yaml")]


def test_profile_parts_name_functions_the_project_still_has() -> None:
    parts = [*profiles.B1_PARTS.values(), *profiles.B4_PARTS.values(), *profiles.B8_PARTS.values()]
    for file_part, name in parts:
        if file_part.startswith("src/"):
            source = (profiles.ROOT / file_part).read_text()
            assert f"def {name}(" in source, f"{file_part} has no function {name}"


def test_the_lock_rewrite_probe_counts_entries_and_leaves_the_lock_alone(tmp_path: Path) -> None:
    lock = tmp_path / "dvc.lock"
    lock.write_text(
        'schema: "2.0"\n'  # a rewrite would change the quotes: the probe must not write here
        "stages:\n"
        "  prepare:\n"
        "    cmd: python -m src.data.prepare\n"
        "    deps:\n"
        "    - path: src/data/prepare.py\n"
        "      hash: md5\n"
        "      md5: 0123456789abcdef0123456789abcdef\n"
        "      size: 10\n"
        "    outs:\n"
        "    - path: data/processed/train.csv\n"
        "      hash: md5\n"
        "      md5: fedcba9876543210fedcba9876543210\n"
        "      size: 20\n"
    )
    before = lock.read_bytes()
    found = profiles.dvc_lock_rewrite(lock, dict(os.environ), repeats=2)
    assert found["dvc_lock_lines"] == 14
    assert found["dvc_lock_entries"] == 2
    assert isinstance(found["dvc_lock_rewrite_s"], float)
    assert lock.read_bytes() == before
