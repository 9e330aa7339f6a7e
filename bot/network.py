"""Who is on the other end: loopback checks, and the client's address behind trusted proxies.

Two modes are safe only on this machine (the web chat's demo mode and Teams' local mode), so
the server refuses to start them on any other listening address; `is_loopback_host` is that
check. Behind a reverse proxy every request comes from the proxy's address, so the client's
own address (what the sign-in limit counts by) and scheme (whether cookies get Secure) come
from X-Forwarded-For / X-Forwarded-Proto, but only when the request came from a proxy the
operator listed (EVIDENCE_DESK_WEB_TRUSTED_PROXIES); from anyone else those headers are
ignored, because a client can write them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _address(value: str) -> Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """Whether a listening address or URL host name is this machine only (127.0.0.0/8, ::1,
    localhost). 0.0.0.0 and :: are every interface, so not loopback."""
    if host.strip().lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and is_loopback_host(host or "")


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR ranges; raises ValueError naming the one that is neither."""
    networks = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IP address or CIDR range") from exc
    return tuple(networks)


@dataclass(frozen=True)
class ClientView:
    """The client as the server should see it: its address and whether it used TLS."""

    address: str
    secure: bool


def client_view(
    peer: str | None,
    headers: Mapping[str, str],
    secure: bool,
    trusted: tuple[Network, ...],
) -> ClientView:
    """Walk X-Forwarded-For from the right (the nearest hop) past every trusted proxy; the
    first untrusted hop is the client. Nothing is taken from the headers unless the peer
    itself is a trusted proxy."""
    address = peer or "unknown"
    if not trusted or not _trusted(peer, trusted):
        return ClientView(address, secure)
    hops = [h.strip() for h in headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    client = address
    for hop in reversed(hops):
        client = hop
        if not _trusted(hop, trusted):
            break
    proto = headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    if proto in ("https", "http"):
        secure = proto == "https"
    return ClientView(client[:64], secure)


def _trusted(value: str | None, trusted: tuple[Network, ...]) -> bool:
    address = _address(value) if value else None
    return address is not None and any(address in network for network in trusted)
