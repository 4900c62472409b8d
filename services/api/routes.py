"""HTTP handlers: parse, call the domain functions, render. Nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from aiohttp import web

from libs.common import sids
from libs.common.errors import ApiError, NotFoundError

from . import (
    api_keys,
    certificates,
    domains,
    message_listing,
    messages,
    messaging_services,
    paging,
    senders,
    verification,
)
from .auth import CREDENTIAL_CACHE
from .context import (
    CREATE_BATCHER,
    KEYRING,
    POOL,
    RESOLVER,
    ROUTING,
    SENDING_CONTEXTS,
    SETTINGS,
    account_of,
    require_account_credentials,
)
from .forms import Form
from .openapi import openapi_document
from .render import iso8601

routes = web.RouteTableDef()

MESSAGES = "/2010-04-01/Accounts/{account_sid}/Messages"
DOMAIN = "/v1/LinkShortening/Domains/{domain_sid}"
FORM_TYPES = frozenset(
    {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/octet-stream",
    }
)
UNPARSABLE_BODY = 20001
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
MAX_IDEMPOTENCY_TOKEN = 128


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json"
    )


def _no_content() -> web.Response:
    return web.Response(status=204)


def _base_url(request: web.Request) -> str:
    return request.app[SETTINGS].public_base_url.rstrip("/")


def _path_sid(request: web.Request, name: str, prefix: str) -> str:
    value = request.match_info[name]
    if not sids.is_sid(value, prefix):
        raise NotFoundError(request.path)
    return value


async def _form(request: web.Request) -> Form:
    """The form body; anything but a well-formed form is refused with a 400."""
    if request.content_type not in FORM_TYPES and request.body_exists:
        raise ApiError(
            UNPARSABLE_BODY,
            "Send parameters as application/x-www-form-urlencoded.",
            415,
        )
    try:
        return await request.post()  # type: ignore[return-value]
    except (ValueError, AssertionError, UnicodeDecodeError):
        raise ApiError(
            UNPARSABLE_BODY, "The request body could not be parsed."
        ) from None


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return _json(openapi_document(_base_url(request)))


# --- Messages (2010-04-01) ---------------------------------------------------


@routes.post(MESSAGES + ".json")
async def create_message(request: web.Request) -> web.Response:
    settings, pool = request.app[SETTINGS], request.app[POOL]
    account_sid = account_of(request)
    token = _idempotency_token(request)
    if token is not None:
        earlier = await messages.find_by_token(pool, account_sid, token)
        if earlier is not None:
            return _json(messages.render_message(earlier), status=201)
    message = messages.read_request(
        await _form(request),
        now=messages.now_utc(),
        min_lead=timedelta(seconds=settings.schedule_min_lead_s),
        max_lead=timedelta(seconds=settings.schedule_max_lead_s),
    )
    await messages.check_account_resources(
        pool, account_sid, message, request.app[SENDING_CONTEXTS]
    )
    row = await messages.insert_message(
        pool,
        account_sid,
        message,
        token,
        scheduled_limit=settings.max_scheduled_per_account,
        batcher=request.app[CREATE_BATCHER],
    )
    return _json(messages.render_message(row), status=201)


def _idempotency_token(request: web.Request) -> str | None:
    token = request.headers.get(IDEMPOTENCY_HEADER)
    if token is None:
        return None
    if not 0 < len(token) <= MAX_IDEMPOTENCY_TOKEN:
        raise ApiError(20001, f"{IDEMPOTENCY_HEADER} must be 1 to 128 characters.")
    return token


@routes.get(MESSAGES + ".json")
async def list_messages(request: web.Request) -> web.Response:
    body = await message_listing.list_messages(
        request.app[POOL], account_of(request), request.query
    )
    return _json(body)


@routes.delete(MESSAGES + "/{sid}.json")
async def delete_message(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.MESSAGE)
    await messages.delete_message(request.app[POOL], account_of(request), sid)
    return _no_content()


@routes.get(MESSAGES + "/{sid}.json")
async def fetch_message(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.MESSAGE)
    row = await messages.fetch_message(request.app[POOL], account_of(request), sid)
    return _json(messages.render_message(row))


@routes.post(MESSAGES + "/{sid}.json")
async def update_message(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.MESSAGE)
    form = await _form(request)
    pool, account_sid = request.app[POOL], account_of(request)
    status, body = form.get("Status"), form.get("Body")
    if status not in (None, "canceled"):
        raise ApiError(20001, f"Status {status!r} is not supported; use 'canceled'.")
    if status is None and body != "":
        raise ApiError(20001, "Provide Status=canceled or an empty Body.")
    if status == "canceled":
        row = await messages.cancel_message(pool, account_sid, sid)
    if body == "":
        row = await messages.redact_message(pool, account_sid, sid)
    return _json(messages.render_message(row))


# --- API keys (2010-04-01) --------------------------------------------------

KEYS = "/2010-04-01/Accounts/{account_sid}/Keys"


@routes.post(KEYS + ".json")
async def create_key(request: web.Request) -> web.Response:
    require_account_credentials(request)
    name = (await _form(request)).get("FriendlyName")
    key = await api_keys.create_key(request.app[POOL], account_of(request), name)
    return _json(key, 201)


@routes.get(KEYS + ".json")
async def list_keys(request: web.Request) -> web.Response:
    require_account_credentials(request)
    account_sid, page = account_of(request), paging.read_page(request.query)
    rows = await api_keys.list_keys(request.app[POOL], account_sid, page)
    path = f"/2010-04-01/Accounts/{account_sid}/Keys.json"
    return _json(
        paging.envelope(
            path, "keys", page, rows, api_keys.render_key, api_keys.key_position
        )
    )


@routes.get(KEYS + "/{sid}.json")
async def fetch_key(request: web.Request) -> web.Response:
    require_account_credentials(request)
    sid = _path_sid(request, "sid", sids.API_KEY)
    row = await api_keys.fetch_key(request.app[POOL], account_of(request), sid)
    return _json(api_keys.render_key(row))


@routes.post(KEYS + "/{sid}.json")
async def update_key(request: web.Request) -> web.Response:
    require_account_credentials(request)
    sid = _path_sid(request, "sid", sids.API_KEY)
    name = (await _form(request)).get("FriendlyName")
    row = await api_keys.rename_key(request.app[POOL], account_of(request), sid, name)
    return _json(api_keys.render_key(row))


@routes.delete(KEYS + "/{sid}.json")
async def delete_key(request: web.Request) -> web.Response:
    require_account_credentials(request)
    sid = _path_sid(request, "sid", sids.API_KEY)
    await api_keys.delete_key(request.app[POOL], account_of(request), sid)
    request.app[CREDENTIAL_CACHE].forget_key(sid)
    return _no_content()


# --- Messaging Services (v1) -------------------------------------------------


@routes.post("/v1/Services")
async def create_service(request: web.Request) -> web.Response:
    row = await messaging_services.create_service(
        request.app[POOL], account_of(request), await _form(request)
    )
    return _json(messaging_services.render_service(row, _base_url(request)), 201)


@routes.get("/v1/Services")
async def list_services(request: web.Request) -> web.Response:
    requested = paging.read_page(request.query)
    page_size, page = requested.size, requested.number
    rows = await messaging_services.list_services(
        request.app[POOL], account_of(request), page_size + 1, page * page_size
    )
    base = _base_url(request)
    return _json(
        {
            "services": [
                messaging_services.render_service(r, base) for r in rows[:page_size]
            ],
            "meta": _v1_page_meta(
                f"{base}/v1/Services", "services", page, page_size, len(rows)
            ),
        }
    )


@routes.get("/v1/Services/{sid}")
async def fetch_service(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.SERVICE)
    row = await messaging_services.fetch_service(
        request.app[POOL], account_of(request), sid
    )
    return _json(messaging_services.render_service(row, _base_url(request)))


@routes.post("/v1/Services/{sid}")
async def update_service(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.SERVICE)
    row = await messaging_services.update_service(
        request.app[POOL], account_of(request), sid, await _form(request)
    )
    return _json(messaging_services.render_service(row, _base_url(request)))


@routes.delete("/v1/Services/{sid}")
async def delete_service(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.SERVICE)
    await messaging_services.delete_service(request.app[POOL], account_of(request), sid)
    return _no_content()


@routes.post("/v1/Services/{sid}/PhoneNumbers")
async def add_service_number(request: web.Request) -> web.Response:
    service_sid = _path_sid(request, "sid", sids.SERVICE)
    pool, account_sid = request.app[POOL], account_of(request)
    await messaging_services.fetch_service(pool, account_sid, service_sid)
    number_sid = (await _form(request)).get("PhoneNumberSid")
    if not isinstance(number_sid, str) or not sids.is_sid(
        number_sid, sids.PHONE_NUMBER
    ):
        raise ApiError(21451, "PhoneNumberSid must be a PN SID.")
    await senders.add_to_service(pool, account_sid, service_sid, number_sid)
    (number, joined), *_ = await senders.service_numbers(pool, service_sid, number_sid)
    body = senders.render_service_number(
        number, service_sid, joined, _base_url(request)
    )
    return _json(body, 201)


@routes.get("/v1/Services/{sid}/PhoneNumbers")
async def list_service_numbers(request: web.Request) -> web.Response:
    service_sid = _path_sid(request, "sid", sids.SERVICE)
    pool, base = request.app[POOL], _base_url(request)
    await messaging_services.fetch_service(pool, account_of(request), service_sid)
    members = await senders.service_numbers(pool, service_sid)
    url = f"{base}/v1/Services/{service_sid}/PhoneNumbers"
    return _json(
        {
            "phone_numbers": [
                senders.render_service_number(number, service_sid, joined, base)
                for number, joined in members
            ],
            "meta": _single_page_meta(url, "phone_numbers", len(members)),
        }
    )


@routes.get("/v1/Services/{sid}/PhoneNumbers/{number_sid}")
async def fetch_service_number(request: web.Request) -> web.Response:
    service_sid = _path_sid(request, "sid", sids.SERVICE)
    number_sid = _path_sid(request, "number_sid", sids.PHONE_NUMBER)
    pool = request.app[POOL]
    await messaging_services.fetch_service(pool, account_of(request), service_sid)
    members = await senders.service_numbers(pool, service_sid, number_sid)
    if not members:
        raise NotFoundError(request.path)
    number, joined = members[0]
    return _json(
        senders.render_service_number(number, service_sid, joined, _base_url(request))
    )


@routes.delete("/v1/Services/{sid}/PhoneNumbers/{number_sid}")
async def remove_service_number(request: web.Request) -> web.Response:
    service_sid = _path_sid(request, "sid", sids.SERVICE)
    number_sid = _path_sid(request, "number_sid", sids.PHONE_NUMBER)
    pool = request.app[POOL]
    await messaging_services.fetch_service(pool, account_of(request), service_sid)
    await senders.remove_from_service(pool, service_sid, number_sid)
    return _no_content()


# --- Incoming phone numbers (2010-04-01) ------------------------------------

NUMBERS = "/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers"


@routes.get(NUMBERS + ".json")
async def list_numbers(request: web.Request) -> web.Response:
    account_sid, page = account_of(request), paging.read_page(request.query)
    numbers = await senders.list_numbers(request.app[POOL], account_sid, page)
    path = f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json"
    return _json(
        paging.envelope(
            path,
            "incoming_phone_numbers",
            page,
            numbers,
            senders.render_incoming,
            senders.number_position,
        )
    )


@routes.get(NUMBERS + "/{sid}.json")
async def fetch_number(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.PHONE_NUMBER)
    number = await senders.fetch_number(request.app[POOL], account_of(request), sid)
    return _json(senders.render_incoming(number))


@routes.post(NUMBERS + "/{sid}.json")
async def update_number(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.PHONE_NUMBER)
    pool, account_sid = request.app[POOL], account_of(request)
    name = (await _form(request)).get("FriendlyName")
    if isinstance(name, str) and name:
        number = await senders.rename_number(pool, account_sid, sid, name)
    else:
        number = await senders.fetch_number(pool, account_sid, sid)
    return _json(senders.render_incoming(number))


@routes.delete(NUMBERS + "/{sid}.json")
async def release_number(request: web.Request) -> web.Response:
    sid = _path_sid(request, "sid", sids.PHONE_NUMBER)
    await senders.release_number(request.app[POOL], account_of(request), sid)
    return _no_content()


# --- Link shortening (v1) ----------------------------------------------------


@routes.post("/v1/LinkShortening/Domains")
async def create_domain(request: web.Request) -> web.Response:
    form = await _form(request)
    name = form.get("DomainName")
    if not isinstance(name, str) or not name:
        raise ApiError(domains.DOMAIN_INVALID, "Required parameter DomainName missing.")
    row = await domains.create_domain(request.app[POOL], account_of(request), name)
    return _json(_domain(request, row), 201)


@routes.get("/v1/LinkShortening/Domains")
async def list_domains(request: web.Request) -> web.Response:
    requested = paging.read_page(request.query)
    page_size, page = requested.size, requested.number
    rows = await domains.list_domains(
        request.app[POOL], account_of(request), page_size + 1, page * page_size
    )
    url = f"{_base_url(request)}/v1/LinkShortening/Domains"
    return _json(
        {
            "domains": [_domain(request, row) for row in rows[:page_size]],
            "meta": _v1_page_meta(url, "domains", page, page_size, len(rows)),
        }
    )


@routes.get(DOMAIN)
async def fetch_domain(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    row = await domains.fetch_domain(request.app[POOL], account_of(request), sid)
    return _json(_domain(request, row))


@routes.delete(DOMAIN)
async def delete_domain(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    await domains.delete_domain(request.app[POOL], account_of(request), sid)
    return _no_content()


@routes.get(DOMAIN + "/ValidateDns")
async def validate_dns(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    pool = request.app[POOL]
    row = await domains.fetch_domain(pool, account_of(request), sid)
    result = await verification.validate_domain(
        pool, request.app[RESOLVER], request.app[ROUTING], row
    )
    return _json(verification.render_validation(result, _base_url(request)))


def _domain(request: web.Request, row: Any) -> dict[str, Any]:
    return domains.render_domain(row, _base_url(request), request.app[ROUTING])


@routes.post(DOMAIN + "/Certificate")
async def upload_certificate(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    tls_cert = (await _form(request)).get("TlsCert")
    if not isinstance(tls_cert, str) or not tls_cert.strip():
        raise ApiError(
            certificates.CERT_OR_KEY_MISSING, "Required parameter TlsCert missing."
        )
    cert = await certificates.store_certificate(
        request.app[POOL],
        request.app[KEYRING],
        account_of(request),
        sid,
        tls_cert,
        allow_self_signed=request.app[SETTINGS].allow_self_signed_certificates,
    )
    return _json(
        certificates.render_certificate(
            cert, _base_url(request), _expiry_window(request)
        )
    )


@routes.get(DOMAIN + "/Certificate")
async def fetch_certificate(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    cert = await certificates.fetch_certificate(
        request.app[POOL], account_of(request), sid
    )
    return _json(
        certificates.render_certificate(
            cert, _base_url(request), _expiry_window(request)
        )
    )


@routes.delete(DOMAIN + "/Certificate")
async def delete_certificate(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    await certificates.delete_certificate(request.app[POOL], account_of(request), sid)
    return _no_content()


@routes.post(DOMAIN + "/Config")
async def update_config(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    row = await domains.upsert_config(
        request.app[POOL], account_of(request), sid, await _form(request)
    )
    return _json(domains.render_config(row, _base_url(request)))


@routes.get(DOMAIN + "/Config")
async def fetch_config(request: web.Request) -> web.Response:
    sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    row = await domains.fetch_config(request.app[POOL], account_of(request), sid)
    return _json(domains.render_config(row, _base_url(request)))


@routes.post(DOMAIN + "/MessagingServices/{service_sid}")
async def associate_service(request: web.Request) -> web.Response:
    domain_sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    service_sid = _path_sid(request, "service_sid", sids.SERVICE)
    await domains.associate_service(
        request.app[POOL], account_of(request), domain_sid, service_sid
    )
    return _json(_association(request, domain_sid, service_sid), 201)


@routes.delete(DOMAIN + "/MessagingServices/{service_sid}")
async def dissociate_service(request: web.Request) -> web.Response:
    domain_sid = _path_sid(request, "domain_sid", sids.DOMAIN)
    service_sid = _path_sid(request, "service_sid", sids.SERVICE)
    await domains.dissociate_service(
        request.app[POOL], account_of(request), domain_sid, service_sid
    )
    return _no_content()


@routes.get("/v1/LinkShortening/MessagingService/{service_sid}/DomainConfig")
async def fetch_service_domain_config(request: web.Request) -> web.Response:
    service_sid = _path_sid(request, "service_sid", sids.SERVICE)
    row = await domains.service_domain(
        request.app[POOL], account_of(request), service_sid
    )
    base = _base_url(request)
    return _json(
        {
            "domain_sid": row["domain_sid"],
            "config_sid": row["config_sid"],
            "messaging_service_sid": service_sid,
            "fallback_url": row["fallback_url"],
            "callback_url": row["callback_url"],
            "continue_on_failure": row["continue_on_failure"],
            "date_created": iso8601(row["date_created"]),
            "date_updated": iso8601(row["date_updated"]),
            "url": f"{base}/v1/LinkShortening/MessagingService/{service_sid}"
            "/DomainConfig",
        }
    )


@routes.get("/v1/LinkShortening/MessagingServices/{service_sid}/Domain")
async def fetch_service_domain(request: web.Request) -> web.Response:
    service_sid = _path_sid(request, "service_sid", sids.SERVICE)
    row = await domains.service_domain(
        request.app[POOL], account_of(request), service_sid
    )
    base = _base_url(request)
    return _json(
        {
            "domain_sid": row["domain_sid"],
            "messaging_service_sid": service_sid,
            "url": f"{base}/v1/LinkShortening/MessagingServices/{service_sid}/Domain",
        }
    )


def _association(
    request: web.Request, domain_sid: str, service_sid: str
) -> dict[str, Any]:
    base = _base_url(request)
    return {
        "domain_sid": domain_sid,
        "messaging_service_sid": service_sid,
        "url": f"{base}/v1/LinkShortening/Domains/{domain_sid}"
        f"/MessagingServices/{service_sid}",
    }


def _expiry_window(request: web.Request) -> timedelta:
    return timedelta(days=request.app[SETTINGS].certificate_expiry_warning_days)


def _v1_page_meta(
    url: str, key: str, page: int, page_size: int, fetched: int
) -> dict[str, Any]:
    """The v1 ``meta`` envelope; more pages follow when ``fetched`` > a page."""
    sized = f"{url}?PageSize={page_size}"
    return {
        "page": page,
        "page_size": page_size,
        "first_page_url": f"{sized}&Page=0",
        "previous_page_url": f"{sized}&Page={page - 1}" if page else None,
        "next_page_url": f"{sized}&Page={page + 1}" if fetched > page_size else None,
        "url": f"{sized}&Page={page}",
        "key": key,
    }


def _single_page_meta(url: str, key: str, count: int) -> dict[str, Any]:
    """The v1 ``meta`` envelope of a list that fits on one page."""
    size = count or paging.DEFAULT_PAGE_SIZE
    return {
        "page": 0,
        "page_size": size,
        "first_page_url": f"{url}?PageSize={size}&Page=0",
        "previous_page_url": None,
        "next_page_url": None,
        "url": f"{url}?PageSize={size}&Page=0",
        "key": key,
    }
