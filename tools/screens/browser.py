"""Headless Chromium driven by playwright, with every request off loopback refused.

playwright drives the system's chromium (``make test-tools`` installs Debian's) through
``executable_path``: playwright's own browser download is never used. A page may load
``file://`` and ``http://127.0.0.1`` only; anything else is aborted and recorded, so a
screenshot can never depend on the internet.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

#: Names the browser goes by on Debian, Ubuntu and Google's package.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: Networking off at the browser level too: names do not resolve, the proxy is dead.
OFFLINE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1;localhost",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
VIEWPORT = (1280, 800)


class BrowserError(RuntimeError):
    """No browser here, or a page did not show what it should."""


def find_browser() -> str | None:
    """Return the path of a Chromium-like browser on PATH, or None."""
    for name in BROWSER_NAMES:
        if path := shutil.which(name):
            return path
    return None


@dataclass
class Session:
    """One open page and the requests it was refused (anything not on this machine)."""

    page: Page
    refused: list[str] = field(default_factory=list)

    def open(self, url: str, *, wait_for: str | None = None, settle_ms: int = 1500) -> None:
        """Load ``url``, wait for the ``wait_for`` text and a quiet network (10 s at most)."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.page.goto(url, wait_until="load", timeout=90_000)
        if wait_for is not None:
            self.page.get_by_text(wait_for, exact=False).first.wait_for(timeout=60_000)
        # UIs that poll (MLflow's) never go idle: wait a while, not for ever.
        with contextlib.suppress(PlaywrightTimeout):
            self.page.wait_for_load_state("networkidle", timeout=10_000)
        # Single-page apps animate in after their data arrives: let the picture settle.
        self.page.wait_for_timeout(settle_ms)

    def shoot(self, path: Path, *, full_page: bool = False, max_height: int = 2000) -> Path:
        """Save a screenshot of the viewport (or the whole page, cut at ``max_height``)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        clip: dict[str, float] | None = None
        if full_page:
            height = min(max_height, self.page.evaluate("document.body.scrollHeight"))
            width = self.page.viewport_size["width"] if self.page.viewport_size else VIEWPORT[0]
            clip = {"x": 0, "y": 0, "width": width, "height": max(height, 1)}
        self.page.screenshot(path=str(path), full_page=full_page, clip=clip)  # type: ignore[arg-type]
        return path


def _only_local(refused: list[str]) -> Any:
    def handle(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("file", "data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    return handle


#: How long one browser action (click, fill, wait) may take before it is an error.
ACTION_TIMEOUT_MS = 90_000


@contextmanager
def browser_session(viewport: tuple[int, int] = VIEWPORT) -> Iterator[Session]:
    """Yield a :class:`Session` on headless Chromium that reaches only this machine."""
    executable = find_browser()
    if executable is None:
        raise BrowserError("no chromium on PATH: `make test-tools` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=list(OFFLINE_ARGS), headless=True
        )
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                device_scale_factor=1,
                service_workers="block",
            )
            # Playwright's 30 s default for a click or a fill is short for a dashboard that a
            # busy 2-core machine (make test's workers, a training) renders: a single-page app's
            # login click was measured to outlast it there.
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            session = Session(context.new_page())
            context.route("**/*", _only_local(session.refused))
            yield session
        finally:
            browser.close()
