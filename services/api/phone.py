"""Phone numbers: parsed with libphonenumber and written in E.164."""

from __future__ import annotations

import phonenumbers

from libs.common.errors import InvalidParameterError

# Numbers without a country code are read as North American, as Twilio does.
DEFAULT_REGION = "US"


def to_e164(value: str, code: int, name: str = "To") -> str:
    """Normalise ``value`` to E.164 or raise error ``code``."""
    e164 = e164_or_none(value)
    if e164 is None:
        raise InvalidParameterError(
            code, f"The '{name}' number {value} is not a valid phone number."
        )
    return e164


def e164_or_none(value: str) -> str | None:
    """``value`` in E.164, or ``None`` when it is not a possible phone number."""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_code(e164: str) -> str | None:
    """The ISO 3166 region of an E.164 number, when libphonenumber knows it."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    return region if region and region != "ZZ" else None
