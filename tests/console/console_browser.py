"""Helpers and fixtures for the console's browser tests: a person's browser and their
phone app.

Test modules load the fixtures with ``pytest_plugins = ["console_browser"]``. There is
deliberately no conftest.py here: a second module named ``conftest`` would shadow the
suite's own for the test modules that import from it.

``browser`` is one headless Debian Chromium per module; ``open_visitor(who)`` gives a test
a fresh browser context (a person with their own cookies) against ``sealbook_server``.

:class:`Visitor` wraps one Playwright browser context (its own cookies) and saves a
screenshot of every page it lands on under ``var/test-artifacts/console/<test>/<who>/``.
:class:`Authenticator` computes TOTP codes with pyotp the way a phone app would, never
reusing a step (the server accepts each step once).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from fixtures.server import Person, SealbookServer
from sealbook.keys.model import KeyStatus

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "console"
STEP_S = 30
DEFAULT_PASSPHRASE = "Passphrase1234"
# Use the previous step's code only this far into the current one (the server checks a
# moment later and must still see it as "previous").
PREVIOUS_MARGIN_S = 2.0


@dataclass(slots=True)
class Authenticator:
    """A phone app holding a TOTP seed; hands out each step's code at most once."""

    secret: str = field(repr=False)
    last_step: int = -1

    def code(self) -> str:
        totp = pyotp.TOTP(self.secret)
        for _ in range(4):
            now = time.time()
            now_step = int(now // STEP_S)
            step = max(self.last_step + 1, now_step - 1)
            if step == now_step - 1 and now % STEP_S < PREVIOUS_MARGIN_S:
                time.sleep(PREVIOUS_MARGIN_S - now % STEP_S)
            elif step <= now_step + 1:
                self.last_step = step
                return totp.at(step * STEP_S)
            else:
                time.sleep(STEP_S - now % STEP_S + 0.05)
        raise RuntimeError("no unused TOTP step became valid")

    def wrong_code(self) -> str:
        """A code for a step far outside the accepted window."""
        return pyotp.TOTP(self.secret).at(time.time() - 3600)


class Visitor:
    """One person's browser: pages under the console, a screenshot after each step."""

    def __init__(self, context: BrowserContext, base_url: str, shots: Path) -> None:
        self.context = context
        self.page: Page = context.new_page()
        self.base = base_url + "/console"
        self.shots = shots
        self._count = 0

    def shot(self, name: str) -> None:
        self._count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{self._count:02d}-{slug}.png"), full_page=True)

    def goto(self, path: str, name: str | None = None) -> int:
        response = self.page.goto(self.base + path)
        self.shot(name or path)
        return response.status if response is not None else 0

    def submit(self, button: str, name: str) -> None:
        """Click a submit button (by its text) and wait for the next page."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button, exact=True).click()
        self.shot(name)

    def fill(self, values: dict[str, str]) -> None:
        for label, value in values.items():
            self.page.get_by_label(label, exact=True).fill(value)

    # --- flows every test needs ------------------------------------------------------

    def sign_up(self, name: str, password: str) -> None:
        self.goto("/signup", "sign up form")
        self.fill({"Name": name, "Password": password, "Password again": password})
        self.submit("Create account", "signed up")

    def sign_in(self, name: str, password: str) -> None:
        self.goto("/signin", "sign in form")
        self.fill({"Name": name, "Password": password})
        self.submit("Sign in", "signed in")

    def enrol_totp(self) -> Authenticator:
        """Start enrolment, read the seed off the page, confirm with a fresh code."""
        self.goto("/security", "security before 2FA")
        self.submit("Set up two-factor authentication", "2FA QR code")
        assert (
            self.page.locator("img.qr")
            .get_attribute("src", timeout=5000)
            .startswith("data:image/svg+xml")
        )
        app = Authenticator(self.page.locator("#totp-secret").input_value())
        self.fill({"Code shown by the app": app.code()})
        self.submit("Confirm", "2FA confirmed")
        return app

    def create_key(
        self,
        app: Authenticator,
        *,
        label: str,
        perms: tuple[str, ...] = (),
        ips: str = "",
        passphrase: str = DEFAULT_PASSPHRASE,
        code: str | None = None,
    ) -> None:
        self.goto("/keys/new", f"new key form {label}")
        self.fill({"Label": label, "IP allowlist": ips, "Passphrase": passphrase})
        for perm in perms:
            self.page.locator(f"#new-perm-{perm}").check()
        self.fill({"Authenticator code": code if code is not None else app.code()})
        self.submit("Create key", f"key created {label}")

    def csrf(self) -> str:
        return self.page.locator("input[name=csrf]").first.input_value()


class VisitorFactory(Protocol):
    """The type of ``open_visitor``: ``open_visitor("alice", javascript=False)``; another
    server than ``sealbook_server`` with ``base_url``."""

    def __call__(
        self, who: str, *, javascript: bool = True, base_url: str | None = None
    ) -> Visitor: ...


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield browser
    browser.close()


@pytest.fixture
def shots_dir(request: pytest.FixtureRequest) -> Path:
    path = ARTIFACTS / request.node.name
    shutil.rmtree(path, ignore_errors=True)
    return path


@pytest.fixture
def open_visitor(
    browser: Browser, sealbook_server: SealbookServer, shots_dir: Path
) -> Iterator[VisitorFactory]:
    contexts: list[BrowserContext] = []

    def make(who: str, *, javascript: bool = True, base_url: str | None = None) -> Visitor:
        context = browser.new_context(java_script_enabled=javascript)
        contexts.append(context)
        return Visitor(context, base_url or sealbook_server.base_url, shots_dir / who)

    yield make
    for context in contexts:
        context.close()


def signed_in(
    server: SealbookServer, open_visitor: VisitorFactory, *, javascript: bool = False
) -> tuple[Person, Visitor]:
    """A person made through the services (2FA on), signed in through the browser."""
    person = server.person()
    visitor = open_visitor(person.name, javascript=javascript)
    visitor.sign_in(person.name, person.password)
    assert visitor.page.url.endswith("/console/")
    return person, visitor


def key_status(server: SealbookServer, api_key: str) -> KeyStatus:
    """What the key service says of ``api_key`` now."""
    record = server.keys.show(api_key)
    return record.status(server.ctx.clock.now_ms(), server.ctx.settings.unbound_key_lapse_days)
