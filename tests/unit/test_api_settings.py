"""The API's DNS settings are checked when the service starts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.api.settings import ApiSettings, nameserver_address


@pytest.mark.parametrize(
    ("server", "address"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[2001:db8::53]", ("2001:db8::53", 53)),
    ],
)
def test_nameservers_are_addresses_with_an_optional_port(
    server: str, address: tuple[str, int]
) -> None:
    assert nameserver_address(server) == address


@pytest.mark.parametrize(
    "servers", ["dns.example.com", "127.0.0.1:0", "127.0.0.1:dns", "[::1]:99999"]
)
def test_a_bad_nameserver_stops_the_service_at_startup(
    servers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGEON_DNS_NAMESERVERS", servers)
    with pytest.raises(ValidationError, match="nameserver"):
        ApiSettings()


def test_lists_are_read_from_commas_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGEON_DNS_NAMESERVERS", "127.0.0.1:5353, [::1]:53")
    monkeypatch.setenv("PIGEON_ROUTING_IPV4", '["192.0.2.7", "192.0.2.8"]')
    settings = ApiSettings()
    assert settings.dns_nameservers == ["127.0.0.1:5353", "[::1]:53"]
    assert [str(ip) for ip in settings.routing_ipv4] == ["192.0.2.7", "192.0.2.8"]
