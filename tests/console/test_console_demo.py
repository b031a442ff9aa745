"""Demo mode (``sealbook serve --demo``): the overview's faucet deposits test funds
through the exchange, and a server without ``--demo`` has no faucet at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from fixtures.server import SealbookServer, running_server

if TYPE_CHECKING:
    from console_browser import VisitorFactory

pytestmark = pytest.mark.e2e
# The browser fixtures (browser, open_visitor...); see console_browser.py.
pytest_plugins = ["console_browser"]

PASSWORD = "a demo password"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sealbook serve --demo`` on a loopback port, in a home of its own."""
    with running_server(tmp_path_factory.mktemp("demo-home"), {}, demo=True) as server:
        yield server.base_url


def test_faucet_deposits_test_funds(open_visitor: VisitorFactory, demo_url: str) -> None:
    visitor = open_visitor("tester", javascript=False, base_url=demo_url)
    visitor.sign_up("tester", PASSWORD)
    visitor.goto("/", "empty overview")
    assert visitor.page.locator("#no-balances").is_visible()
    visitor.page.get_by_label("Demo faucet").select_option("USDT")
    visitor.submit("Deposit test funds", "after faucet")
    assert "deposited 10000 USDT" in visitor.page.locator(".notice").inner_text()
    balances = visitor.page.locator("#balances").inner_text()
    assert "USDT" in balances and "10000" in balances


def test_no_faucet_without_demo_mode(
    open_visitor: VisitorFactory, sealbook_server: SealbookServer
) -> None:
    visitor = open_visitor("plain")
    visitor.sign_up("plain", PASSWORD)
    visitor.goto("/", "overview without faucet")
    assert visitor.page.get_by_label("Demo faucet").count() == 0
    form = {"csrf": visitor.csrf(), "coin": "USDT"}
    reply = visitor.context.request.post(visitor.base + "/faucet", form=form, max_redirects=0)
    assert reply.status == 404
    visitor.goto("/", "still empty")
    assert visitor.page.locator("#no-balances").is_visible()
