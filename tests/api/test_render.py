"""The spot wire shapes rendered from exact records, and the shared parameter readers."""

from __future__ import annotations

import json

import pytest

from sealbook.api.render import (
    DAY_MS,
    client_oid_param,
    deposit_address_row,
    fee_detail,
    fill_row,
    int_param,
    ms_param,
    order_book,
    order_row,
    price_avg,
    time_window,
    unfilled_row,
    withdrawal_row,
)
from sealbook.engine import Force, OrderStatus, OrderType, Side
from sealbook.errors import ParamInvalid, TimeRangeTooLong
from sealbook.exchange.orders import MyFill, Order, Withdrawal, WithdrawalStatus
from sealbook.markets import default_catalog
from sealbook.money import parse_atoms

CATALOG = default_catalog()
ETH = CATALOG.symbol("ETHUSDT")  # 1 price place, 5 size places


def _order(**changes: object) -> Order:
    fields: dict[str, object] = {
        "order_id": 7,
        "client_oid": "c-7",
        "user_id": 3,
        "symbol": "ETHUSDT",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "force": Force.GTC,
        "price_ticks": 36100,  # 3610.0
        "size_lots": 20000,  # 0.2
        "budget_atoms": None,
        "status": OrderStatus.LIVE,
        "ctime_ms": 1_700_000_000_000,
        "utime_ms": 1_700_000_000_500,
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


def test_price_avg_rounds_down_to_the_price_precision() -> None:
    # 0.05 at 3600 + 0.08864 at 3610 = 499.9904 for 0.13864: 3606.39...
    quote = parse_atoms("499.9904")
    assert price_avg(ETH, 13864, quote) == "3606.3"
    assert price_avg(ETH, 0, 0) == "0"


def test_an_unfilled_order_has_an_empty_fee_detail() -> None:
    row = order_row(ETH, _order())

    assert row["feeDetail"] == ""
    assert (row["price"], row["priceAvg"], row["size"]) == ("3610", "0", "0.2")
    assert (row["baseVolume"], row["quoteVolume"], row["status"]) == ("0", "0", "live")
    assert "basePrice" not in row
    assert all(isinstance(v, str) for k, v in row.items() if k != "triggerPrice")


def test_fee_detail_is_a_json_string_with_negative_fees_charged_coins_first() -> None:
    detail = json.loads(fee_detail({"ETH": 0, "BGB": parse_atoms("0.0521")}))

    assert list(detail) == ["BGB", "ETH"]
    assert detail["BGB"] == {
        "deduction": True,
        "feeCoinCode": "BGB",
        "totalDeductionFee": "-0.0521",
        "totalFee": "-0.0521",
    }
    assert detail["ETH"]["totalFee"] == "0"


def test_partly_filled_order_rows() -> None:
    order = _order(
        status=OrderStatus.PARTIALLY_FILLED,
        filled_lots=5000,
        filled_quote_atoms=parse_atoms("180"),
        fees={"ETH": parse_atoms("0.00005")},
    )

    info = order_row(ETH, order)
    open_row = unfilled_row(ETH, order)

    assert (info["price"], info["priceAvg"], info["baseVolume"]) == ("3610", "3600", "0.05")
    assert json.loads(info["feeDetail"])["ETH"]["totalFee"] == "-0.00005"
    # unfilled-orders: the limit price in priceAvg, the average fill in basePrice
    assert (open_row["priceAvg"], open_row["basePrice"]) == ("3610", "3600")
    assert "feeDetail" not in open_row and "price" not in open_row


def test_a_market_buy_reports_its_quote_budget_as_size() -> None:
    order = _order(
        type=OrderType.MARKET, price_ticks=None, size_lots=None, budget_atoms=parse_atoms("500")
    )

    row = order_row(ETH, order)

    assert (row["size"], row["price"], row["orderSource"]) == ("500", "0", "market")


def test_fill_row() -> None:
    fill = MyFill(
        11, 7, 3, "ETHUSDT", Side.SELL, OrderType.MARKET, 35900, 15000,
        parse_atoms("538.5"), False, "USDT", parse_atoms("0.5385"), 1_700_000_000_000,
    )  # fmt: skip

    row = fill_row(ETH, fill)

    assert (row["priceAvg"], row["size"], row["amount"]) == ("3590", "0.15", "538.5")
    assert row["feeDetail"] == {
        "deduction": "no",
        "feeCoin": "USDT",
        "totalDeductionFee": "0",
        "totalFee": "-0.5385",
    }
    assert (row["tradeScope"], row["side"], row["orderType"]) == ("taker", "sell", "market")


def test_withdrawal_size_includes_the_fee_so_ccxt_reports_the_amount_sent() -> None:
    w = Withdrawal(
        4, "", 3, "USDT", "TRC20", "Taddr", "", parse_atoms("20"), parse_atoms("1.5"),
        WithdrawalStatus.PENDING, 1, 2,
    )  # fmt: skip

    row = withdrawal_row(w, 20)

    assert (row["size"], row["fee"], row["status"]) == ("21.5", "-1.5", "pending")
    assert (row["clientOid"], row["tradeId"], row["confirm"]) == (None, "", "0")


def test_order_book_levels_are_string_pairs() -> None:
    book = order_book(ETH, [(35900, 70000)], [(36000, 5000), (36100, 100000)], 5)

    assert book == {
        "asks": [["3600", "0.05"], ["3610", "1"]],
        "bids": [["3590", "0.7"]],
        "ts": "5",
    }


def test_deposit_addresses_are_stable_and_per_user_coin_and_chain() -> None:
    a = deposit_address_row(CATALOG, 1, "USDT", "TRC20")

    assert a == deposit_address_row(CATALOG, 1, "USDT", "TRC20")
    assert a["address"] != deposit_address_row(CATALOG, 2, "USDT", "TRC20")["address"]
    assert a["address"] != deposit_address_row(CATALOG, 1, "USDT", "BSC")["address"]
    assert a["tag"] == ""
    assert deposit_address_row(CATALOG, 1, "USDT", "TON")["tag"].isdigit()


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "abc", "１", "9" * 20])
def test_bad_limits_are_refused(text: str) -> None:
    with pytest.raises(ParamInvalid):
        int_param(text, "limit", default=100, maximum=100)


def test_limits_default_and_cap() -> None:
    assert int_param(None, "limit", default=20, maximum=100) == 20
    assert int_param("500", "limit", default=20, maximum=100) == 100
    assert ms_param(None, "startTime") is None
    assert ms_param("1700000000000", "startTime") == 1_700_000_000_000


def test_time_windows() -> None:
    time_window(None, 5)
    time_window(0, 90 * DAY_MS + 1, max_days=90)  # ccxt's two clock reads
    with pytest.raises(ParamInvalid):
        time_window(6, 5)
    with pytest.raises(TimeRangeTooLong) as caught:
        time_window(0, 91 * DAY_MS, max_days=90)
    assert caught.value.code == "00001"
    assert caught.value.msg == "startTime and endTime interval cannot be greater than 90 days"


def test_client_oids() -> None:
    assert client_oid_param("my-id_1+#") == "my-id_1+#"
    assert client_oid_param(None) is None
    for bad in ("a b", "x" * 50, "é"):
        with pytest.raises(ParamInvalid):
            client_oid_param(bad)
