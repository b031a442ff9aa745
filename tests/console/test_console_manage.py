"""Managing keys, addresses and 2FA in Chromium with JavaScript off (plain forms and
redirects), against the real server: edit with the withdraw rule, rotate with the new
secret shown once, an Ed25519 key, the address book, and turning 2FA off, which revokes
every key that can move money after saying so."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ccxt
import pytest
from console_browser import key_status, signed_in
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from fixtures.server import SealbookServer, ccxt_client
from sealbook.exchange.addresses import AddressService
from sealbook.keys.model import KeyStatus
from sealbook.keys.permissions import Permission
from sealbook.markets import default_catalog

if TYPE_CHECKING:
    from console_browser import VisitorFactory

pytestmark = pytest.mark.e2e
# The browser fixtures (browser, open_visitor...); see console_browser.py.
pytest_plugins = ["console_browser"]

PASSPHRASE = "RotatedPass2024"


def test_edit_a_key_and_the_withdraw_rule(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    person, visitor = signed_in(server, open_visitor)
    page = visitor.page
    old = server.issue_key(person, perms=["spot_trade"], label="bot")
    record = server.keys.show(old.api_key)

    # Withdraw without an allowlist: the service's rule (checked before the code), shown
    # as a form error.
    visitor.goto(f"/keys/{record.id}", "detail")
    page.locator("#edit-perm-withdraw").check()
    page.locator("#edit-code").fill("000000")
    visitor.submit("Save changes", "withdraw refused")
    assert "needs an IP allowlist" in page.locator("#form-error").inner_text()
    assert page.locator("#edit-perm-withdraw").is_checked()  # the form keeps what was typed
    assert Permission.WITHDRAW not in server.keys.show(old.api_key).permissions

    visitor.goto(f"/keys/{record.id}", "detail again")
    page.locator("#edit-perm-withdraw").check()
    page.locator("#edit-ips").fill("127.0.0.1, 10.0.0.0/8")
    page.locator("#edit-label").fill("bot v2")
    page.locator("#edit-code").fill(server.totp(person))
    visitor.submit("Save changes", "edited")
    assert "updated" in page.locator(".notice").inner_text()
    edited = server.keys.show(old.api_key)
    assert edited.label == "bot v2"
    assert edited.ips == ("127.0.0.1", "10.0.0.0/8")
    assert edited.permissions == {Permission.READ, Permission.SPOT_TRADE, Permission.WITHDRAW}


def test_rotate_shows_the_new_secret_once(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    person, visitor = signed_in(server, open_visitor)
    page = visitor.page
    old = server.issue_key(person, perms=["spot_trade"], ips=["127.0.0.1"], label="bot")
    record = server.keys.show(old.api_key)
    visitor.goto(f"/keys/{record.id}", "detail")

    # Rotate: the new secret once, the old key in its grace period.
    page.locator("#rotate-passphrase").fill(PASSPHRASE)
    page.locator("#rotate-code").fill(server.totp(person))
    visitor.submit("Rotate", "rotated")
    assert page.url.endswith("/console/keys/created")
    new_key = page.locator("#api-key").input_value()
    new_secret = page.locator("#secret-key").input_value()
    assert new_key != old.api_key
    assert old.api_key[:10] in page.locator("main").inner_text()
    visitor.goto("/keys/created", "rotated reloaded")
    assert new_secret not in page.content()

    fresh = ccxt_client(server.base_url, new_key, new_secret, PASSPHRASE)
    assert fresh.fetch_balance()["info"] == []
    assert key_status(server, old.api_key) is KeyStatus.ROTATING
    assert server.client(old).fetch_balance()["info"] == []


def test_ed25519_key_has_no_secret_to_show(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    person, visitor = signed_in(server, open_visitor)
    page = visitor.page
    public_pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    visitor.goto("/keys/new", "new ed25519 key")
    page.locator("#type-ed25519").check()
    visitor.fill(
        {
            "Label": "signer",
            "Public key (RSA or Ed25519 only, PEM)": public_pem,
            "Passphrase": "Passphrase1234",
            "Authenticator code": server.totp(person),
        }
    )
    visitor.submit("Create key", "ed25519 created")
    assert page.locator("#secret-key").count() == 0
    assert "holds only the public half" in page.locator("main").inner_text()
    (record,) = server.keys.list(person.name)
    assert record.key_type.value == "ed25519"
    assert record.sealed_secret is None


def test_address_book(sealbook_server: SealbookServer, open_visitor: VisitorFactory) -> None:
    server = sealbook_server
    person, visitor = signed_in(server, open_visitor)
    page = visitor.page
    book = AddressService(server.ctx, server.accounts, default_catalog())
    address = "TConsoleAddress1111111111111111111"

    visitor.goto("/addresses", "empty book")
    visitor.fill(
        {"Coin": "usdt", "Chain": "TRC20", "Address": address, "Authenticator code": "000000"}
    )
    visitor.submit("Add address", "wrong code")
    assert "code was refused" in page.locator("#form-error").inner_text()
    assert page.locator("#address").input_value() == address
    assert book.list(person.name) == []

    page.locator("#code").fill(server.totp(person))
    visitor.submit("Add address", "added")
    (booked,) = book.list(person.name)
    assert (booked.coin, booked.chain, booked.address) == ("USDT", "TRC20", address)
    assert address in page.locator("#address-list").inner_text()

    visitor.submit("Remove", "removed")
    assert book.list(person.name) == []
    assert page.locator("#no-addresses").is_visible()


def test_turning_2fa_off_revokes_keys_that_move_money(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    person, visitor = signed_in(server, open_visitor)
    page = visitor.page
    # (Read-only keys surviving is checked at the service, where codes cost no waiting.)
    trader = server.issue_key(person, perms=["spot_trade"], ips=["127.0.0.1"], label="trader")

    visitor.goto("/security/totp/disable", "warning first")
    doomed = page.locator("#doomed-keys").inner_text()
    assert "trader" in doomed and trader.api_key[:10] in doomed
    visitor.fill({"Authenticator code": server.totp(person)})
    visitor.submit("Turn off and revoke those keys", "2FA off")
    assert "1 key(s)" in page.locator(".notice").inner_text()
    assert page.locator("#totp-status").inner_text().startswith("Off.")

    assert key_status(server, trader.api_key) is KeyStatus.REVOKED
    assert not server.accounts.get(person.name).totp_confirmed
    with pytest.raises(ccxt.AuthenticationError):
        server.client(trader).fetch_balance()

    # Without 2FA no key can be made; the service says what is missing.
    visitor.goto("/keys/new", "no 2FA, no key")
    visitor.fill({"Label": "x", "Passphrase": "Passphrase1234", "Authenticator code": "123456"})
    visitor.submit("Create key", "refused without 2FA")
    assert "Set up two-factor authentication first" in page.locator("#form-error").inner_text()
    assert len(server.keys.list(person.name)) == 1
