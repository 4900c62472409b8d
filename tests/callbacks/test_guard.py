"""The SSRF guard: which addresses webhooks may reach, checked where it counts."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from services.callbacks.guard import (
    AddressPolicy,
    ForbiddenDestinationError,
    GuardedResolver,
    check_url,
)
from services.callbacks.sender import create_session
from services.callbacks.settings import CallbacksSettings
from tests.support.receiver import Receiver

DENY_ALL_PRIVATE = AddressPolicy()

FORBIDDEN = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "169.254.169.254",
    "169.254.0.1",
    "224.0.0.251",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456:789a::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.1.2.3",
    "::127.0.0.1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "64:ff9b::a9fe:a9fe",
    "fd00:ec2::254",
]
PERMITTED = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:81c::200e",
    "::ffff:93.184.216.34",
]
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"]
OTHER_V4 = ["100.64.0.0/10", "169.254.0.0/16", "224.0.0.0/4", "0.0.0.0/8"]


class FixedResolver(AbstractResolver):
    """Answers every name with the same addresses, as a hostile DNS could."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.addresses
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses_are_refused(address: str) -> None:
    """Loopback, private, CGNAT, link-local, multicast and tunnelled forms fail."""
    assert not DENY_ALL_PRIVATE.permits(address)


@pytest.mark.parametrize("address", PERMITTED)
def test_public_addresses_are_permitted(address: str) -> None:
    """Ordinary public unicast addresses, IPv4 and IPv6, pass."""
    assert DENY_ALL_PRIVATE.permits(address)


def test_unparseable_address_is_refused() -> None:
    """Anything that is not an IP address is not let through by accident."""
    assert not DENY_ALL_PRIVATE.permits("localhost")


@given(
    st.sampled_from(PRIVATE_V4 + OTHER_V4).flatmap(
        lambda network: st.ip_addresses(network=network)
    )
)
def test_any_address_in_a_forbidden_range_is_refused(address: IPv4Address) -> None:
    """Every address of the blocked IPv4 ranges is refused, not just samples."""
    assert not DENY_ALL_PRIVATE.permits(address)


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_form_gets_the_same_answer(address: IPv4Address) -> None:
    """``::ffff:a.b.c.d`` is judged exactly as ``a.b.c.d`` is."""
    mapped = IPv6Address(f"::ffff:{address}")

    assert DENY_ALL_PRIVATE.permits(mapped) == DENY_ALL_PRIVATE.permits(address)


@given(st.ip_addresses(network="10.20.0.0/16"))
def test_allowed_range_overrides_the_block(address: IPv4Address) -> None:
    """An operator-allowed CIDR opens its range, and only its range."""
    policy = AddressPolicy([ip_network("10.20.0.0/16")])

    assert policy.permits(address)
    assert policy.permits(f"::ffff:{address}")
    assert not policy.permits("10.21.0.1")


def test_allowing_loopback_does_not_open_metadata() -> None:
    """Allowing 127.0.0.0/8 leaves 169.254.169.254 refused."""
    policy = AddressPolicy([ip_network("127.0.0.0/8")])

    assert policy.permits("127.0.0.1")
    assert not policy.permits("169.254.169.254")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "ftp://93.184.216.34/hook",
        "file:///etc/passwd",
        "gopher://example.com/",
    ],
)
def test_check_url_refuses_forbidden_literals_and_schemes(url: str) -> None:
    """IP-literal hosts are checked without DNS; only http and https pass."""
    with pytest.raises(ForbiddenDestinationError):
        check_url(URL(url), DENY_ALL_PRIVATE)


@pytest.mark.parametrize(
    "url", ["https://hooks.owlshoes.test/click", "http://93.184.216.34/x"]
)
def test_check_url_leaves_names_to_the_resolver(url: str) -> None:
    """Host names and public literals pass the URL check."""
    check_url(URL(url), DENY_ALL_PRIVATE)


async def test_resolver_keeps_only_permitted_addresses() -> None:
    """A name resolving to a mix connects only to its public addresses."""
    inner = FixedResolver("127.0.0.1", "93.184.216.34", "169.254.169.254")
    resolver = GuardedResolver(DENY_ALL_PRIVATE, inner)

    results = await resolver.resolve("hooks.owlshoes.test", 443)

    assert [found["host"] for found in results] == ["93.184.216.34"]


async def test_resolver_refuses_a_name_with_only_forbidden_addresses() -> None:
    """A rebinding name that answers with loopback and metadata is refused."""
    resolver = GuardedResolver(
        DENY_ALL_PRIVATE, FixedResolver("127.0.0.1", "::ffff:169.254.169.254")
    )

    with pytest.raises(ForbiddenDestinationError):
        await resolver.resolve("rebind.attacker.test", 80)


async def test_session_does_not_connect_to_a_name_for_loopback(
    receiver: Receiver, callbacks_settings: CallbacksSettings
) -> None:
    """``localhost`` is resolved, refused, and the receiver never hears of it."""
    url = f"http://localhost:{receiver.port}/hook"

    async with create_session(callbacks_settings, DENY_ALL_PRIVATE) as session:
        with pytest.raises(ForbiddenDestinationError):
            await session.post(url, data=b"{}")

    assert receiver.requests == []


async def test_session_connects_inside_an_allowed_range(
    receiver: Receiver, callbacks_settings: CallbacksSettings
) -> None:
    """With loopback allowed the same request reaches the receiver."""
    policy = AddressPolicy([ip_network("127.0.0.0/8"), ip_network("::1/128")])
    url = f"http://localhost:{receiver.port}/hook"

    async with (
        create_session(callbacks_settings, policy) as session,
        session.post(url, data=b"{}") as response,
    ):
        assert response.status == 200

    assert [r.path for r in receiver.requests] == ["/hook"]


def test_policy_accepts_addresses_as_objects() -> None:
    """Parsed addresses are judged like their text."""
    assert not DENY_ALL_PRIVATE.permits(ip_address("10.0.0.1"))
    assert DENY_ALL_PRIVATE.permits(ip_address("8.8.4.4"))
