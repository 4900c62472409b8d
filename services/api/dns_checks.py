"""What DNS says about a branded domain: who owns it and where it points.

Ownership is proved by a TXT record at ``_pigeon.<domain>`` holding the
domain's verification value.  Routing is a CNAME to the operator's redirector
name (subdomains) or A/AAAA records with the redirector's addresses (apex
domains, which cannot hold a CNAME).  Every finding says, in words an owner
can act on, which record is missing or wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from ipaddress import IPv4Address, IPv6Address, ip_address

import aiodns
import pycares
from publicsuffixlist import PublicSuffixList

VERIFICATION_PREFIX = "pigeon-domain-verification="
VERIFICATION_LABEL = "_pigeon"


class Outcome(Enum):
    """How a lookup ended."""

    ANSWERED = "answered"
    NO_SUCH_NAME = "nxdomain"
    NO_RECORDS = "nodata"
    TIMED_OUT = "timeout"
    FAILED = "failed"


@dataclass(frozen=True)
class Answer:
    """The records of one type at one name, or why there are none."""

    name: str
    rtype: str
    outcome: Outcome
    values: tuple[str, ...] = ()
    detail: str = ""

    @property
    def is_definite(self) -> bool:
        """True when DNS itself answered, so the answer can be acted on."""
        return self.outcome not in (Outcome.TIMED_OUT, Outcome.FAILED)


@dataclass(frozen=True)
class Finding:
    """One check's verdict: ``valid`` is None when DNS could not be asked."""

    valid: bool | None
    reason: str = ""


@dataclass(frozen=True)
class Routing:
    """Where the operator wants branded domains to point."""

    cname: str = ""
    ipv4: tuple[IPv4Address, ...] = ()
    ipv6: tuple[IPv6Address, ...] = ()

    @property
    def is_configured(self) -> bool:
        return bool(self.cname or self.ipv4 or self.ipv6)


_ERRORS = {
    pycares.errno.ARES_ENOTFOUND: Outcome.NO_SUCH_NAME,
    pycares.errno.ARES_ENODATA: Outcome.NO_RECORDS,
    pycares.errno.ARES_ETIMEOUT: Outcome.TIMED_OUT,
}
_TYPES = {
    "TXT": pycares.QUERY_TYPE_TXT,
    "CNAME": pycares.QUERY_TYPE_CNAME,
    "A": pycares.QUERY_TYPE_A,
    "AAAA": pycares.QUERY_TYPE_AAAA,
}


class Resolver:
    """Asks the configured nameservers, with a timeout, through c-ares.

    Each check opens a channel of its own: c-ares keeps answers, negative
    ones too, for the life of a channel, and an owner who has just published
    a record must not be told it is still missing.
    """

    def __init__(
        self, nameservers: Sequence[str], *, timeout_s: float, tries: int
    ) -> None:
        self._nameservers = list(nameservers)
        self._timeout_s = timeout_s
        self._tries = tries

    @contextlib.asynccontextmanager
    async def channel(self) -> AsyncIterator[Lookup]:
        """A fresh channel, closed on the way out."""
        resolver = aiodns.DNSResolver(
            nameservers=self._nameservers or None,
            timeout=self._timeout_s,
            tries=self._tries,
        )
        # c-ares enforces its own timeout; this one only guards against a hang.
        guard_s = self._timeout_s * self._tries * max(len(self._nameservers), 1) + 1
        try:
            yield Lookup(resolver, guard_s)
        finally:
            await resolver.close()


class Lookup:
    """Queries on one c-ares channel."""

    def __init__(self, resolver: aiodns.DNSResolver, guard_s: float) -> None:
        self._resolver = resolver
        self._guard_s = guard_s

    async def __call__(self, name: str, rtype: str) -> Answer:
        """The ``rtype`` records at ``name``; errors become an ``Outcome``."""
        try:
            async with asyncio.timeout(self._guard_s):
                result = await self._resolver.query_dns(name, rtype)
        except aiodns.error.DNSError as exc:
            code = exc.args[0] if exc.args else None
            detail = exc.args[1] if len(exc.args) > 1 else str(exc)
            return Answer(name, rtype, _ERRORS.get(code, Outcome.FAILED), (), detail)
        except TimeoutError:
            return Answer(name, rtype, Outcome.TIMED_OUT)
        values = tuple(
            _text(record.data)
            for record in result.answer
            if record.type == _TYPES[rtype]
        )
        if not values:
            return Answer(name, rtype, Outcome.NO_RECORDS)
        return Answer(name, rtype, Outcome.ANSWERED, values)


def _text(data: object) -> str:
    if isinstance(data, pycares.TXTRecordData):
        return data.data.decode("utf-8", errors="replace")
    if isinstance(data, pycares.CNAMERecordData):
        return data.cname.rstrip(".").lower()
    if isinstance(data, pycares.ARecordData | pycares.AAAARecordData):
        return str(ip_address(data.addr))
    return str(data)


def verification_name(domain_name: str) -> str:
    return f"{VERIFICATION_LABEL}.{domain_name}"


def verification_value(token: str) -> str:
    return VERIFICATION_PREFIX + token


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def is_public_suffix(domain_name: str) -> bool:
    """True for names such as ``co.uk`` that nobody can own."""
    return _public_suffixes().privatesuffix(domain_name) is None


def is_apex(domain_name: str) -> bool:
    """True for a registrable domain itself (``shop.com``), not a subdomain."""
    return _public_suffixes().privatesuffix(domain_name) == domain_name


def required_records(
    domain_name: str, token: str, routing: Routing
) -> list[dict[str, str]]:
    """The DNS records the owner must publish, ownership first."""
    records = [
        {
            "type": "TXT",
            "name": verification_name(domain_name),
            "value": verification_value(token),
            "purpose": "ownership",
        }
    ]
    if routing.cname and not is_apex(domain_name):
        records.append(_record("CNAME", domain_name, routing.cname))
    else:
        records += [_record("A", domain_name, str(ip)) for ip in routing.ipv4]
        records += [_record("AAAA", domain_name, str(ip)) for ip in routing.ipv6]
    return records


def _record(rtype: str, name: str, value: str) -> dict[str, str]:
    return {"type": rtype, "name": name, "value": value, "purpose": "routing"}


async def check_ownership(lookup: Lookup, domain_name: str, token: str) -> Finding:
    """Does ``_pigeon.<domain>`` hold the verification value?"""
    name, expected = verification_name(domain_name), verification_value(token)
    answer = await lookup(name, "TXT")
    publish = f'Publish a TXT record at {name} with the value "{expected}".'
    match answer.outcome:
        case Outcome.ANSWERED if expected in answer.values:
            return Finding(True)
        case Outcome.ANSWERED:
            found = ", ".join(f'"{value}"' for value in answer.values)
            return Finding(
                False,
                f"The TXT record at {name} holds {found}, not the expected"
                f' "{expected}". {publish}',
            )
        case Outcome.NO_SUCH_NAME:
            return Finding(False, f"{name} does not exist in DNS (NXDOMAIN). {publish}")
        case Outcome.NO_RECORDS:
            return Finding(False, f"{name} exists but has no TXT record. {publish}")
    return Finding(None, _unanswered(answer))


async def check_routing(lookup: Lookup, domain_name: str, routing: Routing) -> Finding:
    """Does the domain lead to the redirector?"""
    if not routing.is_configured:
        return Finding(None, "The operator has not configured where domains point.")
    if routing.cname and not is_apex(domain_name):
        return await _check_cname(lookup, domain_name, routing.cname)
    if routing.ipv4 or routing.ipv6:
        return await _check_addresses(lookup, domain_name, routing)
    return Finding(
        None,
        f"{domain_name} is an apex domain, which cannot hold a CNAME, and the"
        " operator has configured no redirector addresses for A or AAAA records.",
    )


async def _check_cname(lookup: Lookup, domain_name: str, target: str) -> Finding:
    answer = await lookup(domain_name, "CNAME")
    point = f"Add a CNAME record at {domain_name} pointing to {target}."
    match answer.outcome:
        case Outcome.ANSWERED if target.lower() in answer.values:
            return Finding(True)
        case Outcome.ANSWERED:
            return Finding(
                False,
                f"{domain_name} is a CNAME for {answer.values[0]}, not {target}."
                f" {point}",
            )
        case Outcome.NO_SUCH_NAME:
            return Finding(False, f"{domain_name} does not exist in DNS. {point}")
        case Outcome.NO_RECORDS:
            return Finding(False, f"{domain_name} has no CNAME record. {point}")
    return Finding(None, _unanswered(answer))


async def _check_addresses(
    lookup: Lookup, domain_name: str, routing: Routing
) -> Finding:
    wanted = {"A": {str(ip) for ip in routing.ipv4}}
    wanted["AAAA"] = {str(ip) for ip in routing.ipv6}
    problems: list[str] = []
    for rtype, addresses in wanted.items():
        if not addresses:
            continue
        answer = await lookup(domain_name, rtype)
        if not answer.is_definite:
            return Finding(None, _unanswered(answer))
        stray = sorted(set(answer.values) - addresses)
        if not answer.values:
            problems.append(f"{domain_name} has no {rtype} record")
        elif stray:
            problems.append(
                f"{domain_name} has {rtype} {', '.join(stray)}, which is not Pigeon's"
            )
    if not problems:
        return Finding(True)
    expected = ", ".join(sorted(wanted["A"] | wanted["AAAA"]))
    return Finding(
        False, "; ".join(problems) + f". Point {domain_name} at {expected} only."
    )


def _unanswered(answer: Answer) -> str:
    if answer.outcome is Outcome.TIMED_OUT:
        why = "timed out: no nameserver answered"
    else:
        why = f"failed: {answer.detail or 'the nameserver could not answer'}"
    return (
        f"The DNS lookup of {answer.rtype} at {answer.name} {why}."
        " Nothing was changed; try again later."
    )
