"""Where a webhook may deliver: http or https to a host that resolves to public addresses only.

A private, loopback, link-local or otherwise non-global address would let a subscriber have the gateway
call into the network it runs in; such targets are refused unless `GATEWAY_WEBHOOK_ALLOWED_HOSTS` names
the host (a receiver on the same network, or a test's). The host is resolved when the subscription is
made, and again before every attempt (its addresses may have changed since).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """Why the gateway will not deliver to a URL, in a phrase."""


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 address may carry its zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def host_of(url: str) -> tuple[str, int]:
    """The host and port a URL names; TargetRefused if it is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"is not a URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("must be an http or https URL")
    if not parts.hostname:
        raise TargetRefused("names no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("may not carry credentials: the deliveries are signed instead")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_target(url: str, allowed_hosts: frozenset[str]) -> None:
    """Refuse (TargetRefused) a URL the gateway will not deliver to."""
    host, port = host_of(url)
    if host.lower() in allowed_hosts:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"names a host that cannot be resolved: {host}") from None
    refused = sorted({info[4][0] for info in found if _refused_address(info[4][0])})
    if refused:
        raise TargetRefused(
            f"resolves to {', '.join(refused)}: private, loopback and link-local addresses are refused "
            "unless GATEWAY_WEBHOOK_ALLOWED_HOSTS names the host"
        )
