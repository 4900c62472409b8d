"""What a shop does to get going: an account, a number, an SDK client."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from twilio.rest import Client

from .dns import DnsZone
from .processes import REPO_ROOT
from .stack import Stack

ADMIN_TIMEOUT_S = 60


async def admin(stack: Stack, *args: str) -> dict[str, Any]:
    """Run ``python -m services.api.admin`` against the stack; parse its JSON."""
    completed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.api.admin", *args],
        cwd=REPO_ROOT,
        env=stack.env(),
        capture_output=True,
        timeout=ADMIN_TIMEOUT_S,
        check=True,
    )
    result: dict[str, Any] = orjson.loads(completed.stdout)
    return result


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The ``Authorization`` header for HTTP Basic."""
    return {"Authorization": aiohttp.encode_basic_auth(user, password)}


def sdk_client(stack: Stack, account_sid: str, auth_token: str) -> Client:
    """The official Twilio client, pointed at the stack's API."""
    client = Client(account_sid, auth_token)
    client.api.base_url = stack.api_url
    client.messaging.base_url = stack.api_url
    return client


@dataclass(frozen=True)
class Account:
    sid: str
    token: str
    number: str
    number_sid: str


async def open_account(stack: Stack, name: str, number: str) -> Account:
    """An account with one number it may send from."""
    created = await admin(stack, "create-account", "--friendly-name", name)
    sid, token = created["account_sid"], created["auth_token"]
    owned = await admin(
        stack, "add-number", "--account-sid", sid, "--phone-number", number
    )
    return Account(sid, token, owned["phone_number"], owned["sid"])


async def register_domain(stack: Stack, account: Account, name: str) -> dict[str, Any]:
    """Pigeon's own extension: the SDK has no call to register a domain."""
    headers = basic_auth(account.sid, account.token)
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(
            f"{stack.api_url}/v1/LinkShortening/Domains", data={"DomainName": name}
        ) as reply,
    ):
        body: dict[str, Any] = await reply.json()
        assert reply.status == 201, body
    return body


def publish_records(zone: DnsZone, domain: dict[str, Any]) -> None:
    """Publish in the test DNS every record the domain resource asks for."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for record in domain["dns_records"]:
        grouped.setdefault((record["name"], record["type"]), []).append(record["value"])
    for (name, rtype), values in grouped.items():
        if rtype == "TXT":
            zone.publish(name, "TXT", *([value] for value in values))
        else:
            zone.publish(name, rtype, *values)


async def verify_domain(
    stack: Stack, account: Account, zone: DnsZone, domain: dict[str, Any]
) -> None:
    """Publish the domain's records and have Pigeon check them (ValidateDns)."""
    publish_records(zone, domain)
    client = sdk_client(stack, account.sid, account.token)
    validation = await asyncio.to_thread(
        client.messaging.v1.domain_validate_dns(domain["sid"]).fetch
    )
    assert validation.is_valid, validation.reason


async def service_on_domain(
    stack: Stack, account: Account, domain_sid: str, name: str = "Drops"
) -> str:
    """A messaging service with the account's number, shortening on the domain."""
    v1 = sdk_client(stack, account.sid, account.token).messaging.v1
    service = await asyncio.to_thread(v1.services.create, friendly_name=name)
    await asyncio.to_thread(
        v1.services(service.sid).phone_numbers.create,
        phone_number_sid=account.number_sid,
    )
    await asyncio.to_thread(
        v1.linkshortening_messaging_service(domain_sid, service.sid).create
    )
    sid: str = service.sid
    return sid
