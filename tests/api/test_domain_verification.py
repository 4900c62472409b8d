"""Domains proved over DNS, against a real DNS server on loopback.

The test DNS server runs as its own process and answers from a zone the tests
edit; the API asks it through c-ares, as it would ask the operator's resolver.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from typing import Any

import aiohttp
import pytest

from tests.conftest import ROUTING_CNAME, ROUTING_IPV4, ROUTING_IPV6
from tests.support.dns import DnsZone
from tests.support.errors import assert_twilio_error, rest_error
from tests.support.polling import eventually
from tests.support.shop import (
    Account,
    admin,
    basic_auth,
    publish_records,
    register_domain,
    sdk_client,
    service_on_domain,
    verify_domain,
)
from tests.support.stack import Stack

DOMAINS = "/v1/LinkShortening/Domains"


def subdomain() -> str:
    return f"ls{secrets.token_hex(4)}.owlshoes.test"


def txt_record(domain: dict[str, Any]) -> dict[str, str]:
    (record,) = [r for r in domain["dns_records"] if r["type"] == "TXT"]
    return {"name": str(record["name"]), "value": str(record["value"])}


async def call(
    stack: Stack, account: Account, method: str, path: str, **form: str
) -> tuple[int, Any]:
    headers = basic_auth(account.sid, account.token)
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, stack.api_url + path, data=form or None) as reply,
    ):
        body = await reply.json() if reply.status != 204 else None
        return reply.status, body


async def validate(stack: Stack, account: Account, sid: str) -> dict[str, Any]:
    status, body = await call(stack, account, "GET", f"{DOMAINS}/{sid}/ValidateDns")
    assert status == 200, body
    result: dict[str, Any] = body
    return result


async def fetch(stack: Stack, account: Account, sid: str) -> dict[str, Any]:
    status, body = await call(stack, account, "GET", f"{DOMAINS}/{sid}")
    assert status == 200, body
    domain: dict[str, Any] = body
    return domain


async def test_a_subdomain_is_told_its_txt_and_cname(
    api_stack: Stack, shop: Account
) -> None:
    name = subdomain()
    domain = await register_domain(api_stack, shop, name)
    assert domain["verified"] is False
    assert domain["date_verified"] is None
    records = {(r["type"], r["name"]): r["value"] for r in domain["dns_records"]}
    txt = records.pop(("TXT", f"_pigeon.{name}"))
    assert txt.startswith("pigeon-domain-verification=")
    assert len(txt) > len("pigeon-domain-verification=") + 16
    assert records == {("CNAME", name): ROUTING_CNAME}


async def test_an_apex_domain_is_told_its_a_and_aaaa_records(
    api_stack: Stack, shop: Account
) -> None:
    """An apex cannot hold a CNAME, so it points at the redirector's addresses."""
    name = f"owl{secrets.token_hex(4)}.test"
    domain = await register_domain(api_stack, shop, name)
    routing = {
        (r["type"], r["name"], r["value"])
        for r in domain["dns_records"]
        if r["purpose"] == "routing"
    }
    assert routing == {("A", name, ROUTING_IPV4), ("AAAA", name, ROUTING_IPV6)}


async def test_the_published_txt_record_verifies_the_domain(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    """ValidateDns through the SDK: valid, verified, routing checked as well."""
    domain = await register_domain(api_stack, shop, subdomain())
    publish_records(dns_zone, domain)
    client = sdk_client(api_stack, shop.sid, shop.token)
    result = await asyncio.to_thread(
        client.messaging.v1.domain_validate_dns(domain["sid"]).fetch
    )
    assert (result.domain_sid, result.is_valid, result.reason) == (
        domain["sid"],
        True,
        "",
    )
    assert result.url.endswith(f"{DOMAINS}/{domain['sid']}/ValidateDns")
    body = await validate(api_stack, shop, domain["sid"])
    assert body["verified"] is True
    assert body["routing"] == {"is_valid": True, "reason": ""}
    fetched = await fetch(api_stack, shop, domain["sid"])
    assert fetched["verified"] is True
    assert fetched["date_verified"] is not None
    assert fetched["routing_valid"] is True


async def test_a_txt_record_split_into_several_strings_counts_whole(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    domain = await register_domain(api_stack, shop, subdomain())
    record = txt_record(domain)
    value = record["value"]
    dns_zone.publish_txt(record["name"], value[:10], value[10:30], value[30:])
    result = await validate(api_stack, shop, domain["sid"])
    assert (result["is_valid"], result["verified"]) == (True, True), result


async def test_an_absent_name_is_reported_as_nxdomain(
    api_stack: Stack, shop: Account
) -> None:
    """The reason names the record to publish and its value."""
    domain = await register_domain(api_stack, shop, subdomain())
    record = txt_record(domain)
    result = await validate(api_stack, shop, domain["sid"])
    assert result["is_valid"] is False
    assert "NXDOMAIN" in result["reason"]
    assert record["name"] in result["reason"]
    assert record["value"] in result["reason"]
    assert result["verified"] is False


async def test_a_name_without_txt_is_reported_as_such(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    domain = await register_domain(api_stack, shop, subdomain())
    dns_zone.publish(txt_record(domain)["name"], "A", "192.0.2.10")
    result = await validate(api_stack, shop, domain["sid"])
    assert result["is_valid"] is False
    assert "has no TXT record" in result["reason"]


async def test_a_wrong_value_is_quoted_next_to_the_expected_one(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    domain = await register_domain(api_stack, shop, subdomain())
    record = txt_record(domain)
    dns_zone.publish_txt(record["name"], "pigeon-domain-verification=not-mine")
    result = await validate(api_stack, shop, domain["sid"])
    assert result["is_valid"] is False
    assert '"pigeon-domain-verification=not-mine"' in result["reason"]
    assert f'"{record["value"]}"' in result["reason"]


async def test_a_timeout_is_reported_and_changes_nothing(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    """A nameserver that does not answer never costs a domain its verification."""
    domain = await register_domain(api_stack, shop, subdomain())
    await verify_domain(api_stack, shop, dns_zone, domain)
    dns_zone.silence(txt_record(domain)["name"])
    result = await validate(api_stack, shop, domain["sid"])
    assert result["is_valid"] is False
    assert "timed out" in result["reason"]
    assert result["verified"] is True
    assert (await fetch(api_stack, shop, domain["sid"]))["verified"] is True


async def test_routing_is_reported_apart_from_ownership(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    name = subdomain()
    domain = await register_domain(api_stack, shop, name)
    record = txt_record(domain)
    dns_zone.publish_txt(record["name"], record["value"])
    result = await validate(api_stack, shop, domain["sid"])
    assert result["is_valid"] is True
    assert result["routing"]["is_valid"] is False
    assert "has no CNAME record" in result["routing"]["reason"]
    dns_zone.publish(name, "CNAME", "elsewhere.example")
    result = await validate(api_stack, shop, domain["sid"])
    assert result["routing"]["is_valid"] is False
    assert "elsewhere.example" in result["routing"]["reason"]
    assert ROUTING_CNAME in result["routing"]["reason"]


async def test_an_apex_pointing_elsewhere_is_told_the_right_addresses(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    name = f"owl{secrets.token_hex(4)}.test"
    domain = await register_domain(api_stack, shop, name)
    record = txt_record(domain)
    dns_zone.publish_txt(record["name"], record["value"])
    dns_zone.publish(name, "A", "198.51.100.4")
    dns_zone.publish(name, "AAAA", ROUTING_IPV6)
    result = await validate(api_stack, shop, domain["sid"])
    assert result["routing"]["is_valid"] is False
    assert "198.51.100.4" in result["routing"]["reason"]
    assert ROUTING_IPV4 in result["routing"]["reason"]


async def test_removing_the_txt_record_loses_the_verification(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    """The periodic check notices on its own; no ValidateDns call is needed."""
    domain = await register_domain(api_stack, shop, subdomain())
    await verify_domain(api_stack, shop, dns_zone, domain)
    dns_zone.withdraw(txt_record(domain)["name"])
    fetched = await eventually(
        lambda: fetch(api_stack, shop, domain["sid"]),
        lambda body: body["verified"] is False,
    )
    assert fetched["verified"] is False
    assert "NXDOMAIN" in fetched["verification_reason"]


async def test_a_pending_domain_is_verified_by_the_periodic_check(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    domain = await register_domain(api_stack, shop, subdomain())
    publish_records(dns_zone, domain)
    fetched = await eventually(
        lambda: fetch(api_stack, shop, domain["sid"]),
        lambda body: body["verified"] is True,
    )
    assert fetched["verified"] is True
    assert fetched["verification_reason"] == ""


async def test_a_verified_domain_has_one_owner(
    api_stack: Stack, shop: Account, rival: Account, dns_zone: DnsZone
) -> None:
    """Claims may wait side by side; once one is proved, the others cannot be."""
    name = subdomain()
    early_rival = await register_domain(api_stack, rival, name)
    domain = await register_domain(api_stack, shop, name)
    await verify_domain(api_stack, shop, dns_zone, domain)
    # Even with the rival's value published too, the name is taken.
    dns_zone.publish(
        txt_record(domain)["name"],
        "TXT",
        [txt_record(domain)["value"]],
        [txt_record(early_rival)["value"]],
    )
    result = await validate(api_stack, rival, early_rival["sid"])
    assert result["is_valid"] is False
    assert "verified by another account" in result["reason"]
    theirs = await fetch(api_stack, rival, early_rival["sid"])
    assert theirs["verified"] is False
    assert "verified by another account" in theirs["verification_reason"]
    status, _ = await call(
        api_stack, rival, "DELETE", f"{DOMAINS}/{early_rival['sid']}"
    )
    assert status == 204
    status, body = await call(
        api_stack, rival, "POST", DOMAINS, DomainName=name.upper()
    )
    assert (status, body["code"]) == (400, 30110)
    assert "verified by another account" in body["message"]
    status, body = await call(api_stack, shop, "POST", DOMAINS, DomainName=name)
    assert (status, body["code"]) == (400, 30110)
    assert domain["sid"] in body["message"]


@pytest.mark.parametrize("name", ["co.uk", "test", "com."])
async def test_a_public_suffix_cannot_be_registered(
    api_stack: Stack, shop: Account, name: str
) -> None:
    status, body = await call(api_stack, shop, "POST", DOMAINS, DomainName=name)
    assert (status, body["code"]) == (400, 30100)


async def test_an_international_name_is_stored_in_idna(
    api_stack: Stack, shop: Account
) -> None:
    parent = subdomain()
    domain = await register_domain(api_stack, shop, f"Bücher.{parent}")
    assert domain["domain_name"] == f"xn--bcher-kva.{parent}"


async def test_domains_are_listed_and_deleted_per_account(
    api_stack: Stack, shop: Account, rival: Account
) -> None:
    domain = await register_domain(api_stack, shop, subdomain())
    status, page = await call(api_stack, shop, "GET", f"{DOMAINS}?PageSize=1000")
    assert status == 200
    assert domain["sid"] in {d["sid"] for d in page["domains"]}
    assert page["meta"]["key"] == "domains"
    _, theirs = await call(api_stack, rival, "GET", f"{DOMAINS}?PageSize=1000")
    assert domain["sid"] not in {d["sid"] for d in theirs["domains"]}
    status, body = await call(api_stack, rival, "DELETE", f"{DOMAINS}/{domain['sid']}")
    assert (status, body["code"]) == (404, 20404)
    status, _ = await call(api_stack, shop, "DELETE", f"{DOMAINS}/{domain['sid']}")
    assert status == 204
    status, body = await call(api_stack, shop, "GET", f"{DOMAINS}/{domain['sid']}")
    assert (status, body["code"]) == (404, 20404)


async def test_domains_page_with_the_v1_envelope(
    api_stack: Stack, shop: Account
) -> None:
    for _ in range(3):
        await register_domain(api_stack, shop, subdomain())
    status, first = await call(api_stack, shop, "GET", f"{DOMAINS}?PageSize=2")
    assert status == 200
    assert len(first["domains"]) == 2
    assert first["meta"]["next_page_url"].startswith(api_stack.api_url)
    status, second = await call(
        api_stack, shop, "GET", first["meta"]["next_page_url"][len(api_stack.api_url) :]
    )
    assert status == 200
    assert not {d["sid"] for d in first["domains"]} & {
        d["sid"] for d in second["domains"]
    }


async def test_an_unverified_domain_cannot_shorten_links(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    """30106 until the domain is proved, unless ContinueOnFailure lets it go."""
    domain = await register_domain(api_stack, shop, subdomain())
    service_sid = await service_on_domain(api_stack, shop, domain["sid"], "Unproved")
    client = sdk_client(api_stack, shop.sid, shop.token)
    message = {
        "to": "+15558675310",
        "messaging_service_sid": service_sid,
        "body": "https://www.owlshoes.example/drops",
        "shorten_urls": True,
    }
    error = await rest_error(client.messages.create, **message)
    assert_twilio_error(error, 30106, 400)
    assert "not verified" in error.msg
    await asyncio.to_thread(
        client.messaging.v1.domain_config(domain["sid"]).update,
        continue_on_failure=True,
    )
    sent = await asyncio.to_thread(client.messages.create, **message)
    assert sent.status == "accepted"


async def test_an_operator_can_vouch_for_a_domain(
    api_stack: Stack, shop: Account
) -> None:
    """``admin verify-domain``: verified without DNS, and DNS checks keep it so."""
    domain = await register_domain(api_stack, shop, subdomain())
    vouched = await admin(api_stack, "verify-domain", "--domain-sid", domain["sid"])
    assert (vouched["verified"], vouched["attested"]) == (True, True)
    result = await validate(api_stack, shop, domain["sid"])
    assert result["is_valid"] is False
    assert "NXDOMAIN" in result["reason"]
    fetched = await fetch(api_stack, shop, domain["sid"])
    assert (fetched["verified"], fetched["attested"]) == (True, True)


async def test_vouching_for_an_unknown_domain_fails(api_stack: Stack) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        await admin(api_stack, "verify-domain", "--domain-sid", "DN" + "0" * 32)
    assert b"was not found" in failed.value.stderr
