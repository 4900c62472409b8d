"""Signatures on outgoing webhooks, checked with Twilio's own validator."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlencode

from twilio.request_validator import RequestValidator

from services.callbacks.deliveries import Delivery
from services.callbacks.payloads import FORM_CONTENT_TYPE, JSON_CONTENT_TYPE
from services.callbacks.sender import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    USER_AGENT,
    sign_request,
)

TOKEN = "12345"
JSON_BODY = b'{"property": "value", "boolean": true}'
FORM_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
FORM_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


def delivery(url: str, content_type: str, body: bytes) -> Delivery:
    return Delivery(
        id=1,
        event_id=uuid.UUID("0b7e0a8c-2f43-4a8e-9d0c-5f1c3a7b9e21"),
        account_sid="AC" + "0" * 32,
        kind="status",
        url=url,
        content_type=content_type,
        body=body,
        attempts=1,
    )


def test_form_signature_matches_twilio_test_vector() -> None:
    """A form webhook is signed exactly as Twilio's published vector."""
    request = sign_request(
        delivery(FORM_URL, FORM_CONTENT_TYPE, urlencode(FORM_PARAMS).encode()), TOKEN
    )

    assert request.url == FORM_URL
    assert request.headers[SIGNATURE_HEADER] == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_form_signature_validates_with_request_validator() -> None:
    """Twilio's RequestValidator accepts the form signature and rejects tampering."""
    body = urlencode({**FORM_PARAMS, "Note": "a & b = c"}).encode()
    request = sign_request(delivery(FORM_URL, FORM_CONTENT_TYPE, body), TOKEN)
    params = dict(parse_qsl(body.decode()))
    validator = RequestValidator(TOKEN)

    assert validator.validate(request.url, params, request.headers[SIGNATURE_HEADER])
    assert not validator.validate(
        request.url, {**params, "Digits": "9"}, request.headers[SIGNATURE_HEADER]
    )


def test_json_signature_validates_with_request_validator() -> None:
    """The JSON URL carries bodySHA256 and Twilio's validator accepts it."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    request = sign_request(delivery(url, JSON_CONTENT_TYPE, JSON_BODY), TOKEN)
    validator = RequestValidator(TOKEN)
    signature = request.headers[SIGNATURE_HEADER]

    assert request.url.startswith(url + "&bodySHA256=")
    assert signature == "a9nBmqA0ju/hNViExpshrM61xv4="
    assert validator.validate(request.url, JSON_BODY.decode(), signature)
    assert not validator.validate(request.url, '{"property": "other"}', signature)


def test_signature_depends_on_the_token() -> None:
    """Another account's token does not validate the signature."""
    request = sign_request(delivery(FORM_URL, JSON_CONTENT_TYPE, JSON_BODY), TOKEN)

    assert not RequestValidator("54321").validate(
        request.url, JSON_BODY.decode(), request.headers[SIGNATURE_HEADER]
    )


def test_headers_carry_idempotency_token_and_user_agent() -> None:
    """The event id is the idempotency token; the agent names Pigeon."""
    sent = delivery(FORM_URL, JSON_CONTENT_TYPE, JSON_BODY)

    headers = sign_request(sent, TOKEN).headers

    assert headers[IDEMPOTENCY_HEADER] == str(sent.event_id)
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    assert USER_AGENT.startswith("Pigeon-Webhooks/")
    assert headers["User-Agent"] == USER_AGENT
