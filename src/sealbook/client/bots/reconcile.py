"""Keeping a bot's state and the exchange in agreement, each tick and after a restart.

* An *intent* (an order written down but maybe never sent, or sent with no answer) is
  looked up by its client order id: found, it is adopted; not found, it is sent again
  under the same id. A timeout on place-order therefore never makes a second order.
* Fills since the last checkpoint (with an overlap, deduplicated by trade id) are
  attributed to our orders by order id.
* An order that left the open-orders list is done: filled when its fills add up to its
  size, cancelled when the exchange says so, and otherwise looked at again next tick.
"""

from __future__ import annotations

from dataclasses import dataclass

import ccxt

from sealbook.client.bots.events import Events
from sealbook.client.bots.retry import RETRYABLE, Backoff
from sealbook.client.bots.state import BotState, StoredOrder
from sealbook.client.bots.venue import OrderRequest, OrderView, Venue

__all__ = ["Done", "finished", "resolve_intents", "send_intent", "sync_fills"]

# Fills are fetched from this long before the newest one already seen: a fill committed
# a moment late (or of an order whose id we learnt late) is still picked up.
OVERLAP_MS = 120_000


@dataclass(frozen=True, slots=True)
class Done:
    order: StoredOrder
    outcome: str  # "filled" | "cancelled"


def send_intent(
    state: BotState, venue: Venue, order: StoredOrder, backoff: Backoff, events: Events
) -> None:
    """Send an intent. A definite refusal marks it rejected; anything else leaves it an
    intent, to be looked up by its client order id before anything more is done."""
    req = OrderRequest(order.client_oid, order.side, order.amount, order.price, order.ioc)
    try:
        placed = venue.place(req)
    except ccxt.DuplicateOrderId:
        events.emit("unknown", client_oid=order.client_oid, why="duplicate client order id")
        return
    except (ccxt.InsufficientFunds, ccxt.InvalidOrder, ccxt.BadRequest) as error:
        state.set_status(order.client_oid, "rejected")
        events.emit("rejected", venue=venue.name, client_oid=order.client_oid,
                    side=order.side, price=order.price, amount=order.amount,
                    error=type(error).__name__)
        return
    except RETRYABLE as error:
        events.emit("unknown", venue=venue.name, client_oid=order.client_oid,
                    why=type(error).__name__)
        backoff.wait("place-order", error)
        return
    except ccxt.ExchangeError as error:
        events.emit("unknown", venue=venue.name, client_oid=order.client_oid,
                    why=type(error).__name__)
        return
    backoff.ok()
    state.set_status(order.client_oid, "open", placed.order_id)
    events.emit("placed", venue=venue.name, client_oid=order.client_oid, side=order.side,
                price=order.price, amount=order.amount, level=order.level)


def resolve_intents(
    state: BotState, venue: Venue, backoff: Backoff, events: Events, *, vname: str = ""
) -> None:
    """Every intent found on the exchange becomes open; the rest are sent."""
    for order in state.orders("intent", venue=vname):
        found: OrderView | None = backoff.call(
            "order lookup", lambda o=order: venue.lookup(o.client_oid)  # type: ignore[misc]
        )
        if found is not None:
            state.set_status(order.client_oid, "open", found.order_id)
            events.emit("adopted", venue=venue.name, client_oid=order.client_oid,
                        order_id=found.order_id)
        else:
            send_intent(state, venue, order, backoff, events)


def sync_fills(
    state: BotState, venue: Venue, backoff: Backoff, now_ms: int, *, vname: str = ""
) -> int:
    """Record new fills of our orders; returns how many were new."""
    key = f"checkpoint_ms{':' + vname if vname else ''}"
    checkpoint = int(state.get(key) or now_ms)
    fills = backoff.call("fills", lambda: venue.fills_since(max(0, checkpoint - OVERLAP_MS)))
    new = 0
    newest = checkpoint
    with state.transaction():
        for fill in fills:
            oid = state.client_oid_for(fill.order_id, vname) if fill.order_id else None
            if oid is None:
                continue  # not ours (another tool on the account), or not yet adopted
            new += state.add_fill(fill, oid, vname)
            newest = max(newest, fill.ts_ms)
        state.put(key, str(newest))
    return new


def finished(
    state: BotState,
    venue: Venue,
    open_ids: set[str],
    backoff: Backoff,
    *,
    vname: str = "",
) -> list[Done]:
    """Our open orders that are done, oldest first. Their status is not changed here: the
    caller records it together with what follows from it, in one transaction."""
    done: list[Done] = []
    for order in state.orders("open", venue=vname):
        if order.client_oid in open_ids:
            continue
        if state.filled_amount(order.client_oid) >= order.amount:
            done.append(Done(order, "filled"))
            continue
        view: OrderView | None = backoff.call(
            "order lookup", lambda o=order: venue.lookup(o.client_oid)  # type: ignore[misc]
        )
        if view is None or view.status == "canceled":
            done.append(Done(order, "cancelled"))
        # otherwise the fills have not reached us yet, or it is still open: next tick
    return done
