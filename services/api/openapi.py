"""The API's OpenAPI 3.1 description, served at ``/openapi.json``.

Paths and methods here must match the routes in ``routes.py`` one for one; a
test holds them in step.  Schemas describe what the render functions produce.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

ERROR_CODES_DOC = "https://www.twilio.com/docs/errors/{code}"

ACCOUNT = {"name": "account_sid", "pattern": "^AC[0-9a-fA-F]{32}$"}
MESSAGE_SID = {"name": "sid", "pattern": "^(SM|MM)[0-9a-fA-F]{32}$"}
KEY_SID = {"name": "sid", "pattern": "^SK[0-9a-fA-F]{32}$"}
NUMBER_SID = {"name": "sid", "pattern": "^PN[0-9a-fA-F]{32}$"}
SERVICE_SID = {"name": "sid", "pattern": "^MG[0-9a-fA-F]{32}$"}
SERVICE_SID_AS = {"name": "service_sid", "pattern": "^MG[0-9a-fA-F]{32}$"}
NUMBER_SID_AS = {"name": "number_sid", "pattern": "^PN[0-9a-fA-F]{32}$"}
DOMAIN_SID = {"name": "domain_sid", "pattern": "^DN[0-9a-fA-F]{32}$"}


def _string(nullable: bool = False) -> JSON:
    return {"type": ["string", "null"]} if nullable else {"type": "string"}


def _boolean(nullable: bool = False) -> JSON:
    return {"type": ["boolean", "null"]} if nullable else {"type": "boolean"}


def _object(properties: dict[str, JSON], required: list[str] | None = None) -> JSON:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _page_2010(key: str, item: str) -> JSON:
    return _object(
        {
            key: {"type": "array", "items": _ref(item)},
            "first_page_uri": _string(),
            "next_page_uri": _string(nullable=True),
            "previous_page_uri": _string(nullable=True),
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
            "start": {"type": "integer"},
            "end": {"type": "integer"},
            "uri": _string(),
        }
    )


def _page_v1(key: str, item: str) -> JSON:
    meta = _object(
        {
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
            "first_page_url": _string(),
            "previous_page_url": _string(nullable=True),
            "next_page_url": _string(nullable=True),
            "url": _string(),
            "key": {"const": key},
        }
    )
    return _object({key: {"type": "array", "items": _ref(item)}, "meta": meta})


MESSAGE_STATUSES = [
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "accepted",
    "scheduled",
    "read",
    "partially_delivered",
    "canceled",
]

SCHEMAS: dict[str, JSON] = {
    "Error": _object(
        {
            "code": {"type": "integer"},
            "message": _string(),
            "more_info": _string(),
            "status": {"type": "integer"},
        }
    ),
    "Message": _object(
        {
            "account_sid": _string(),
            "api_version": {"const": "2010-04-01"},
            "body": _string(),
            "date_created": _string(),
            "date_sent": _string(nullable=True),
            "date_updated": _string(),
            "direction": _string(),
            "error_code": {"type": ["integer", "null"]},
            "error_message": _string(nullable=True),
            "from": _string(nullable=True),
            "messaging_service_sid": _string(nullable=True),
            "num_media": _string(),
            "num_segments": _string(),
            "price": _string(nullable=True),
            "price_unit": _string(),
            "sid": _string(),
            "status": {"enum": MESSAGE_STATUSES},
            "subresource_uris": {"type": "object"},
            "to": _string(),
            "uri": _string(),
        }
    ),
    "MessagePage": _page_2010("messages", "Message"),
    "Key": _object(
        {
            "sid": _string(),
            "friendly_name": _string(),
            "date_created": _string(),
            "date_updated": _string(),
        }
    ),
    "NewKey": _object(
        {
            "sid": _string(),
            "friendly_name": _string(),
            "date_created": _string(),
            "date_updated": _string(),
            "secret": _string(),
        }
    ),
    "KeyPage": _page_2010("keys", "Key"),
    "IncomingPhoneNumber": _object(
        {
            "sid": _string(),
            "account_sid": _string(),
            "friendly_name": _string(),
            "phone_number": _string(),
            "capabilities": {"type": "object"},
            "date_created": _string(),
            "date_updated": _string(),
            "status": _string(),
            "uri": _string(),
        }
    ),
    "IncomingPhoneNumberPage": _page_2010(
        "incoming_phone_numbers", "IncomingPhoneNumber"
    ),
    "Service": _object(
        {
            "sid": _string(),
            "account_sid": _string(),
            "friendly_name": _string(),
            "date_created": _string(),
            "date_updated": _string(),
            "status_callback": _string(nullable=True),
            "validity_period": {"type": ["integer", "null"]},
            "usecase": _string(nullable=True),
            "url": _string(),
            "links": {"type": "object"},
        }
    ),
    "ServicePage": _page_v1("services", "Service"),
    "DomainPage": _page_v1("domains", "Domain"),
    "ServicePhoneNumber": _object(
        {
            "sid": _string(),
            "account_sid": _string(),
            "service_sid": _string(),
            "phone_number": _string(),
            "country_code": _string(nullable=True),
            "capabilities": {"type": "array", "items": _string()},
            "date_created": _string(nullable=True),
            "date_updated": _string(nullable=True),
            "url": _string(),
        }
    ),
    "ServicePhoneNumberPage": _page_v1("phone_numbers", "ServicePhoneNumber"),
    "Domain": _object(
        {
            "sid": _string(),
            "account_sid": _string(),
            "domain_name": _string(),
            "verified": _boolean(),
            "date_verified": _string(nullable=True),
            "attested": _boolean(),
            "dns_records": {"type": "array", "items": _ref("DnsRecord")},
            "date_checked": _string(nullable=True),
            "verification_reason": _string(),
            "routing_valid": _boolean(nullable=True),
            "routing_reason": _string(),
            "date_created": _string(),
            "date_updated": _string(),
            "url": _string(),
        }
    ),
    "DnsRecord": _object(
        {
            "type": {"enum": ["TXT", "CNAME", "A", "AAAA"]},
            "name": _string(),
            "value": _string(),
            "purpose": {"enum": ["ownership", "routing"]},
        }
    ),
    "DomainDnsValidation": _object(
        {
            "domain_sid": _string(),
            "is_valid": _boolean(),
            "reason": _string(),
            "url": _string(),
            "domain_name": _string(),
            "verified": _boolean(),
            "date_verified": _string(nullable=True),
            "routing": _object(
                {"is_valid": _boolean(nullable=True), "reason": _string()}
            ),
        }
    ),
    "DomainCert": _object(
        {
            "certificate_sid": _string(),
            "domain_sid": _string(),
            "domain_name": _string(),
            "date_expires": _string(),
            "date_created": _string(),
            "date_updated": _string(),
            "cert_in_validation": {"type": ["object", "null"]},
            "expiry_status": {"enum": ["valid", "expiring", "expired"]},
            "warnings": {"type": "array", "items": {"type": "object"}},
            "url": _string(),
        }
    ),
    "DomainConfig": _object(
        {
            "domain_sid": _string(),
            "config_sid": _string(),
            "fallback_url": _string(nullable=True),
            "callback_url": _string(nullable=True),
            "continue_on_failure": _boolean(nullable=True),
            "disable_https": _boolean(nullable=True),
            "date_created": _string(),
            "date_updated": _string(),
            "url": _string(),
        }
    ),
    "DomainConfigMessagingService": _object(
        {
            "domain_sid": _string(),
            "config_sid": _string(nullable=True),
            "messaging_service_sid": _string(),
            "fallback_url": _string(nullable=True),
            "callback_url": _string(nullable=True),
            "continue_on_failure": _boolean(nullable=True),
            "date_created": _string(nullable=True),
            "date_updated": _string(nullable=True),
            "url": _string(),
        }
    ),
    "ServiceDomainAssociation": _object(
        {
            "domain_sid": _string(),
            "messaging_service_sid": _string(),
            "url": _string(),
        }
    ),
}


def _form(properties: dict[str, JSON], required: list[str] | None = None) -> JSON:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": _object(properties, required or [])
            }
        },
    }


def _operation(
    operation_id: str,
    status: int,
    schema: str | None,
    params: list[JSON],
    *,
    form: JSON | None = None,
    query: list[str] | None = None,
) -> JSON:
    ok: JSON = {"description": "Success"}
    if schema is not None:
        ok["content"] = {"application/json": {"schema": _ref(schema)}}
    operation: JSON = {
        "operationId": operation_id,
        "parameters": [
            {
                "name": p["name"],
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": p["pattern"]},
            }
            for p in params
        ]
        + [
            {"name": name, "in": "query", "required": False, "schema": _string()}
            for name in query or []
        ],
        "responses": {
            str(status): ok,
            "default": {
                "description": "Twilio's error body",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
        },
    }
    if form is not None:
        operation["requestBody"] = form
    return operation


TEXT = _string()
BOOL = {"type": "string", "enum": ["true", "false"]}

# Twilio's parameters that Pigeon accepts and does not act on: listed so that
# generated clients send them, as the official SDKs do.
ACCEPTED_AND_IGNORED = (
    "ApplicationSid",
    "MaxPrice",
    "ProvideFeedback",
    "Attempt",
    "ForceDelivery",
    "ContentRetention",
    "AddressRetention",
    "SmartEncoded",
    "PersistentAction",
    "TrafficType",
    "SendAsMms",
    "RiskCheck",
    "FallbackFrom",
    "MessageIntent",
)
MESSAGE_FORM = _form(
    {
        "To": TEXT,
        "From": TEXT,
        "MessagingServiceSid": TEXT,
        "Body": TEXT,
        "MediaUrl": TEXT,
        "ContentSid": TEXT,
        "ContentVariables": TEXT,
        "StatusCallback": TEXT,
        "ValidityPeriod": TEXT,
        "ShortenUrls": BOOL,
        "ScheduleType": TEXT,
        "SendAt": TEXT,
        **dict.fromkeys(ACCEPTED_AND_IGNORED, TEXT),
    },
    ["To"],
)
SERVICE_FIELDS = {
    "FriendlyName": TEXT,
    "StatusCallback": TEXT,
    "InboundRequestUrl": TEXT,
    "InboundMethod": TEXT,
    "FallbackUrl": TEXT,
    "FallbackMethod": TEXT,
    "StickySender": BOOL,
    "ValidityPeriod": TEXT,
    "Usecase": TEXT,
}
MSG = "/2010-04-01/Accounts/{account_sid}/Messages"
KEYS = "/2010-04-01/Accounts/{account_sid}/Keys"
NUMBERS = "/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers"
DOMAIN = "/v1/LinkShortening/Domains/{domain_sid}"

PATHS: dict[str, dict[str, JSON]] = {
    MSG + ".json": {
        "post": _operation(
            "CreateMessage", 201, "Message", [ACCOUNT], form=MESSAGE_FORM
        ),
        "get": _operation(
            "ListMessage",
            200,
            "MessagePage",
            [ACCOUNT],
            query=[
                "To",
                "From",
                "DateSent",
                "DateSent<",
                "DateSent>",
                "PageSize",
                "Page",
                "PageToken",
            ],
        ),
    },
    MSG + "/{sid}.json": {
        "get": _operation("FetchMessage", 200, "Message", [ACCOUNT, MESSAGE_SID]),
        "post": _operation(
            "UpdateMessage",
            200,
            "Message",
            [ACCOUNT, MESSAGE_SID],
            form=_form({"Body": TEXT, "Status": TEXT}),
        ),
        "delete": _operation("DeleteMessage", 204, None, [ACCOUNT, MESSAGE_SID]),
    },
    KEYS + ".json": {
        "post": _operation(
            "CreateNewKey", 201, "NewKey", [ACCOUNT], form=_form({"FriendlyName": TEXT})
        ),
        "get": _operation(
            "ListKey",
            200,
            "KeyPage",
            [ACCOUNT],
            query=["PageSize", "Page", "PageToken"],
        ),
    },
    KEYS + "/{sid}.json": {
        "get": _operation("FetchKey", 200, "Key", [ACCOUNT, KEY_SID]),
        "post": _operation(
            "UpdateKey",
            200,
            "Key",
            [ACCOUNT, KEY_SID],
            form=_form({"FriendlyName": TEXT}),
        ),
        "delete": _operation("DeleteKey", 204, None, [ACCOUNT, KEY_SID]),
    },
    NUMBERS + ".json": {
        "get": _operation(
            "ListIncomingPhoneNumber",
            200,
            "IncomingPhoneNumberPage",
            [ACCOUNT],
            query=["PageSize", "Page", "PageToken"],
        ),
    },
    NUMBERS + "/{sid}.json": {
        "get": _operation(
            "FetchIncomingPhoneNumber",
            200,
            "IncomingPhoneNumber",
            [ACCOUNT, NUMBER_SID],
        ),
        "post": _operation(
            "UpdateIncomingPhoneNumber",
            200,
            "IncomingPhoneNumber",
            [ACCOUNT, NUMBER_SID],
            form=_form({"FriendlyName": TEXT}),
        ),
        "delete": _operation(
            "DeleteIncomingPhoneNumber", 204, None, [ACCOUNT, NUMBER_SID]
        ),
    },
    "/v1/Services": {
        "post": _operation(
            "CreateService",
            201,
            "Service",
            [],
            form=_form(SERVICE_FIELDS, ["FriendlyName"]),
        ),
        "get": _operation(
            "ListService", 200, "ServicePage", [], query=["PageSize", "Page"]
        ),
    },
    "/v1/Services/{sid}": {
        "get": _operation("FetchService", 200, "Service", [SERVICE_SID]),
        "post": _operation(
            "UpdateService", 200, "Service", [SERVICE_SID], form=_form(SERVICE_FIELDS)
        ),
        "delete": _operation("DeleteService", 204, None, [SERVICE_SID]),
    },
    "/v1/Services/{sid}/PhoneNumbers": {
        "post": _operation(
            "CreatePhoneNumber",
            201,
            "ServicePhoneNumber",
            [SERVICE_SID],
            form=_form({"PhoneNumberSid": TEXT}, ["PhoneNumberSid"]),
        ),
        "get": _operation(
            "ListPhoneNumber", 200, "ServicePhoneNumberPage", [SERVICE_SID]
        ),
    },
    "/v1/Services/{sid}/PhoneNumbers/{number_sid}": {
        "get": _operation(
            "FetchPhoneNumber", 200, "ServicePhoneNumber", [SERVICE_SID, NUMBER_SID_AS]
        ),
        "delete": _operation(
            "DeletePhoneNumber", 204, None, [SERVICE_SID, NUMBER_SID_AS]
        ),
    },
    "/v1/LinkShortening/Domains": {
        "post": _operation(
            "CreateDomain",
            201,
            "Domain",
            [],
            form=_form({"DomainName": TEXT}, ["DomainName"]),
        ),
        "get": _operation(
            "ListDomain", 200, "DomainPage", [], query=["PageSize", "Page"]
        ),
    },
    DOMAIN: {
        "get": _operation("FetchDomain", 200, "Domain", [DOMAIN_SID]),
        "delete": _operation("DeleteDomain", 204, None, [DOMAIN_SID]),
    },
    DOMAIN + "/ValidateDns": {
        "get": _operation(
            "FetchDomainDnsValidation", 200, "DomainDnsValidation", [DOMAIN_SID]
        ),
    },
    DOMAIN + "/Certificate": {
        "post": _operation(
            "UpdateDomainCertV4",
            200,
            "DomainCert",
            [DOMAIN_SID],
            form=_form({"TlsCert": TEXT}, ["TlsCert"]),
        ),
        "get": _operation("FetchDomainCertV4", 200, "DomainCert", [DOMAIN_SID]),
        "delete": _operation("DeleteDomainCertV4", 204, None, [DOMAIN_SID]),
    },
    DOMAIN + "/Config": {
        "post": _operation(
            "UpdateDomainConfig",
            200,
            "DomainConfig",
            [DOMAIN_SID],
            form=_form(
                {
                    "FallbackUrl": TEXT,
                    "CallbackUrl": TEXT,
                    "ContinueOnFailure": BOOL,
                    "DisableHttps": BOOL,
                }
            ),
        ),
        "get": _operation("FetchDomainConfig", 200, "DomainConfig", [DOMAIN_SID]),
    },
    DOMAIN + "/MessagingServices/{service_sid}": {
        "post": _operation(
            "CreateLinkshorteningMessagingService",
            201,
            "ServiceDomainAssociation",
            [DOMAIN_SID, SERVICE_SID_AS],
        ),
        "delete": _operation(
            "DeleteLinkshorteningMessagingService",
            204,
            None,
            [DOMAIN_SID, SERVICE_SID_AS],
        ),
    },
    "/v1/LinkShortening/MessagingService/{service_sid}/DomainConfig": {
        "get": _operation(
            "FetchDomainConfigMessagingService",
            200,
            "DomainConfigMessagingService",
            [SERVICE_SID_AS],
        ),
    },
    "/v1/LinkShortening/MessagingServices/{service_sid}/Domain": {
        "get": _operation(
            "FetchLinkshorteningMessagingServiceDomainAssociation",
            200,
            "ServiceDomainAssociation",
            [SERVICE_SID_AS],
        ),
    },
}


def openapi_document(server_url: str) -> JSON:
    """The whole OpenAPI 3.1 document, with ``server_url`` as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Pigeon",
            "version": "1.0.0",
            "description": (
                "Scheduled messaging, branded short links and click tracking,"
                " wire-compatible with Twilio's REST API. Errors carry Twilio's"
                " codes, documented at " + ERROR_CODES_DOC + "."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"basicAuth": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
        },
    }
