"""Settings of the API service."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from libs.common.settings import CommonSettings, split_list


class ApiSettings(CommonSettings):
    """Where the API listens, how it names itself, and the scheduling window."""

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    # Absolute URLs in v1 resources (``url``, ``meta.*_url``) start with this.
    public_base_url: str = "http://127.0.0.1:8080"
    # Twilio accepts SendAt between 300 s and 35 days ahead; both are settable.
    schedule_min_lead_s: int = Field(default=300, ge=0)
    schedule_max_lead_s: int = Field(default=35 * 24 * 3600, gt=0)
    max_scheduled_per_account: int = Field(default=500_000, gt=0)
    # Refuse self-signed certificates unless the operator runs a private CA.
    allow_self_signed_certificates: bool = False
    # Requests a second per account (per API process), and the burst allowed.
    rate_limit_per_s: float = Field(default=200.0, gt=0)
    rate_limit_burst: float = Field(default=400.0, ge=1)
    # How long proven credentials are trusted without asking the database.
    auth_cache_ttl_s: float = Field(default=5.0, ge=0)
    # How long a service's setup that passed the checks is trusted.
    sending_context_cache_ttl_s: float = Field(default=2.0, ge=0)
    idempotency_token_ttl_s: int = Field(default=24 * 3600, gt=0)
    max_request_bytes: int = Field(default=1024 * 1024, gt=0)
    # Where the API's events are published from: a child process (so that
    # publishing never delays a request), the API's own event loop, or
    # nowhere, when relays run as a deployment of their own.
    outbox_relay: Literal["process", "inline", "off"] = "process"
    # Creates written together in one statement, at most (group commit).
    create_batch_max: int = Field(default=256, ge=1)

    # Domain verification.  Nameservers are ``host`` or ``host:port``; empty
    # means the system's resolvers (/etc/resolv.conf).
    dns_nameservers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    dns_timeout_s: float = Field(default=3.0, gt=0)
    dns_tries: int = Field(default=2, ge=1)
    # Where branded domains must point: a CNAME target for subdomains, and
    # the redirector's addresses for apex domains.
    routing_cname: str = ""
    routing_ipv4: Annotated[list[IPv4Address], NoDecode] = Field(default_factory=list)
    routing_ipv6: Annotated[list[IPv6Address], NoDecode] = Field(default_factory=list)
    # Every domain's DNS is checked again this often; a verified domain whose
    # TXT record is gone loses its verification.
    domain_check_interval_s: float = Field(default=3600.0, gt=0)
    domain_check_poll_s: float = Field(default=30.0, gt=0)
    domain_check_batch: int = Field(default=20, ge=1)

    _split_lists = field_validator(
        "dns_nameservers", "routing_ipv4", "routing_ipv6", mode="before"
    )(split_list)

    @field_validator("dns_nameservers")
    @classmethod
    def _nameservers_are_addresses(cls, servers: list[str]) -> list[str]:
        for server in servers:
            nameserver_address(server)
        return servers


def nameserver_address(server: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``, the host an IP address.

    c-ares asks nameservers by address only, so a name is refused at startup
    rather than failing every check later.
    """
    host, port = server, "53"
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port = rest.removeprefix(":") or port
    elif server.count(":") == 1:
        host, port = server.split(":")
    try:
        ip_address(host)
    except ValueError:
        raise ValueError(f"nameserver {server!r} is not an IP address") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"nameserver {server!r} has no valid port")
    return host, int(port)
