"""The whole path a new user walks, in Chromium, against the real server:

sign up → enrol 2FA (seed read off the page, codes from pyotp) → create an HMAC key with
read and spot trade → copy the secret off the page → ccxt ``fetch_balance`` and a limit
order → revoke in the browser → ccxt now gets ``AuthenticationError``. Then: the secret
is gone from the page after a reload and never reached the server's log or database, and
the activity page shows the sign-in, the key events and a rejected signature.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import ccxt
import pytest

from fixtures.server import Person, SealbookServer, ccxt_client

if TYPE_CHECKING:
    from console_browser import Visitor, VisitorFactory

pytestmark = pytest.mark.e2e
# The browser fixtures (browser, open_visitor...); see console_browser.py.
pytest_plugins = ["console_browser"]

PASSWORD = "correct horse battery staple"
PASSPHRASE = "Journey2Passphrase"


def _wait_for_activity(visitor: Visitor, kind: str, timeout_s: float = 10.0) -> None:
    """The server writes rejected authentications once a second: reload until shown."""
    deadline = time.monotonic() + timeout_s
    while True:
        visitor.goto("/activity", "activity")
        if visitor.page.locator(f"#activity td:text-is('{kind}')").count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{kind} never appeared on the activity page")
        time.sleep(0.5)


def test_new_user_journey(sealbook_server: SealbookServer, open_visitor: VisitorFactory) -> None:
    server = sealbook_server
    alice = open_visitor("alice")
    page = alice.page

    alice.sign_up("alice", PASSWORD)
    assert page.url.endswith("/console/security")
    assert "Off." in page.locator("#totp-status").inner_text()

    app = alice.enrol_totp()
    assert "Two-factor authentication is on." in page.locator(".notice").inner_text()
    assert page.locator("#totp-status").inner_text().startswith("On.")

    # Create the key: read is implied, spot trade checked, bound to loopback.
    alice.create_key(
        app, label="trading bot", perms=("spot_trade",), ips="127.0.0.1", passphrase=PASSPHRASE
    )
    assert page.url.endswith("/console/keys/created")
    assert "never be shown" in page.locator("#secret-warning").inner_text()
    api_key = page.locator("#api-key").input_value()
    assert api_key.startswith("sbk_")
    # Copy the secret with the page's button (its script is the console's only one) and
    # take it from the clipboard, as a person pasting it into their bot would.
    alice.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = page.locator("button[data-copy=secret-key]")
    copy.click()
    page.wait_for_function(
        "document.querySelector('[data-copy=secret-key]').textContent === 'Copied'"
    )
    secret = page.evaluate("navigator.clipboard.readText()")
    assert secret == page.locator("#secret-key").input_value()
    assert len(secret) == 64

    # The key is listed with its middle elided, the right rights and the allowlist.
    alice.goto("/keys", "key list")
    row = page.locator("#key-list tbody tr").first
    cells = row.inner_text()
    assert api_key not in page.content()
    assert api_key[:10] in cells and api_key[-6:] in cells
    assert "read, spot_trade" in cells
    assert "127.0.0.1" in cells
    assert "active" in cells
    page.set_viewport_size({"width": 390, "height": 844})
    alice.shot("key list on a phone")
    page.set_viewport_size({"width": 1280, "height": 720})

    # Funds, then ccxt with exactly what the page showed.
    user_id = server.accounts.get("alice").id
    server.deposit(Person("alice", user_id, PASSWORD, app.secret), "USDT", "1000")
    exchange = ccxt_client(server.base_url, api_key, secret, PASSPHRASE)
    assert exchange.fetch_balance()["USDT"]["free"] == 1000.0
    order = exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 20000)
    assert order["id"]
    balance = exchange.fetch_balance()
    assert balance["USDT"]["used"] == 20.0
    assert balance["USDT"]["free"] == 980.0

    # A wrong secret is rejected and recorded against Alice's key.
    forged = ccxt_client(server.base_url, api_key, "0" * 64, PASSPHRASE)
    with pytest.raises(ccxt.AuthenticationError):
        forged.fetch_balance()

    # The overview shows the balance and the open order the API placed.
    alice.goto("/", "overview with order")
    assert "980" in page.locator("#balances").inner_text()
    orders = page.locator("#open-orders").inner_text()
    assert "BTCUSDT" in orders and "buy" in orders and "20000" in orders

    # Revoke in the browser, with a code.
    alice.goto("/keys", "key list before revoke")
    key_id = page.locator("#key-list tbody tr").first.get_attribute("data-key-id")
    assert key_id is not None
    alice.goto(f"/keys/{key_id}", "key detail")
    alice.fill({"Reason (optional)": "journey done"})
    page.locator("#revoke-code").fill(app.code())
    alice.submit("Revoke", "key revoked")
    assert page.url.endswith("/console/keys")
    assert "revoked" in page.locator("#key-list tbody tr").first.inner_text()

    with pytest.raises(ccxt.AuthenticationError):
        exchange.fetch_balance()

    _wait_for_activity(alice, "auth.rejected")
    activity = page.locator("#activity").inner_text()
    for kind in ("user.created", "totp.confirmed", "key.created", "key.revoked"):
        assert kind in activity
    assert "sign signature error" in activity
    assert "permissions: read, spot_trade" in activity
    assert api_key[:10] in activity


def test_secret_shown_once_and_never_stored(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    bob = open_visitor("bob")
    bob.sign_up("bob", PASSWORD)
    app = bob.enrol_totp()
    totp_secret = app.secret
    bob.create_key(app, label="once", perms=("spot_trade",), ips="127.0.0.1")
    page = bob.page
    secret = page.locator("#secret-key").input_value()
    assert len(secret) == 64

    # Reload: the slot is empty, the page says so, the secret is nowhere in it.
    response = page.reload()
    bob.shot("created page reloaded")
    assert response is not None
    assert response.headers["cache-control"] == "no-store"
    assert page.locator("#already-shown").is_visible()
    assert secret not in page.content()

    # Back and forward again: still only the "already shown" page.
    bob.goto("/keys", "key list")
    page.go_back()
    bob.shot("back to created page")
    assert secret not in page.content()
    assert page.locator("#already-shown").is_visible()

    # The 2FA setup page does not show the seed again either.
    bob.goto("/security/totp", "2FA page revisited")
    assert page.locator("#already-shown").is_visible()
    assert totp_secret not in page.content()

    # Neither secret reached the server's log or its database files.
    for path in server.stored_files():
        data = path.read_bytes()
        assert secret.encode() not in data, path
        assert totp_secret.encode() not in data, path
        assert PASSWORD.encode() not in data, path
