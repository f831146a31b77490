"""A written page opened in Debian's headless Chromium, with what it asked for and said.

Shared by the browser tests of the report and of the drift page: one launch, one
viewport, every request, console warning or error and page error recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class PageLog:
    """The page's address, and what it requested and reported while it was open."""

    url: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def opened(path: Path, width: int = 1280, height: int = 900) -> Iterator[tuple[Page, PageLog]]:
    """``path`` loaded in a fresh headless Chromium tab of ``width`` x ``height`` pixels."""
    log = PageLog(url=path.resolve().as_uri())

    def on_console(message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            log.console.append(f"{message.type}: {message.text}")

    def on_request(request: Request) -> None:
        log.requests.append(request.url)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": width, "height": height})
            tab.on("console", on_console)
            tab.on("pageerror", lambda error: log.errors.append(str(error)))
            tab.on("request", on_request)
            tab.goto(log.url, wait_until="load")
            yield tab, log
        finally:
            browser.close()
