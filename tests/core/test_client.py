"""Client networks: X-Forwarded-For only from trusted proxies; keyed hashes, not addresses."""

from __future__ import annotations

import ipaddress

from core.web.client import client_address, network_key, parse_networks


def scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 1234), "headers": headers}


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    assert str(client_address(scope("198.51.100.7", "1.2.3.4"))) == "198.51.100.7"


def test_forwarded_for_from_a_trusted_proxy() -> None:
    trusted = parse_networks(["10.0.0.0/8"])
    found = client_address(scope("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.9"), trusted)
    assert str(found) == "203.0.113.5"  # the rightmost hop that is not ours


def test_network_key_is_keyed_and_groups_ipv6_by_64() -> None:
    a = network_key(ipaddress.ip_address("2001:db8::1"), "k1")
    b = network_key(ipaddress.ip_address("2001:db8::ffff"), "k1")
    c = network_key(ipaddress.ip_address("2001:db8::1"), "k2")
    assert a == b != c
    assert "2001" not in a
