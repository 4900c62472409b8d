"""Pigeon's one error tree.

Every failure a service can act on is a ``PigeonError``.  ``RetryableError``
means the same work may succeed later (a database or broker is unreachable);
``PermanentError`` means it never will.  ``ApiError`` carries Twilio's error
shape (``code``, ``message``, ``more_info``, ``status``) to the HTTP boundary.
"""

from __future__ import annotations

from typing import Any

MORE_INFO_BASE = "https://www.twilio.com/docs/errors/"


class PigeonError(Exception):
    """Base of every error Pigeon raises on purpose."""


class RetryableError(PigeonError):
    """The operation failed for a passing reason and may be tried again."""


class PermanentError(PigeonError):
    """The operation can never succeed as it stands."""


class ConfigurationError(PermanentError):
    """The operator's configuration is missing or malformed."""


class ApiError(PermanentError):
    """A request was refused; rendered as Twilio's JSON error body."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, Any]:
        """The JSON body Twilio's SDKs turn into ``TwilioRestException``."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"{MORE_INFO_BASE}{self.code}",
            "status": self.status,
        }


class NotFoundError(ApiError):
    """The resource does not exist, or belongs to another account (20404)."""

    def __init__(self, what: str) -> None:
        super().__init__(20404, f"The requested resource {what} was not found", 404)


class UnauthorizedError(ApiError):
    """Credentials are missing or wrong (20003)."""

    def __init__(self) -> None:
        super().__init__(20003, "Authentication Error - invalid username", 401)


class InvalidParameterError(ApiError):
    """A request parameter is missing or malformed."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message, 400)
