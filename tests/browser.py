"""Headless Chromium for the tests that look at a page: DOM dumps and screenshots.

Debian's chromium (``make test-tools`` installs it) has no clicking, but ``--dump-dom``
after a virtual-time budget shows what the page's scripts drew, and a screenshot shows
whether anything was drawn at all.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
#: Networking off: every host name fails to resolve and every request goes to a dead proxy.
OFFLINE_FLAGS: tuple[str, ...] = (
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def find_chromium() -> str | None:
    """Return the path of a Chromium-like browser, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="no chromium: `make test-tools` installs Debian's chromium with apt-get (needs root)",
)


def run_chromium(
    url: str,
    *extra: str,
    profile: Path,
    window: tuple[int, int] = (1600, 1000),
    budget_ms: int = 30000,
    offline: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on ``url`` with ``extra`` flags (``--dump-dom``, ``--screenshot``)."""
    browser = find_chromium()
    assert browser is not None
    flags = [
        *FLAGS,
        *(OFFLINE_FLAGS if offline else ()),
        f"--window-size={window[0]},{window[1]}",
        # Single-page apps and vega-embed draw after load: give their scripts time.
        f"--virtual-time-budget={budget_ms}",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [browser, *flags, *extra, url], capture_output=True, text=True, timeout=240
    )


def colours(screenshot: Path) -> int:
    """Return how many distinct colours a screenshot has (a blank page has one or two)."""
    from PIL import Image

    with Image.open(screenshot) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 22) or [])
