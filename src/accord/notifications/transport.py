"""The wire: hand one message to an SMTP server or an HTTP endpoint and say what it answered.

Nothing here touches the database; `services.send_delivery` decides what to send and records
the outcome.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers

from accord.notifications.domain import RESPONSE_EXCERPT, refused_address

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


class RefusedAddress(OSError):
    """Raise when a webhook's host resolves to an address Accord may not reach."""


def resolve(host: str, port: int) -> list[tuple]:
    """Return the host's addresses (getaddrinfo rows), raising RefusedAddress if any is not public.

    Every address is checked, not just the first: a name with one public and one private
    address would otherwise reach the private one whenever the resolver put it first.
    """
    rows = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed = settings.ACCORD_WEBHOOK_ALLOW_PRIVATE
    for *_, sockaddr in rows:
        if refused_address(sockaddr[0], allowed=allowed):
            raise RefusedAddress(
                f"{host} resolves to {sockaddr[0]}, a loopback, private, link-local or metadata "
                "address; set ACCORD_WEBHOOK_ALLOW_PRIVATE to allow it"
            )
    return rows


def _guarded_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    # Resolve once, check every address, and connect to exactly those: a DNS answer that
    # changes between a check and urllib's own lookup (DNS rebinding) cannot slip through.
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in resolve(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as failure:
            error = failure
            sock.close()
    raise error or OSError(f"no address for {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    # TLS still verifies the certificate against the host name: only the TCP connect is pinned.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)


# No proxies from the environment: a proxy would make the address check apply to the proxy,
# not to the host the message goes to.
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirects, _GuardedHTTPHandler, _GuardedHTTPSHandler,
)


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
        # A refused address will not become public by retrying: straight to the dead letters.
        return Outcome(ok=False, error=f"{type(reason).__name__}: {reason}"[:500],
                       retry=not isinstance(reason, RefusedAddress))


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
