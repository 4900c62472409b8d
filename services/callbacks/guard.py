"""Keeps outbound webhooks away from loopback, private and metadata addresses.

The check is made on the addresses a host name resolves to, inside the
resolver the HTTP client connects with, so the address checked is the address
dialled: a name that resolves to a public address for the check and a private
one for the connection (DNS rebinding) has no second lookup to exploit.
IP-literal URLs never reach a resolver and are checked by ``check_url``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from libs.common.errors import PermanentError

from .settings import Network

IPAddress = IPv4Address | IPv6Address
ALLOWED_SCHEMES = frozenset({"http", "https"})


class ForbiddenDestinationError(PermanentError):
    """A webhook URL points somewhere outbound webhooks may not go."""


class AddressPolicy:
    """Permits public unicast addresses and the operator's allowed ranges."""

    def __init__(self, allowed: Iterable[Network] = ()) -> None:
        self.allowed = tuple(allowed)

    def permits(self, address: str | IPAddress) -> bool:
        """Tell whether a connection to ``address`` is allowed."""
        try:
            parsed = _unmapped(ip_address(address))
        except ValueError:
            return False
        if any(parsed in network for network in self.allowed):
            return True
        return all(_is_public(candidate) for candidate in _embedded(parsed))


class GuardedResolver(AbstractResolver):
    """Resolves with an inner resolver and keeps only permitted addresses."""

    def __init__(
        self, policy: AddressPolicy, inner: AbstractResolver | None = None
    ) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The permitted addresses of ``host``; refuses when none is left."""
        results = await self._inner.resolve(host, port, family)
        permitted = [found for found in results if self._policy.permits(found["host"])]
        if not permitted:
            raise ForbiddenDestinationError(
                f"{host} resolves only to addresses webhooks may not reach"
            )
        return permitted

    async def close(self) -> None:
        """Release the inner resolver."""
        await self._inner.close()


def check_url(url: URL, policy: AddressPolicy) -> None:
    """Refuse a URL whose scheme is not http(s) or whose IP literal is forbidden."""
    if url.scheme not in ALLOWED_SCHEMES:
        raise ForbiddenDestinationError(f"scheme {url.scheme!r} is not allowed")
    host = url.raw_host
    if not host:
        raise ForbiddenDestinationError("the URL has no host")
    if _is_ip_literal(host) and not policy.permits(host):
        raise ForbiddenDestinationError(f"{host} is not an address webhooks may reach")


def _is_ip_literal(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _unmapped(address: IPAddress) -> IPAddress:
    # ::ffff:a.b.c.d is the IPv4 address a.b.c.d reached over an IPv6 socket.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded(address: IPAddress) -> list[IPAddress]:
    """The address itself and any IPv4 address a 6to4 address tunnels to."""
    found: list[IPAddress] = [address]
    if isinstance(address, IPv6Address) and address.sixtofour is not None:
        found.append(address.sixtofour)
    return found


def _is_public(address: IPAddress) -> bool:
    # is_global already excludes private, CGNAT, loopback and link-local
    # space; multicast and reserved ranges count as global, so exclude them.
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )
