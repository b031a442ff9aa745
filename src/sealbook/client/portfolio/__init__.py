"""The portfolio tracker behind ``sealbook portfolio``."""

from sealbook.client.portfolio.fetch import AccountData, fetch_accounts, fetch_accounts_async
from sealbook.client.portfolio.pnl import CostBook, Fill
from sealbook.client.portfolio.report import Portfolio, build_portfolio
from sealbook.client.portfolio.snapshots import Snapshot, SnapshotStore
from sealbook.client.portfolio.valuation import Price, price_in_usdt, ticker_prices

__all__ = [
    "AccountData",
    "CostBook",
    "Fill",
    "Portfolio",
    "Price",
    "Snapshot",
    "SnapshotStore",
    "build_portfolio",
    "fetch_accounts",
    "fetch_accounts_async",
    "price_in_usdt",
    "ticker_prices",
]
