"""Reading Twilio-style form parameters: PascalCase keys, string booleans."""

from __future__ import annotations

from urllib.parse import urlsplit

from multidict import MultiDictProxy

from libs.common.errors import InvalidParameterError
from libs.common.sids import is_sid

Form = MultiDictProxy[str]

# Twilio's code for a parameter whose value it cannot use.
GENERIC_INVALID = 20001

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def text(form: Form, name: str) -> str | None:
    """The parameter's value, or ``None`` when absent."""
    value = form.get(name)
    return value if isinstance(value, str) else None


def required(form: Form, name: str, code: int) -> str:
    """The parameter's non-empty value, or error ``code`` naming it."""
    value = text(form, name)
    if not value:
        raise InvalidParameterError(code, f"Required parameter {name} missing.")
    return value


def boolean(
    form: Form, name: str, default: bool | None = None, code: int = GENERIC_INVALID
) -> bool | None:
    """``true``/``false`` (any case; also 1/0) as a bool."""
    value = text(form, name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidParameterError(code, f"{name} must be true or false.")


def integer(form: Form, name: str, code: int) -> int | None:
    value = text(form, name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidParameterError(code, f"{name} must be an integer.") from None


def sid(form: Form, name: str, prefix: str, code: int) -> str | None:
    """A SID parameter of the given kind, checked for shape."""
    value = text(form, name)
    if value is None or value == "":
        return None
    if not is_sid(value, prefix):
        raise InvalidParameterError(
            code, f"{name} {value!r} is not a valid {prefix} SID."
        )
    return value


def url(form: Form, name: str, code: int) -> str | None:
    """An absolute http(s) URL whose host has no underscore, as Twilio requires."""
    value = text(form, name)
    if value is None or value == "":
        return None
    if not is_web_url(value):
        raise InvalidParameterError(code, f"{name} {value!r} is not a valid URL.")
    return value


def is_web_url(value: str) -> bool:
    """Tell whether ``value`` is an absolute http or https URL with a host."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and "_" not in (host or "")
