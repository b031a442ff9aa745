"""What a key may do, and how each right is named on Bitget's wire."""

from __future__ import annotations

import pytest

from sealbook.errors import MissingPermission, ParamInvalid
from sealbook.keys.permissions import (
    FUND_MOVING,
    NEED_TEXT,
    RISK,
    Permission,
    bitget_authorities,
    describe,
    parse_permissions,
)

R, S, F, T, W = (
    Permission.READ,
    Permission.SPOT_TRADE,
    Permission.FUTURES_TRADE,
    Permission.TRANSFER,
    Permission.WITHDRAW,
)


def test_read_is_always_implied() -> None:
    assert parse_permissions([]) == {R}
    assert parse_permissions([""]) == {R}
    assert parse_permissions(["read"]) == {R}
    assert parse_permissions(["spot_trade"]) == {R, S}


def test_comma_separated_and_repeated_forms_give_the_same_set() -> None:
    expected = {R, S, W}
    assert parse_permissions(["spot_trade,withdraw"]) == expected
    assert parse_permissions(["spot_trade", "withdraw"]) == expected
    assert parse_permissions(["spot_trade", "withdraw", "spot_trade,read"]) == expected
    assert parse_permissions([" Spot_Trade , WITHDRAW ,,", ","]) == expected


def test_every_permission_parses_by_its_value() -> None:
    assert parse_permissions([",".join(p.value for p in Permission)]) == set(Permission)


@pytest.mark.parametrize("name", ["trade", "admin", "spot-trade", "read write", "withdrawal"])
def test_unknown_names_are_refused_with_the_known_ones_listed(name: str) -> None:
    with pytest.raises(ParamInvalid) as caught:
        parse_permissions(["read", name])
    assert caught.value.code == "40020"
    assert repr(name.strip().lower()) in caught.value.msg
    for known in Permission:
        assert known.value in caught.value.msg


def test_bitget_authority_names() -> None:
    assert bitget_authorities([R]) == ["readonly"]
    assert bitget_authorities([S]) == ["spot_trade"]
    assert bitget_authorities([F]) == ["contract_order", "contract_position"]
    assert bitget_authorities([T]) == ["wallet_transfer"]
    assert bitget_authorities([W]) == ["wallet_withdraw"]
    assert bitget_authorities([W, F, R, S, T]) == [
        "readonly",
        "spot_trade",
        "contract_order",
        "contract_position",
        "wallet_transfer",
        "wallet_withdraw",
    ]
    assert bitget_authorities([]) == []


def test_describe_lists_rights_in_the_enums_order() -> None:
    assert describe([W, S, R]) == ["read", "spot_trade", "withdraw"]
    assert describe(frozenset({T, F})) == ["futures_trade", "transfer"]
    assert describe(set(Permission)) == [
        "read",
        "spot_trade",
        "futures_trade",
        "transfer",
        "withdraw",
    ]
    assert describe([]) == []


def test_every_right_but_read_moves_funds() -> None:
    assert set(Permission) - {R} == FUND_MOVING


def test_every_right_has_a_risk_and_a_need_text() -> None:
    assert set(RISK) == set(Permission)
    assert set(NEED_TEXT) == set(Permission)
    assert RISK[R] == "low"
    assert RISK[W] == RISK[T] == "high"


def test_need_texts_match_bitgets_live_40014_messages() -> None:
    assert MissingPermission(NEED_TEXT[S]).msg == (
        "Incorrect permissions, need spot order write permissions"
    )
    assert MissingPermission(NEED_TEXT[F]).msg == (
        "Incorrect permissions, need future pos write permissions"
    )
