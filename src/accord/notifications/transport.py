"""The wire: hand one message to an SMTP server or an HTTP endpoint and say what it answered.

Nothing here touches the database; `services.send_delivery` decides what to send and records
the outcome.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives, mailers

from accord.notifications.domain import RESPONSE_EXCERPT

HTTP_TIMEOUT = 10  # seconds; the claim lease (services.CLAIM_LEASE) must stay well above it


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    response_excerpt: str = ""
    error: str = ""
    # False when trying again cannot help (the address is refused, the subscription is gone).
    retry: bool = True


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would replay the signed body somewhere the subscriber did not name.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_json(*, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST a JSON body; a 2xx answer is success, anything else (or no answer) a failure."""
    request = urllib.request.Request(  # noqa: S310 (only http(s) URLs are accepted on input)
        url, data=body, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Accord-Webhooks/1", **headers},
    )
    try:
        with _opener.open(request, timeout=HTTP_TIMEOUT) as response:
            text = response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
            return Outcome(ok=200 <= response.status < 300, status_code=response.status,
                           response_excerpt=text)
    except urllib.error.HTTPError as error:
        text = error.read(RESPONSE_EXCERPT).decode("utf-8", "replace") if error.fp else ""
        return Outcome(ok=False, status_code=error.code, response_excerpt=text,
                       error=f"HTTP {error.code} {error.reason}"[:500])
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Outcome(ok=False, error=f"{type(reason).__name__}: {reason}"[:500])


def send_email(*, to: str, subject: str, text: str, html: str, message_id: str) -> Outcome:
    """Hand one email to the configured SMTP server."""
    import smtplib

    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[to],
        # Stable per delivery: a resend after a crash carries the same Message-ID, which mail
        # servers and clients use to drop the duplicate.
        headers={"Message-ID": message_id},
    )
    message.attach_alternative(html, "text/html")
    try:
        sent = mailers.default.send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        return Outcome(ok=False, error=f"Recipient refused: {error.recipients}"[:500], retry=False)
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    return Outcome(ok=sent == 1, error="" if sent == 1 else "The mail server took no message")
