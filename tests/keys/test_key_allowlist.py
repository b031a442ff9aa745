"""IP allowlists on keys, and which address a request really comes from."""

from __future__ import annotations

import pytest

from sealbook.errors import ParamInvalid
from sealbook.keys.allowlist import MAX_ENTRIES, Allowlist, ProxyPolicy, parse_allowlist

# --- parsing -------------------------------------------------------------------------


def test_parse_accepts_ipv4_ipv6_and_cidr_of_both() -> None:
    assert parse_allowlist(["203.0.113.7", "2001:db8::1", "10.0.0.0/8", "2001:db8:1::/48"]) == (
        "203.0.113.7",
        "2001:db8::1",
        "10.0.0.0/8",
        "2001:db8:1::/48",
    )


def test_parse_normalises_entries() -> None:
    assert parse_allowlist([" 203.0.113.7/32 "]) == ("203.0.113.7",)
    assert parse_allowlist(["2001:0DB8:0000::0001"]) == ("2001:db8::1",)
    assert parse_allowlist(["2001:db8::1/128"]) == ("2001:db8::1",)
    assert parse_allowlist(["10.1.2.3/8"]) == ("10.0.0.0/8",)  # host bits dropped


def test_parse_splits_commas_and_skips_blanks() -> None:
    assert parse_allowlist(["1.1.1.1, 2.2.2.2", "", " , ", "3.3.3.3,"]) == (
        "1.1.1.1",
        "2.2.2.2",
        "3.3.3.3",
    )
    assert parse_allowlist([]) == ()


def test_parse_removes_duplicates_keeping_the_first_position() -> None:
    assert parse_allowlist(
        ["1.1.1.1", "2.2.2.2", "1.1.1.1/32", " 1.1.1.1", "2.2.2.2,10.0.0.0/8", "10.9.9.9/8"]
    ) == ("1.1.1.1", "2.2.2.2", "10.0.0.0/8")


@pytest.mark.parametrize(
    "entry",
    [
        "1.2.3",
        "256.1.1.1",
        "1.2.3.4/33",
        "2001:db8::g",
        "2001:db8::/129",
        "example.com",
        "1.2.3.4-1.2.3.9",
        "*",
        "1.2.3.4:80",
    ],
)
def test_parse_rejects_invalid_entries(entry: str) -> None:
    with pytest.raises(ParamInvalid) as caught:
        parse_allowlist(["1.1.1.1", entry])
    assert caught.value.code == "40020"
    assert entry in caught.value.msg


def test_parse_accepts_at_most_thirty_distinct_entries() -> None:
    thirty = [f"192.0.2.{i}" for i in range(MAX_ENTRIES)]
    assert MAX_ENTRIES == 30
    assert len(parse_allowlist(thirty)) == 30
    assert len(parse_allowlist([*thirty, *thirty])) == 30  # duplicates do not count
    with pytest.raises(ParamInvalid, match="at most 30"):
        parse_allowlist([*thirty, "198.51.100.1"])
    with pytest.raises(ParamInvalid, match="at most 30"):
        parse_allowlist([",".join(f"192.0.2.{i}" for i in range(31))])


# --- membership ----------------------------------------------------------------------


def test_empty_allowlist_allows_any_address() -> None:
    empty = Allowlist(())
    assert not empty
    for ip in ("203.0.113.7", "2001:db8::1", "127.0.0.1"):
        assert empty.allows(ip)


def test_exact_ipv4_entry() -> None:
    allow = Allowlist(parse_allowlist(["203.0.113.7"]))
    assert allow
    assert allow.allows("203.0.113.7")
    assert not allow.allows("203.0.113.8")
    assert not allow.allows("2001:db8::1")


def test_exact_ipv6_entry_matches_any_spelling() -> None:
    allow = Allowlist(parse_allowlist(["2001:db8::1"]))
    assert allow.allows("2001:db8::1")
    assert allow.allows("2001:0DB8:0:0:0:0:0:1")
    assert not allow.allows("2001:db8::2")


def test_ipv4_cidr_entry_covers_its_range_only() -> None:
    allow = Allowlist(parse_allowlist(["10.0.0.0/8", "192.168.1.0/24"]))
    for ip in ("10.0.0.0", "10.255.255.255", "192.168.1.1", "192.168.1.255"):
        assert allow.allows(ip), ip
    for ip in ("11.0.0.0", "9.255.255.255", "192.168.2.1", "::a00:1"):
        assert not allow.allows(ip), ip


def test_ipv6_cidr_entry_covers_its_range_only() -> None:
    allow = Allowlist(parse_allowlist(["2001:db8:1::/48"]))
    assert allow.allows("2001:db8:1::1")
    assert allow.allows("2001:db8:1:ffff:ffff:ffff:ffff:ffff")
    assert not allow.allows("2001:db8:2::1")
    assert not allow.allows("10.0.0.1")


def test_ipv4_mapped_ipv6_peer_matches_ipv4_entries() -> None:
    allow = Allowlist(parse_allowlist(["203.0.113.7", "10.0.0.0/8"]))
    assert allow.allows("::ffff:203.0.113.7")
    assert allow.allows("::FFFF:10.20.30.40")
    assert not allow.allows("::ffff:203.0.113.8")


def test_unparsable_peer_is_refused_by_a_non_empty_allowlist() -> None:
    allow = Allowlist(parse_allowlist(["0.0.0.0/0", "::/0"]))
    for ip in ("", "unknown", "203.0.113.7:443", "[2001:db8::1]", "203.0.113.7 "):
        assert not allow.allows(ip), ip
    assert allow.allows("203.0.113.7")
    assert allow.allows("2001:db8::1")


# --- which address a request comes from ----------------------------------------------

PROXY = "10.0.0.2"


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    policy = ProxyPolicy()
    assert policy.client_ip("203.0.113.7", "for=198.51.100.1", "198.51.100.1") == "203.0.113.7"


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    policy = ProxyPolicy(["10.0.0.0/8"])
    spoofer = "203.0.113.66"
    assert policy.client_ip(spoofer, None, "198.51.100.1") == spoofer
    assert policy.client_ip(spoofer, "for=198.51.100.1", None) == spoofer
    assert policy.client_ip(spoofer, 'for="198.51.100.1"', "198.51.100.1, 10.0.0.3") == spoofer


def test_a_blank_trusted_list_trusts_nobody() -> None:
    for trusted in ([""], [" , "], []):
        policy = ProxyPolicy(trusted)
        assert policy.client_ip("203.0.113.66", "for=198.51.100.1", "198.51.100.1") == (
            "203.0.113.66"
        )


def test_trusted_peer_without_headers_is_the_client() -> None:
    assert ProxyPolicy([PROXY]).client_ip(PROXY, None, None) == PROXY
    assert ProxyPolicy([PROXY]).client_ip(PROXY, "", "") == PROXY


def test_trusted_peer_x_forwarded_for_gives_the_rightmost_hop() -> None:
    policy = ProxyPolicy([PROXY])
    assert policy.client_ip(PROXY, None, "198.51.100.1") == "198.51.100.1"
    # The client wrote the left part; only the hop the proxy appended counts.
    assert policy.client_ip(PROXY, None, "1.1.1.1, 2.2.2.2, 198.51.100.1") == "198.51.100.1"
    assert policy.client_ip(PROXY, None, " 198.51.100.1 ,") == "198.51.100.1"


def test_chain_of_trusted_proxies_gives_the_rightmost_untrusted_hop() -> None:
    policy = ProxyPolicy(["10.0.0.0/8", "2001:db8:ffff::/48"])
    assert (
        policy.client_ip(PROXY, None, "6.6.6.6, 198.51.100.1, 10.1.1.1, 10.2.2.2") == "198.51.100.1"
    )
    assert (
        policy.client_ip(
            "2001:db8:ffff::1",
            'for=6.6.6.6, for="[2001:db8:5::9]", for="[2001:db8:ffff::7]:8080", for=10.0.0.9',
            None,
        )
        == "2001:db8:5::9"
    )


def test_chain_of_only_trusted_hops_gives_the_leftmost() -> None:
    policy = ProxyPolicy(["10.0.0.0/8"])
    assert policy.client_ip(PROXY, None, "10.0.0.7, 10.0.0.8") == "10.0.0.7"


def test_forwarded_header_quotes_ports_and_brackets() -> None:
    policy = ProxyPolicy([PROXY])
    cases = {
        "for=192.0.2.60;proto=http;by=203.0.113.43": "192.0.2.60",
        'for="192.0.2.43:47011"': "192.0.2.43",
        'For="[2001:db8:cafe::17]:4711"': "2001:db8:cafe::17",
        'for="[2001:DB8:CAFE:0::17]"': "2001:db8:cafe::17",
        "proto=https;for=198.51.100.1;host=example.com": "198.51.100.1",
        'for=6.6.6.6, for="198.51.100.1"': "198.51.100.1",
        'for=6.6.6.6,for="[::ffff:198.51.100.1]"': "198.51.100.1",
    }
    for header, client in cases.items():
        assert policy.client_ip(PROXY, header, None) == client, header


def test_forwarded_header_wins_over_x_forwarded_for() -> None:
    policy = ProxyPolicy([PROXY])
    assert policy.client_ip(PROXY, "for=198.51.100.1", "198.51.100.2") == "198.51.100.1"


def test_forwarded_header_without_for_falls_back_to_x_forwarded_for() -> None:
    policy = ProxyPolicy([PROXY])
    assert policy.client_ip(PROXY, "proto=https", "198.51.100.2") == "198.51.100.2"


def test_garbage_at_the_trusted_end_of_the_chain_trusts_nothing_beyond_the_proxy() -> None:
    policy = ProxyPolicy([PROXY])
    for xff in ("not-an-ip", "198.51.100.1, garbage", "198.51.100.1:5555", "[2001:db8::1]"):
        assert policy.client_ip(PROXY, None, xff) == PROXY, xff
    for fwd in ("for=unknown", "for=_hidden", 'for="198.51.100.1", for=_gateway'):
        assert policy.client_ip(PROXY, fwd, None) == PROXY, fwd


def test_garbage_left_of_the_client_hop_is_ignored() -> None:
    policy = ProxyPolicy([PROXY])
    assert policy.client_ip(PROXY, None, "garbage, 198.51.100.1") == "198.51.100.1"
    assert policy.client_ip(PROXY, "for=unknown, for=198.51.100.1", None) == "198.51.100.1"


def test_ipv4_mapped_trusted_peer_is_trusted() -> None:
    policy = ProxyPolicy(["10.0.0.0/8"])
    assert policy.client_ip("::ffff:10.0.0.2", None, "198.51.100.1") == "198.51.100.1"
