"""What the console refuses, in Chromium against the real server: wrong codes, forms
without their CSRF token, other people's ids in URLs, too many sign-ins; and the headers
and cookie flags every response carries. Most of it runs with JavaScript off, which the
core flows must not need."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from console_browser import key_status, signed_in

from fixtures.server import Person, SealbookServer, running_server
from sealbook.console.security import CSP
from sealbook.exchange.addresses import AddressService, BookedAddress
from sealbook.keys.model import KeyStatus
from sealbook.markets import default_catalog

if TYPE_CHECKING:
    from console_browser import Visitor, VisitorFactory

pytestmark = pytest.mark.e2e
# The browser fixtures (browser, open_visitor...); see console_browser.py.
pytest_plugins = ["console_browser"]


def test_wrong_code_is_refused_and_nothing_changes(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    person, visitor = signed_in(server, open_visitor)
    page = visitor.page
    before = len(server.audit_rows("key.created"))

    visitor.goto("/keys/new", "new key form")
    visitor.fill({"Label": "nope", "Passphrase": "Passphrase1234", "Authenticator code": "000000"})
    page.locator("#new-perm-spot_trade").check()
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Create key").click()
    visitor.shot("wrong code refused")
    assert nav.value is not None and nav.value.status == 400
    assert "authenticator code was refused" in page.locator("#form-error").inner_text()
    # The form keeps what was typed, except the passphrase and the code.
    assert page.locator("#label").input_value() == "nope"
    assert page.locator("#new-perm-spot_trade").is_checked()
    assert page.locator("#passphrase").input_value() == ""
    assert server.keys.list(person.name) == []
    assert len(server.audit_rows("key.created")) == before
    assert [r for r in server.audit_rows("stepup.failed") if r.user_id == person.user_id]

    # An over-long field is refused whole, never cut to fit.
    fields = {"csrf": visitor.csrf(), "label": "long", "passphrase": "Passphrase1234"}
    fields |= {"ips": "127.0.0.1, " * 500, "code": "000000"}
    reply = visitor.context.request.post(f"{visitor.base}/keys/new", form=fields)
    assert reply.status == 400
    assert "Parameter ips error: at most 4096 characters" in reply.text()
    assert server.keys.list(person.name) == []

    # A wrong code does not turn 2FA off either.
    visitor.goto("/security/totp/disable", "disable form")
    visitor.fill({"Authenticator code": "123456"})
    visitor.submit("Turn off and revoke those keys", "disable refused")
    assert page.locator("#form-error").is_visible()
    assert server.accounts.get(person.name).totp_confirmed


def test_forms_without_their_csrf_token_are_refused(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    person, visitor = signed_in(server, open_visitor)
    key = server.issue_key(person, perms=["spot_trade"], ips=["127.0.0.1"])
    record = server.keys.show(key.api_key)
    http = visitor.context.request  # shares the browser's cookies
    base = visitor.base
    fields = {
        "label": "forged",
        "type": "hmac",
        "perm": "spot_trade",
        "passphrase": "Passphrase1234",
        "code": "000000",  # never checked: the token is, first
    }
    for token in (None, "not-the-token", ""):
        form = dict(fields) if token is None else {**fields, "csrf": token}
        reply = http.post(f"{base}/keys/new", form=form, max_redirects=0)
        assert reply.status == 403
        assert "nothing was changed" in reply.text()
    revoke = {"code": "000000", "reason": "forged"}
    reply = http.post(f"{base}/keys/{record.id}/revoke", form=revoke, max_redirects=0)
    assert reply.status == 403
    reply = http.post(f"{base}/signout", form={}, max_redirects=0)
    assert reply.status == 403

    assert [k.label for k in server.keys.list(person.name)] == ["e2e"]
    assert key_status(server, key.api_key) is KeyStatus.ACTIVE
    visitor.goto("/keys", "still signed in")
    assert page_has_key(visitor, record.id)

    # Before sign-in the token is the pre-session cookie's: a post from elsewhere fails.
    stranger = open_visitor("stranger")
    form = {"name": person.name, "password": person.password, "csrf": "guess"}
    reply = stranger.context.request.post(f"{base}/signin", form=form, max_redirects=0)
    assert reply.status == 403
    assert not [c for c in stranger.context.cookies() if c["name"] == "sb_session"]


def page_has_key(visitor: Visitor, key_id: int) -> bool:
    return visitor.page.locator(f"#key-list tr[data-key-id='{key_id}']").count() == 1


def test_another_user_cannot_see_or_touch_keys_or_addresses(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    owner = server.person()
    key = server.issue_key(owner, perms=["spot_trade"], ips=["127.0.0.1"], label="owners key")
    record = server.keys.show(key.api_key)
    booked = server.book_address(owner, "USDT", "TRC20", "TOwnersAddress111111111111111111")

    mallory, visitor = signed_in(server, open_visitor)
    page = visitor.page
    visitor.goto("/keys", "mallory's keys")
    assert not page_has_key(visitor, record.id)
    assert "owners key" not in page.content()

    assert visitor.goto(f"/keys/{record.id}", "someone else's key") == 404
    assert "owners key" not in page.content()
    assert key.api_key[:10] not in page.content()

    csrf = visitor.csrf()
    http = visitor.context.request
    attempts = {
        f"/keys/{record.id}/revoke": {"code": server.totp(mallory), "reason": "mine now"},
        f"/keys/{record.id}/edit": {
            "label": "stolen",
            "perm": "withdraw",
            "ips": "203.0.113.9",
            "code": "000000",
        },
        f"/keys/{record.id}/rotate": {"passphrase": "Passphrase1234", "code": "000000"},
        f"/addresses/{booked.id}/remove": {},
    }
    for path, form in attempts.items():
        reply = http.post(visitor.base + path, form={**form, "csrf": csrf}, max_redirects=0)
        assert reply.status == 404, path

    after = server.keys.show(key.api_key)
    assert after.label == "owners key"
    assert after.ips == ("127.0.0.1",)
    assert after.rotated_to is None
    assert key_status(server, key.api_key) is KeyStatus.ACTIVE
    assert [a.id for a in server_addresses(server, owner)] == [booked.id]
    assert len(server.keys.list(owner.name)) == 1

    visitor.goto("/addresses", "mallory's addresses")
    assert "TOwnersAddress" not in page.content()


def server_addresses(server: SealbookServer, person: Person) -> list[BookedAddress]:
    return AddressService(server.ctx, server.accounts, default_catalog()).list(person.name)


def test_headers_cookies_and_sign_out(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    _, visitor = signed_in(server, open_visitor, javascript=True)
    http = visitor.context.request
    for path in (
        "/",
        "/keys",
        "/keys/new",
        "/addresses",
        "/security",
        "/activity",
        "/static/console.css",
        "/no-such-page",
        "/keys/999999",
    ):
        reply = http.get(visitor.base + path, max_redirects=0)
        headers = reply.headers
        assert headers["content-security-policy"] == CSP, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["cache-control"] == "no-store", path
    assert http.get(visitor.base + "/no-such-page").status == 404

    (cookie,) = [c for c in visitor.context.cookies() if c["name"] == "sb_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on loopback; https sets Secure
    assert cookie["path"] == "/console"
    assert "sb_session" not in visitor.page.evaluate("document.cookie")
    # X-Forwarded-Proto from a peer that is not a configured proxy proves nothing
    # (test_cookies_are_secure_behind_a_trusted_tls_proxy has the trusted case).
    fresh = open_visitor("claims-tls").context.request
    reply = fresh.get(visitor.base + "/signin", headers={"X-Forwarded-Proto": "https"})
    set_cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    assert "secure" not in set_cookie.replace("samesite", "")

    visitor.goto("/activity", "activity shows the sign-in")
    signins = visitor.page.locator("#activity tr.kind-signin-ok")
    assert signins.count() == 1
    assert "127.0.0.1" in signins.inner_text()

    visitor.goto("/", "before sign out")
    visitor.submit("Sign out", "signed out")
    assert visitor.page.url.endswith("/console/signin")
    # The old token is dead on the server, not just dropped by the browser.
    replay = open_visitor("replay")
    replay.context.add_cookies([{**cookie}])
    reply = replay.context.request.get(replay.base + "/keys", max_redirects=0)
    assert reply.status == 303
    assert reply.headers["location"].endswith("/console/signin")


def test_sign_in_is_throttled_per_name(
    sealbook_server: SealbookServer, open_visitor: VisitorFactory
) -> None:
    server = sealbook_server
    person = server.person()
    visitor = open_visitor("guesser")
    for attempt in range(5):
        visitor.goto("/signin", f"attempt {attempt}")
        visitor.fill({"Name": person.name, "Password": f"wrong-password-{attempt}"})
        visitor.submit("Sign in", f"refused {attempt}")
        assert "Wrong name or password." in visitor.page.locator("#form-error").inner_text()
    visitor.goto("/signin", "right password, too late")
    visitor.fill({"Name": person.name, "Password": person.password})
    with visitor.page.expect_navigation() as nav:
        visitor.page.get_by_role("button", name="Sign in").click()
    visitor.shot("throttled")
    assert nav.value is not None and nav.value.status == 429
    assert "Too many failed sign-ins" in visitor.page.locator("#form-error").inner_text()
    assert not [c for c in visitor.context.cookies() if c["name"] == "sb_session"]

    mine = [r for r in server.audit_rows("signin.failed") if r.user_id == person.user_id]
    assert len(mine) == 5
    throttled = [r for r in server.audit_rows("signin.throttled") if r.user_id == person.user_id]
    assert len(throttled) == 1
    assert throttled[0].ip == "127.0.0.1"


def test_cookies_are_secure_behind_a_trusted_tls_proxy(tmp_path: Path) -> None:
    """With loopback configured as a proxy, its X-Forwarded-Proto: https makes the
    console's cookies Secure; the client it names in X-Forwarded-For is who signs in."""
    env = {"SEALBOOK_TRUSTED_PROXIES": "127.0.0.1"}
    with running_server(tmp_path / "home", env) as server:
        reply = httpx.get(
            server.base_url + "/console/signin",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
        assert reply.status_code == 200
        set_cookie = reply.headers["set-cookie"].lower()
        assert "secure" in set_cookie.replace("samesite", "")
        plain = httpx.get(server.base_url + "/console/signin")
        assert "secure" not in plain.headers["set-cookie"].lower().replace("samesite", "")
