"""The bots' arithmetic and memory without a server: grid levels, profit from fills, the
state file's intents, backing off, JSON events."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from sealbook.client.bots.events import Events
from sealbook.client.bots.grid import GridMode, GridSpec, levels, plan_grid
from sealbook.client.bots.pnl import delivered, pair_profit, position
from sealbook.client.bots.retry import Backoff, Stopped
from sealbook.client.bots.state import BotState
from sealbook.client.bots.venue import Fill, MarketInfo, dec
from sealbook.client.errors import ClientError

D = Decimal
ETH = MarketInfo("ETH/USDT", "ETH", "USDT", D("0.1"), D("0.00001"), D("0.00001"), D("1"),
                 D("0.001"), D("0.001"))


def spec(**kw: object) -> GridSpec:
    base: dict[str, object] = {"lower": D(3000), "upper": D(4000), "grids": 4,
                               "mode": GridMode.ARITHMETIC, "investment": D(1000)}
    base.update(kw)
    return GridSpec(**base)  # type: ignore[arg-type]


def test_arithmetic_levels_are_equal_steps() -> None:
    assert levels(spec(), ETH) == (D(3000), D(3250), D(3500), D(3750), D(4000))


def test_geometric_levels_are_equal_ratios_on_the_tick() -> None:
    lv = levels(spec(lower=D(1000), upper=D(16000), mode=GridMode.GEOMETRIC), ETH)
    assert lv == (D(1000), D(2000), D(4000), D(8000), D(16000))
    odd = levels(spec(lower=D(3000), upper=D(3300), grids=3, mode=GridMode.GEOMETRIC), ETH)
    # 3000 × 1.1^(i/3), rounded to the 0.1 tick
    assert odd == (D(3000), D("3096.8"), D("3196.8"), D(3300))


def test_sizes_spend_at_most_the_investment_and_sides_split_at_the_price() -> None:
    plan = plan_grid(spec(), ETH)
    # 250 USDT per cell at the cell's upper level, rounded down to the lot
    assert plan.sizes == (D("0.07692"), D("0.07142"), D("0.06666"), D("0.06250"))
    assert sum(s * plan.levels[c] for c, s in enumerate(plan.sizes)) <= D(1000)
    assert plan.start_sides(D(3480)) == ["buy", "buy", "sell", "sell"]  # 3500 left empty
    assert plan.start_sides(D(2000)) == ["sell"] * 4
    assert plan.start_sides(D(5000)) == ["buy"] * 4
    assert (plan.cell_price(1, "buy"), plan.cell_price(1, "sell")) == (D(3250), D(3500))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"grids": 1}, "--grids"),
        ({"grids": 201}, "--grids"),
        ({"lower": D(4000)}, "--lower"),
        ({"investment": D(0)}, "--investment"),
        ({"stop_loss": D(3500)}, "--stop-loss"),
        ({"take_profit": D(3900)}, "--take-profit"),
        ({"investment": D(2)}, "too small"),
        ({"lower": D("3000"), "upper": D("3000.3"), "grids": 5}, "share a price"),
    ],
)
def test_a_grid_that_makes_no_sense_is_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ClientError, match=message):
        plan_grid(spec(**change), ETH)


def _fill(side: str, price: str, amount: str, fee: str, coin: str, n: int = 1) -> Fill:
    return Fill(str(n), "o", side, D(price), D(amount), D(fee), coin, n)


def test_pair_profit_counts_both_fees_exactly() -> None:
    buy = [_fill("buy", "3250", "0.04", "0.00004", "ETH", 1),
           _fill("buy", "3250", "0.03692", "0.00003692", "ETH", 2)]
    sell = [_fill("sell", "3500", "0.07692", "0.26922", "USDT", 3)]
    # 269.22 − 249.99 − 0.26922 (sell fee) − 0.00007692 ETH × 3250 (buy fee) = 18.71079
    assert pair_profit(buy, sell, ETH) == D("18.71079")
    bgb = [_fill("sell", "3500", "0.07692", "0.1", "BGB", 4)]
    assert pair_profit(buy, bgb, ETH) == D("269.22") - D("249.99") - D("0.24999")


def test_a_sale_of_what_the_buy_delivered_counts_the_base_fee_once() -> None:
    buy = [_fill("buy", "100", "1", "0.001", "ETH", 1)]
    assert delivered(buy, ETH) == D("0.999")
    sell = [_fill("sell", "101", "0.999", "0.100899", "USDT", 2)]
    # Paid 100 for 1 ETH, 0.001 of it went as the fee, sold the 0.999 left for 100.899
    # less a 0.100899 fee: 0.798101 earned. (The fee taken in ETH is already the sale's
    # shortfall; charging its value again would give 0.698101.)
    assert pair_profit(buy, sell, ETH) == D("0.798101")
    # The other way round (a sell first, then a buy of the same amount): nothing left
    # over, and the buy's base fee is a cost at its price.
    first = [_fill("sell", "101", "1", "0.101", "USDT", 3)]
    back = [_fill("buy", "100", "1", "0.001", "ETH", 4)]
    assert pair_profit(back, first, ETH) == D("101") - D("100") - D("0.101") - D("0.1")


def test_position_follows_every_fill_and_fee() -> None:
    fills = [_fill("buy", "3000", "1", "0.001", "ETH"), _fill("sell", "3100", "0.5", "1.55",
                                                              "USDT")]
    pos = position(fills, ETH)
    assert (pos.base, pos.quote) == (D("0.499"), D("-3000") + D("1550") - D("1.55"))
    assert pos.value(D(3000)) == D("-1451.55") + D("1497")


def test_ccxt_floats_become_the_decimals_they_were_parsed_from() -> None:
    assert dec(0.1) == D("0.1") and dec(1e-7) == D("1E-7") and dec(None) == 0
    assert dec(3096.8) + dec(0.2) == D("3097.0")


def test_intents_are_kept_and_fills_counted_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    state = BotState(path)
    state.add_intent("gabcL1b0", role="grid", side="buy", amount=D("0.5"), price=D("3250.1"),
                     now_ms=5, cell=1, level=1)
    state.close()
    again = BotState(path)  # what a restart sees
    (order,) = again.orders("intent")
    assert (order.client_oid, order.price, order.amount, order.level) == (
        "gabcL1b0", D("3250.1"), D("0.5"), 1)
    again.set_status("gabcL1b0", "open", "77")
    fill = Fill("9", "77", "buy", D("3250.1"), D("0.2"), D("0.0002"), "ETH", 6)
    assert again.add_fill(fill, "gabcL1b0") is True
    assert again.add_fill(fill, "gabcL1b0") is False
    assert again.filled_amount("gabcL1b0") == D("0.2")
    row = again.db.execute("SELECT typeof(price), typeof(amount) FROM fills").fetchone()
    assert row == ("text", "text")  # money is never REAL


def test_backoff_waits_on_429_and_network_errors_then_answers() -> None:
    events = Events()
    slept: list[float] = []
    backoff = Backoff(events, base_s=0.001, cap_s=0.004, sleep=slept.append)
    answers = iter([ccxt.DDoSProtection("429"), ccxt.RequestTimeout("slow"),
                    ccxt.NetworkError("down"), ccxt.NetworkError("down"), "ok"])

    def flaky() -> str:
        item = next(answers)
        if isinstance(item, Exception):
            raise item
        return item

    assert backoff.call("x", flaky) == "ok"
    waits = [e for e in events.recent if e["event"] == "backoff"]
    assert [e["reason"] for e in waits] == ["rate_limited", "network", "network", "network"]
    assert [e["wait_s"] for e in waits] == [0.0, 0.0, 0.0, 0.0]  # rounded; capped
    assert backoff.failures == 0
    with pytest.raises(ccxt.AuthenticationError):  # not weather: surfaces at once
        backoff.call("x", lambda: (_ for _ in ()).throw(ccxt.AuthenticationError("no")))
    stopping = Backoff(events, base_s=0.001, should_stop=lambda: True)
    with pytest.raises(Stopped):
        stopping.call("x", lambda: "never")


def test_events_are_json_lines_with_exact_numbers() -> None:
    out = io.StringIO()
    Events(out, clock=lambda: 1.5).emit("pair", profit=D("0.801114084"), cell=2)
    assert json.loads(out.getvalue()) == {"ts": 1500, "event": "pair",
                                          "profit": "0.801114084", "cell": 2}


def test_running_totals_match_every_fill_and_survive_reopening(tmp_path: Path) -> None:
    """The state keeps sums as fills arrive, so a long-running bot never re-reads every
    fill; they must equal what the fills themselves say, on each venue and in all."""
    import random

    from sealbook.client.bots.pnl import other_fees

    rng = random.Random(7)
    path = tmp_path / "bot.sqlite"
    state = BotState(path)
    fills: dict[str, list[Fill]] = {"a": [], "b": []}
    for i in range(300):
        venue = rng.choice("ab")
        side = rng.choice(["buy", "sell"])
        coin = rng.choice(["ETH", "USDT", "BGB"])
        fill = Fill(f"t{i}", f"o{i}", side, D(rng.randint(29000, 31000)) / 10,
                    D(rng.randint(1, 500)) / 1000, D(rng.randint(0, 90)) / 10**5, coin, i)
        with state.transaction():
            assert state.add_fill(fill, f"c{i}", venue) is True
            assert state.add_fill(fill, f"c{i}", venue) is False  # counted once
        fills[venue].append(fill)
    everything = fills["a"] + fills["b"]
    for venue, mine in fills.items():
        assert state.totals(venue).position(ETH) == position(mine, ETH)
    assert state.totals().position(ETH) == position(everything, ETH)
    assert state.totals().other_fees(ETH) == other_fees(everything, ETH)
    assert state.fill_count() == 300
    state.close()

    # A file from before the sums existed gets them from its fills when opened.
    reopened = BotState(path)
    reopened.db.execute("DELETE FROM fill_totals")
    reopened.close()
    again = BotState(path)
    assert again.totals().position(ETH) == position(everything, ETH)
    assert again.totals("b").position(ETH) == position(fills["b"], ETH)
    again.close()
