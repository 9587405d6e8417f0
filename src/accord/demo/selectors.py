"""Reads on the demo's own data."""

from __future__ import annotations

import hashlib

from accord.accounts.models import Team, User
from accord.demo import world as W
from accord.demo.tables import WRITTEN_MODELS

# Salted password hashes and sign-in times differ between loads by design.
VOLATILE_FIELDS = frozenset({"password", "last_login"})


def demo_fingerprint() -> str:
    """Return a SHA-256 over every row the demo wrote, table by table in primary-key order."""
    digest = hashlib.sha256()
    for model in WRITTEN_MODELS:
        rows = model._base_manager.all()
        if model is User:
            rows = rows.filter(email__iendswith="@" + W.STAFF_DOMAIN)
        elif model is Team:
            rows = rows.filter(name__in=[t[0] for t in W.SALES_TEAMS] + [t[0] for t in W.OTHER_TEAMS])
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
        digest.update(model._meta.label.encode())
        for row in rows.order_by("pk").values_list(*names).iterator(chunk_size=5_000):
            digest.update(repr(row).encode())
    return digest.hexdigest()
