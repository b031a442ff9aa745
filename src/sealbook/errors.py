"""Every failure Sealbook can report, with its Bitget code, in one place.

Each error carries the Bitget ``code`` and a ``msg`` that never contains a secret,
the HTTP status it is served with, and whether the caller may simply retry::

    SealbookError                              (base; code, msg, http_status, retryable)
    ├── AuthError                   HTTP 400   re-authenticate: fix the credentials or clock
    │   ├── MissingApiKey           40001  ACCESS_KEY cannot be empty
    │   ├── MissingSignature        40002  ACCESS_SIGN cannot be empty
    │   ├── InvalidTimestamp        40005  Invalid ACCESS_TIMESTAMP
    │   ├── MalformedApiKey         40006  Invalid ACCESS_KEY
    │   ├── TimestampExpired        40008  Request timestamp expired
    │   ├── ReplayedRequest         40008  (same code: a nonce problem; ccxt → InvalidNonce)
    │   ├── BadSignature            40009  sign signature error
    │   ├── MissingPassphrase       40011  ACCESS_PASSPHRASE cannot be empty
    │   ├── WrongPassphrase         40012  apikey/password is incorrect
    │   └── UnknownApiKey           40037  Apikey does not exist (also revoked/expired keys)
    ├── AccessDenied                HTTP 400   the key may not do this; a new key is needed
    │   ├── MissingPermission       40014  Incorrect permissions, need {perm} permissions
    │   ├── SecondFactorRequired    40016  The user must bind the phone or Google
    │   └── IpNotAllowed            40018  Invalid IP, current request ip {ip}
    ├── StepUpError                 HTTP 400   the second factor was refused
    │   ├── TotpInvalid             40049  Google verification code is incorrect
    │   ├── TotpReused              40049  (same code: a code is accepted at most once)
    │   └── StepUpLocked            40050  too many wrong codes; locked until {time}
    ├── RequestError                HTTP 400   fix the request; retrying it unchanged fails again
    │   ├── ParamError              40017  Parameter verification failed {detail}
    │   ├── ParamEmpty              40019  Parameter {name} cannot be empty
    │   ├── ParamInvalid            40020  Parameter {name} error
    │   ├── InvalidPassphraseFormat 40070  passphrase must be 8-32 letters and digits
    │   ├── KeyLimitReached         40071  at most {n} live API keys per user
    │   ├── Conflict                40072  {what} already exists
    │   ├── NotFound                40073  {what} does not exist
    │   ├── UnifiedAccountOnly      40084  You are in Classic Account mode, ...
    │   ├── RouteNotFound           40404  Request URL NOT FOUND  (HTTP 404)
    │   ├── TimeRangeTooLong        00001  startTime and endTime interval cannot be greater
    │   │                                  than {n} days
    │   │   ·· markets: the coin and symbol catalog (sealbook.markets) ··
    │   ├── UnknownCoin             40034  Parameter {coin} does not exist
    │   ├── PrecisionError          40808  Parameter verification exception {detail}
    │   └── UnknownSymbol           50004  The transaction pair is currently not supported ...
    ├── TradingError                HTTP 400   the order cannot be carried out as asked
    │   ├── OrderParamInvalid       40808  Parameter verification exception {detail}
    │   ├── OrderNotFound           43001  The order does not exist
    │   ├── OrderSizeTooSmall       43006  The order size is less than the minimum {min}
    │   ├── InsufficientBalance     43012  Insufficient balance
    │   ├── OrderValueTooSmall      43027  The minimum order value {min} is not met
    │   ├── DuplicateOrder          43118  Duplicate clientOid
    │   └── AmountTooSmall          45110  less than the minimum amount {min} USDT
    ├── RateLimited                 429    Too many requests      (HTTP 429, retryable)
    └── ServiceUnavailable          45001  temporarily unavailable (HTTP 503, retryable)

Codes 40049/40050 and 40070-40073 are Sealbook's own, chosen in Bitget's 400xx
parameter range where Bitget publishes nothing for the case; ccxt treats unknown codes
as ``ExchangeError``. ``UnknownSymbol`` uses 50004 because it is the Bitget code ccxt maps
to ``BadSymbol`` (Bitget's v2 endpoints answer an unknown symbol with 40034, which ccxt
leaves as ``ExchangeError``); ``PrecisionError`` (40808) is ccxt's ``InvalidOrder``;
``TimeRangeTooLong`` is Bitget's own 00001 for history queries, ccxt's ``BadRequest``.
Errors become the Bitget envelope in exactly one place:
:func:`sealbook.api.envelope.error_response`.

The trading codes are Bitget's own. ccxt 4.5.90 maps 43001 to ``OrderNotFound``, 43012
to ``InsufficientFunds`` and 40808/45110 to ``InvalidOrder``; 43006, 43027 and 43118 reach
it as ``ExchangeError``. The matching engine (:mod:`sealbook.engine`) raises only
:class:`OrderParamInvalid`, :class:`DuplicateOrder` and :class:`UnknownSymbol`; the other
trading errors belong to the services.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AmountTooSmall",
    "AuthError",
    "BadSignature",
    "Conflict",
    "DuplicateOrder",
    "InsufficientBalance",
    "InvalidPassphraseFormat",
    "InvalidTimestamp",
    "IpNotAllowed",
    "KeyLimitReached",
    "MalformedApiKey",
    "MissingApiKey",
    "MissingPassphrase",
    "MissingPermission",
    "MissingSignature",
    "NotFound",
    "OrderNotFound",
    "OrderParamInvalid",
    "OrderSizeTooSmall",
    "OrderValueTooSmall",
    "ParamEmpty",
    "ParamError",
    "ParamInvalid",
    "PrecisionError",
    "RateLimited",
    "ReplayedRequest",
    "RequestError",
    "RouteNotFound",
    "SealbookError",
    "SecondFactorRequired",
    "ServiceUnavailable",
    "StepUpError",
    "StepUpLocked",
    "TimeRangeTooLong",
    "TimestampExpired",
    "TotpInvalid",
    "TotpReused",
    "TradingError",
    "UnifiedAccountOnly",
    "UnknownApiKey",
    "UnknownCoin",
    "UnknownSymbol",
    "WrongPassphrase",
]


class SealbookError(Exception):
    """Base of every error Sealbook reports. ``msg`` is safe to show and to log."""

    code: str = "40000"
    default_msg: str = "Request failed"
    http_status: int = 400
    retryable: bool = False

    def __init__(self, msg: str | None = None) -> None:
        self.msg = msg if msg is not None else self.default_msg
        super().__init__(self.msg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, msg={self.msg!r})"


# --- authentication ------------------------------------------------------------------


class AuthError(SealbookError):
    """The request does not prove it comes from a live key."""


class MissingApiKey(AuthError):
    code = "40001"
    default_msg = "ACCESS_KEY cannot be empty"


class MissingSignature(AuthError):
    code = "40002"
    default_msg = "ACCESS_SIGN cannot be empty"


class InvalidTimestamp(AuthError):
    code = "40005"
    default_msg = "Invalid ACCESS_TIMESTAMP"


class MalformedApiKey(AuthError):
    code = "40006"
    default_msg = "Invalid ACCESS_KEY"


class TimestampExpired(AuthError):
    code = "40008"
    default_msg = "Request timestamp expired"


class ReplayedRequest(AuthError):
    code = "40008"
    default_msg = "Request replayed: this signature was already accepted"


class BadSignature(AuthError):
    code = "40009"
    default_msg = "sign signature error"


class MissingPassphrase(AuthError):
    code = "40011"
    default_msg = "ACCESS_PASSPHRASE cannot be empty"


class WrongPassphrase(AuthError):
    code = "40012"
    default_msg = "apikey/password is incorrect"


class UnknownApiKey(AuthError):
    code = "40037"
    default_msg = "Apikey does not exist"


# --- authorisation -------------------------------------------------------------------


class AccessDenied(SealbookError):
    """The caller is who they say, but may not do this."""


class MissingPermission(AccessDenied):
    code = "40014"

    def __init__(self, permission: str) -> None:
        super().__init__(f"Incorrect permissions, need {permission} permissions")


class SecondFactorRequired(AccessDenied):
    code = "40016"
    default_msg = "The user must bind the phone or Google"


class IpNotAllowed(AccessDenied):
    code = "40018"

    def __init__(self, ip: str) -> None:
        super().__init__(f"Invalid IP, current request ip {ip}")


# --- second factor -------------------------------------------------------------------


class StepUpError(SealbookError):
    """A TOTP code was required and refused."""


class TotpInvalid(StepUpError):
    code = "40049"
    default_msg = "Google verification code is incorrect"


class TotpReused(StepUpError):
    code = "40049"
    default_msg = "Google verification code was already used; wait for the next one"


class StepUpLocked(StepUpError):
    code = "40050"

    def __init__(self, until_iso: str) -> None:
        super().__init__(f"Too many wrong verification codes; step-up locked until {until_iso}")


# --- the request itself --------------------------------------------------------------


class RequestError(SealbookError):
    """The request is wrong; sending it again unchanged fails again."""


class ParamError(RequestError):
    code = "40017"

    def __init__(self, detail: str) -> None:
        super().__init__(f"Parameter verification failed {detail}")


class ParamEmpty(RequestError):
    code = "40019"

    def __init__(self, name: str) -> None:
        super().__init__(f"Parameter {name} cannot be empty")


class ParamInvalid(RequestError):
    code = "40020"

    def __init__(self, name: str, why: str = "") -> None:
        super().__init__(f"Parameter {name} error" + (f": {why}" if why else ""))


class InvalidPassphraseFormat(RequestError):
    code = "40070"
    default_msg = "The passphrase must be 8-32 letters and digits"


class KeyLimitReached(RequestError):
    code = "40071"

    def __init__(self, limit: int) -> None:
        super().__init__(f"At most {limit} live API keys per user")


class Conflict(RequestError):
    code = "40072"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} already exists")


class NotFound(RequestError):
    code = "40073"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} does not exist")


class UnifiedAccountOnly(RequestError):
    code = "40084"
    default_msg = (
        "You are in Classic Account mode, and the Unified Account API is not supported at this time"
    )


class RouteNotFound(RequestError):
    code = "40404"
    default_msg = "Request URL NOT FOUND"
    http_status = 404


class TimeRangeTooLong(RequestError):
    """A history query whose ``startTime``..``endTime`` spans more than Bitget allows."""

    code = "00001"

    def __init__(self, days: int) -> None:
        super().__init__(f"startTime and endTime interval cannot be greater than {days} days")


# --- trading -------------------------------------------------------------------------


class TradingError(SealbookError):
    """The order cannot be carried out as asked: fix the order (or fund the account)."""


class OrderParamInvalid(TradingError):
    code = "40808"

    def __init__(self, detail: str) -> None:
        super().__init__(f"Parameter verification exception {detail}")


class OrderNotFound(TradingError):
    code = "43001"
    default_msg = "The order does not exist"


class OrderSizeTooSmall(TradingError):
    code = "43006"

    def __init__(self, minimum: str) -> None:
        super().__init__(f"The order size is less than the minimum {minimum}")


class InsufficientBalance(TradingError):
    code = "43012"
    default_msg = "Insufficient balance"


class OrderValueTooSmall(TradingError):
    code = "43027"

    def __init__(self, minimum: str) -> None:
        super().__init__(f"The minimum order value {minimum} is not met")


class DuplicateOrder(TradingError):
    """A clientOid (or an engine order id) that is already in use."""

    code = "43118"
    default_msg = "Duplicate clientOid"


class AmountTooSmall(TradingError):
    code = "45110"

    def __init__(self, minimum: str) -> None:
        super().__init__(f"less than the minimum amount {minimum} USDT")


# --- markets ---------------------------------------------------------------------------


def _shown(text: str) -> str:
    """A client-supplied name, safe to echo in a message: printable ASCII, at most 40 chars."""
    if isinstance(text, str) and len(text) <= 40 and text.isascii() and text.isprintable():
        return text
    return "(invalid)"


class UnknownCoin(RequestError):
    code = "40034"

    def __init__(self, coin: str) -> None:
        super().__init__(f"Parameter {_shown(coin)} does not exist")


class PrecisionError(RequestError):
    """A price or size that is not a plain decimal within the symbol's precision."""

    code = "40808"

    def __init__(self, detail: str) -> None:
        super().__init__(f"Parameter verification exception {detail}")


class UnknownSymbol(RequestError):
    code = "50004"

    def __init__(self, symbol: str) -> None:
        super().__init__(
            "The transaction pair is currently not supported or has been suspended: "
            + _shown(symbol)
        )


# --- try again later -----------------------------------------------------------------


class RateLimited(SealbookError):
    code = "429"
    default_msg = "Too many requests"
    http_status = 429
    retryable = True

    def __init__(self, retry_after_s: float, remaining: int = 0) -> None:
        super().__init__()
        self.retry_after_s = retry_after_s
        self.remaining = remaining


class ServiceUnavailable(SealbookError):
    code = "45001"
    default_msg = "Service temporarily unavailable, try again"
    http_status = 503
    retryable = True
