"""Typed settings read from ACCORD_* environment variables.

Every setting has a default that runs the demo on an embedded SQLite database, so
a clean clone needs no configuration; production differs by environment only.
A malformed value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def _list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = _bool("ACCORD_DEBUG", False)
DATA_DIR = Path(_str("ACCORD_DATA_DIR", str(PROJECT_ROOT / "data"))).resolve()
# Empty means the embedded SQLite database under DATA_DIR.
DATABASE_URL = _str("ACCORD_DATABASE_URL", "")
# A fixed, public key is acceptable only for the local demo; production must set its own.
SECRET_KEY = _str("ACCORD_SECRET_KEY", "")
ALLOWED_HOSTS = _list("ACCORD_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = _list("ACCORD_CSRF_TRUSTED_ORIGINS", [])
TIME_ZONE = _str("ACCORD_TIME_ZONE", "UTC")
CURRENCY = _str("ACCORD_CURRENCY", "USD").upper()
SECURE_COOKIES = _bool("ACCORD_SECURE_COOKIES", False)
EMAIL_HOST = _str("ACCORD_EMAIL_HOST", "localhost")
EMAIL_PORT = _int("ACCORD_EMAIL_PORT", 25)
EMAIL_FROM = _str("ACCORD_EMAIL_FROM", "accord@localhost")
EMAIL_USER = _str("ACCORD_EMAIL_USER", "")
EMAIL_PASSWORD = _str("ACCORD_EMAIL_PASSWORD", "")  # a secret: from the environment only
EMAIL_STARTTLS = _bool("ACCORD_EMAIL_STARTTLS", False)
EMAIL_SSL = _bool("ACCORD_EMAIL_SSL", False)
# Where people reach Accord; links in emails and Slack messages start with it.
PUBLIC_URL = _str("ACCORD_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
DIGEST_HOUR = _int("ACCORD_DIGEST_HOUR", 7)
# Import uploads, error reports and list exports hold personal data; 0 keeps them forever.
FILE_RETENTION_DAYS = _int("ACCORD_FILE_RETENTION_DAYS", 30)
TASKS_IMMEDIATE = _bool("ACCORD_TASKS_IMMEDIATE", False)
API_PAGE_SIZE_MAX = _int("ACCORD_API_PAGE_SIZE_MAX", 500)
# Networks (CIDR or single addresses) webhooks and Slack may reach although they are not
# public; empty refuses every loopback, private, link-local and metadata address (SSRF).
WEBHOOK_ALLOW_PRIVATE = _list("ACCORD_WEBHOOK_ALLOW_PRIVATE", [])

if len(CURRENCY) != 3 or not CURRENCY.isalpha():
    raise ImproperlyConfigured(f"ACCORD_CURRENCY must be a three-letter ISO code, got {CURRENCY!r}")
if EMAIL_STARTTLS and EMAIL_SSL:
    raise ImproperlyConfigured("Set at most one of ACCORD_EMAIL_STARTTLS and ACCORD_EMAIL_SSL")
for _network in WEBHOOK_ALLOW_PRIVATE:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"ACCORD_WEBHOOK_ALLOW_PRIVATE must list networks like 10.0.0.0/8 or 127.0.0.1, got {_network!r}"
        ) from None
if not PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"ACCORD_PUBLIC_URL must start with http:// or https://, got {PUBLIC_URL!r}")
if FILE_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(f"ACCORD_FILE_RETENTION_DAYS must be 0 (keep) or a number of days, got {FILE_RETENTION_DAYS}")
if not 0 <= DIGEST_HOUR <= 23:
    raise ImproperlyConfigured(f"ACCORD_DIGEST_HOUR must be an hour from 0 to 23, got {DIGEST_HOUR}")
if DATABASE_URL and not DATABASE_URL.startswith(("postgres://", "postgresql://", "sqlite://")):
    raise ImproperlyConfigured(
        "ACCORD_DATABASE_URL must start with postgresql:// or sqlite://, "
        f"got {DATABASE_URL.split('://')[0]!r}"
    )
