"""Pure rules for notifications: who gets what where by default, retry timing, webhook signatures.

No database and no network here, so the rules are tested as plain functions.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

# A delivery that has not succeeded this long after its first attempt goes to the dead letters.
RETRY_WINDOW = timedelta(days=3)
RETRY_BASE = timedelta(seconds=10)
RETRY_CAP = timedelta(hours=6)
RESPONSE_EXCERPT = 500


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SLACK = "slack"


class Mode(StrEnum):
    OFF = "off"
    IMMEDIATE = "immediate"
    DIGEST = "digest"


# Which modes each channel offers: the digest is one email a day, so only email has it.
CHANNEL_MODES: dict[Channel, tuple[Mode, ...]] = {
    Channel.IN_APP: (Mode.IMMEDIATE, Mode.OFF),
    Channel.EMAIL: (Mode.IMMEDIATE, Mode.DIGEST, Mode.OFF),
    Channel.SLACK: (Mode.IMMEDIATE, Mode.OFF),
}

_URGENT_FOR_SALES = {"lead_assigned", "sla_warning", "sla_breach", "mention"}
_URGENT_FOR_MARKETING = {"lead_rejected", "sla_breach", "mention"}


def default_mode(*, role: str, kind: str, channel: Channel) -> Mode:
    """Return the mode a person of this role gets for a kind on a channel until they choose.

    The inbox shows everything. Email interrupts only for what needs action within the SLA
    (a new lead for a rep, a rejected lead for marketing, any breach, a mention); the rest waits
    for the daily digest. Slack is for the urgent few, and only reaches people whose company or
    team has set a Slack webhook up.
    """
    if channel == Channel.IN_APP:
        return Mode.IMMEDIATE
    if role in {"sales_rep", "sales_manager"}:
        urgent = _URGENT_FOR_SALES | ({"lead_rejected"} if role == "sales_manager" else set())
    elif role in {"marketing", "revops_admin"}:
        urgent = _URGENT_FOR_MARKETING | ({"job_finished"} if role == "revops_admin" else set())
    else:  # executives read, they are not on the clock
        urgent = set()
    if channel == Channel.EMAIL:
        return Mode.IMMEDIATE if kind in urgent else Mode.DIGEST
    return Mode.IMMEDIATE if kind in urgent and kind != "mention" else Mode.OFF


def next_attempt_at(*, attempts: int, first_attempt_at: datetime, now: datetime,
                    rng: random.Random | None = None) -> datetime | None:
    """Return when to try again after `attempts` failures, or None when the retry window is over.

    The delay doubles from 10 s up to 6 h and is drawn from its upper half ("equal jitter"),
    so receivers coming back after an outage are not hit by every sender in the same second.
    """
    rng = rng or random.Random()
    delay = min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)
    jittered = delay / 2 + delay / 2 * rng.random()
    when = now + jittered
    if when - first_attempt_at > RETRY_WINDOW:
        return None
    return when


def webhook_body(*, event_id: str, event_type: str, occurred_at: datetime, record_key: str,
                 payload: dict) -> bytes:
    """Serialize an event the same way on every attempt, so a receiver can compare retries."""
    document = {
        "id": event_id,
        "type": event_type,
        "created_at": occurred_at.isoformat(),
        "record": record_key,
        "data": payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the `X-Accord-Signature` value: v1=hex HMAC-SHA256 of "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_signature(*, secret: str, timestamp: str, body: bytes, header: str,
                     now: int, tolerance: int = 300) -> bool:
    """Tell whether a received webhook is authentic and fresh (the receiver's side, for tests and docs)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=sent, body=body)
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))


def matches(event_filter: list[str], event_type: str) -> bool:
    """Tell whether a subscription's filter takes an event type; empty takes all, "deal.*" a family."""
    if not event_filter:
        return True
    for pattern in event_filter:
        if pattern == event_type or pattern == "*":
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def refused_address(address: str, *, allowed: Iterable[str] = ()) -> bool:
    """Tell whether an outgoing webhook or Slack message must not go to this IP address.

    Anything not globally routable is refused (loopback, private, link-local and so the cloud
    metadata address 169.254.169.254, carrier-grade NAT, multicast, reserved), IPv4 written as
    IPv6 included, unless it lies in one of the `allowed` networks
    (ACCORD_WEBHOOK_ALLOW_PRIVATE): a webhook must not become a way to reach Accord's own
    network from outside.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in ipaddress.ip_network(network, strict=False) for network in allowed):
        return False
    return not ip.is_global or ip.is_multicast
