"""Turn one cell of a CSV file into a value Accord stores, or say clearly why it cannot.

Pure functions without database access: they run in the reader thread, and each raises
ValueError with a message written for the person who will fix the file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from accord.capture.freemail import is_free_mail

# Deliberately simpler than RFC 5322: it accepts what mail systems deliver to and refuses
# the typos real exports contain (spaces, two @, missing dot in the domain, trailing dot).
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}"
)


def parse_email(raw: str) -> str:
    """Return the address stripped and lower-cased."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValueError(f"{raw!r} is not a valid email address")
    return email


def email_domain(email: str) -> str | None:
    """Return the company domain of an address, or None for free-mail providers."""
    domain = email.rpartition("@")[2]
    return None if is_free_mail(domain) else domain


_URL_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?", re.IGNORECASE)
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")


def parse_domain(raw: str) -> str | None:
    """Return the bare domain of a website or domain cell; None when it is a free-mail domain."""
    domain = _URL_PREFIX.sub("", raw.strip().lower()).split("/", 1)[0].split(":", 1)[0].rstrip(".")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"{raw!r} is not a website or domain")
    return None if is_free_mail(domain) else domain


# --- dates ---------------------------------------------------------------------------------

ACCEPTED_DATE_FORMATS = (
    "YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], ISO 8601 with T, fraction and Z or ±HH:MM "
    "(HubSpot, Salesforce API), M/D/YYYY [H:MM[:SS] [AM|PM]] (US, Salesforce reports), "
    "D.M.YYYY [HH:MM[:SS]]"
)
_US = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def parse_datetime(raw: str, tz: dt.tzinfo) -> dt.datetime:
    """Return an aware datetime; values without an offset are read in `tz`."""
    text = raw.strip()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = _parse_regional(text)
        if value is None:
            raise ValueError(
                f"{raw!r} is not a date Accord can read; accepted: {ACCEPTED_DATE_FORMATS}"
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value


def _parse_regional(text: str) -> dt.datetime | None:
    try:
        if match := _US.fullmatch(text):
            month, day, year, hour, minute, second, half = match.groups()
            hour_value = int(hour or 0)
            if half:
                if not 1 <= hour_value <= 12:
                    return None
                hour_value = hour_value % 12 + (12 if half.lower() == "pm" else 0)
            return dt.datetime(
                _year(year), int(month), int(day), hour_value, int(minute or 0), int(second or 0)
            )
        if match := _DOTTED.fullmatch(text):
            day, month, year, hour, minute, second = match.groups()
            return dt.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
    except ValueError:
        return None
    return None


def parse_date(raw: str, tz: dt.tzinfo) -> dt.date:
    """Return the calendar date of a date or date-time cell, as seen in `tz`."""
    return parse_datetime(raw, tz).astimezone(tz).date()


# --- numbers -------------------------------------------------------------------------------

_MONEY_NOISE = re.compile(r"[\s\u00a0\u202f$€£¥'’]|(?:USD|EUR|GBP|CHF)$|^(?:USD|EUR|GBP|CHF)", re.IGNORECASE)


def parse_amount(raw: str) -> Decimal:
    """Return a non-negative amount with two decimals.

    Both "1,234.50" and "1.234,50" read as 1234.50; a lone comma followed by exactly three
    digits is a thousands separator ("1,234" is 1234), otherwise a decimal comma ("12,5").
    """
    text = _MONEY_NOISE.sub("", raw)
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = text.replace(",", "") if len(tail) == 3 and head.count(",") == 0 else text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not a number")
    if value < 0:
        raise ValueError(f"{raw!r} is negative; amounts must be 0 or more")
    if value >= Decimal("1e12"):
        raise ValueError(f"{raw!r} is too large (at most 999,999,999,999.99)")
    return value.quantize(Decimal("0.01"))


def parse_count(raw: str) -> int:
    """Return a whole, non-negative number such as impressions or clicks ("12,345" is 12345)."""
    text = raw.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        if text.startswith("-") and text[1:].isdigit():
            raise ValueError(f"{raw!r} is negative; counts must be 0 or more")
        raise ValueError(f"{raw!r} is not a whole number")
    return int(text)


def parse_probability(raw: str) -> Decimal:
    """Return a probability in 0–1 from "0.4", "40" or "40%"."""
    text = raw.strip().rstrip("%").strip()
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a probability") from None
    if value > 1 or raw.strip().endswith("%"):
        value = value / 100
    if not 0 <= value <= 1:
        raise ValueError(f"{raw!r} is not a probability between 0 and 100%")
    return value.quantize(Decimal("0.001"))


# --- words ---------------------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^a-z0-9+]")


def word_key(raw: str) -> str:
    """Reduce a vocabulary value to its letters and digits, so that "Marketing Qualified Lead",
    "marketingqualifiedlead" and "MARKETING_QUALIFIED_LEAD" compare equal."""
    return _NOT_ALNUM.sub("", raw.lower())


# --- parser helpers ----------------------------------------------------------------------

Parser = Callable[[str], Any]


def cached(parse: Parser, limit: int = 50_000) -> Parser:
    """Memoise a parser of repetitive cells (stages, owners, countries), errors included.

    The engine reads `memo` and `inner` to parse a whole column at once: each distinct
    cell once, then one dictionary look-up per row.
    """
    memo: dict[str, Any] = {}

    def parse_cached(raw: str) -> Any:
        try:
            value = memo[raw]
        except KeyError:
            try:
                value = parse(raw)
            except ValueError as error:
                value = error
            if len(memo) < limit:
                memo[raw] = value
        if isinstance(value, ValueError):
            raise value
        return value

    parse_cached.memo = memo  # type: ignore[attr-defined]
    parse_cached.inner = parse  # type: ignore[attr-defined]
    parse_cached.limit = limit  # type: ignore[attr-defined]
    return parse_cached


def text(limit: int) -> Parser:
    """Parse a free-text cell of at most `limit` characters (the engine checks a column's
    lengths at once through `max_length`)."""

    def parse(raw: str) -> str:
        if len(raw) > limit:
            raise ValueError(too_long(raw, limit))
        return raw

    parse.max_length = limit  # type: ignore[attr-defined]
    return parse


def too_long(raw: str, limit: int) -> str:
    return f"is {len(raw)} characters long; at most {limit} fit"


def vocabulary(table: dict[str, Any], what: str, accepted: str) -> Parser:
    """Parse a vocabulary cell through `table` (keys from `word_key`), naming what is accepted."""

    def parse(raw: str) -> Any:
        try:
            return table[word_key(raw)]
        except KeyError:
            raise ValueError(f"unknown {what} {raw!r}; accepted: {accepted}") from None

    return cached(parse)
