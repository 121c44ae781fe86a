"""The client's network, for abuse control, as a keyed hash that is never stored.

X-Forwarded-For is believed only when the direct peer is a proxy the operator trusts;
otherwise anyone could claim any address and dodge the limits.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import Scope

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def client_address(scope: Scope, trusted: tuple[Network, ...] = ()) -> Address | None:
    peer = _address((scope.get("client") or ("", 0))[0])
    if peer is None or not _in(peer, trusted):
        return peer
    forwarded = ""
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            # latin-1 decodes any bytes: a client's junk in the header can't raise here.
            hops = value.decode("latin-1")
            forwarded = f"{forwarded},{hops}" if forwarded else hops
    # Walk right to left: the rightmost address not belonging to our proxies is the client.
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            return peer
        if not _in(address, trusted):
            return address
        peer = address
    return peer


def network_key(address: Address | None, secret: str) -> str:
    """A keyed hash of the client's network: the IPv4 address, or the IPv6 /64."""
    if address is None:
        network = "unknown"
    elif address.version == 6:
        network = str(ipaddress.ip_network(f"{address}/64", strict=False))
    else:
        network = str(address)
    return hmac.new(secret.encode(), b"net:" + network.encode(), hashlib.sha256).hexdigest()[:32]


def _address(value: str) -> Address | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; as IPv6 they would all fall
    # in one /64 (one shared limit for every IPv4 client) and never match an IPv4 proxy.
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _in(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in net for net in networks if net.version == address.version)


_REGION = re.compile(r"^[a-z]{2,3}-([A-Za-z]{2})\b")


def region_of(headers: Headers) -> str | None:
    """The member's country, coarsely, from their browser's first language (en-GB → GB), to
    choose crisis helplines. Read per request, never stored."""
    first = headers.get("accept-language", "").split(",")[0].strip()
    match = _REGION.match(first)
    return match.group(1).upper() if match else None
