"""Trading bots on trade-only keys: a grid bot and a two-exchange arbitrage bot.

Both take ccxt exchanges wrapped as :class:`Venue` (live, or :class:`DryRunVenue` that
simulates orders against the live book), keep their memory in a :class:`BotState` SQLite
file keyed by client order ids, and report through :class:`Events`. See docs/bots.md.
"""

from __future__ import annotations

from sealbook.client.bots.arb import ArbBot, ArbConfig, ArbStatus, parse_edge
from sealbook.client.bots.dryrun import DryRunVenue
from sealbook.client.bots.events import Events
from sealbook.client.bots.grid import GridMode, GridPlan, GridSpec, plan_grid
from sealbook.client.bots.gridbot import GridBot, GridStatus
from sealbook.client.bots.state import BotState
from sealbook.client.bots.venue import Book, Fill, LiveVenue, MarketInfo, Venue

__all__ = [
    "ArbBot",
    "ArbConfig",
    "ArbStatus",
    "Book",
    "BotState",
    "DryRunVenue",
    "Events",
    "Fill",
    "GridBot",
    "GridMode",
    "GridPlan",
    "GridSpec",
    "GridStatus",
    "LiveVenue",
    "MarketInfo",
    "Venue",
    "parse_edge",
    "plan_grid",
]
