"""IP allowlists on keys, and which address a request really comes from."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sealbook.errors import ParamInvalid

__all__ = ["MAX_ENTRIES", "Allowlist", "ProxyPolicy", "parse_allowlist"]

MAX_ENTRIES = 30

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _network(entry: str) -> Network:
    try:
        net = ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        raise ParamInvalid("ip", f"{entry.strip()!r} is not an IP address or CIDR range") from None
    # Peers arrive with IPv4-mapped addresses unwrapped, so entries are unwrapped too.
    mapped = net.network_address.ipv4_mapped if isinstance(net, ipaddress.IPv6Network) else None
    if mapped is not None and net.prefixlen >= 96:
        return ipaddress.IPv4Network((mapped, net.prefixlen - 96))
    return net


@lru_cache(maxsize=65_536)
def _address(text: str) -> Address | None:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def parse_allowlist(entries: Iterable[str]) -> tuple[str, ...]:
    """Validate and normalise entries (comma-separated strings are split)."""
    out: list[str] = []
    for raw in entries:
        for part in raw.split(","):
            if part.strip():
                net = _network(part)
                text = str(net.network_address) if net.num_addresses == 1 else str(net)
                if text not in out:
                    out.append(text)
    if len(out) > MAX_ENTRIES:
        raise ParamInvalid("ip", f"at most {MAX_ENTRIES} entries per key")
    return tuple(out)


class Allowlist:
    """Membership test over a key's entries; empty means "any address"."""

    __slots__ = ("_exact", "_nets", "entries")

    def __init__(self, entries: Sequence[str]) -> None:
        self.entries = tuple(entries)
        nets = [_network(e) for e in self.entries]
        self._exact = frozenset(n.network_address for n in nets if n.num_addresses == 1)
        self._nets = tuple(n for n in nets if n.num_addresses > 1)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def allows(self, ip: str) -> bool:
        if not self.entries:
            return True
        addr = _address(ip)
        if addr is None:
            return False
        if addr in self._exact:
            return True
        return any(addr.version == n.version and addr in n for n in self._nets)


class ProxyPolicy:
    """Believe ``Forwarded`` / ``X-Forwarded-For`` only from trusted proxies.

    The client is the rightmost hop that is not itself a trusted proxy: everything to
    the left of it was written by the client and proves nothing.
    """

    __slots__ = ("_trusted",)

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self._trusted = Allowlist(parse_allowlist(trusted)) if trusted else None

    def trusts(self, ip: str) -> bool:
        """Whether ``ip`` is one of the configured proxies (whose headers count)."""
        return self._trusted is not None and bool(self._trusted) and self._trusted.allows(ip)


    def client_ip(self, peer: str, forwarded: str | None, x_forwarded_for: str | None) -> str:
        if not self.trusts(peer):
            return peer
        hops = _forwarded_hops(forwarded) if forwarded else []
        if not hops and x_forwarded_for:
            hops = [h.strip() for h in x_forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            addr = _address(hop)
            if addr is None:
                return peer  # garbage in the chain: trust nothing beyond the proxy
            if not self.trusts(str(addr)):
                return str(addr)
        return hops[0] if hops and _address(hops[0]) is not None else peer


def _forwarded_hops(header: str) -> list[str]:
    """``for=`` values of an RFC 7239 header, ports and brackets removed."""
    hops: list[str] = []
    for element in header.split(","):
        for pair in element.split(";"):
            name, _, value = pair.strip().partition("=")
            if name.lower() != "for":
                continue
            value = value.strip().strip('"')
            if value.startswith("["):
                value = value[1 : value.find("]")] if "]" in value else value[1:]
            elif value.count(":") == 1:
                value = value.split(":", 1)[0]
            hops.append(value)
    return hops
