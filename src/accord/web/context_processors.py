"""Template context every page needs: the navigation the viewer's role allows, and the currency."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict:
    from accord.web.navigation import items_for

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "currency": settings.ACCORD_CURRENCY}
    items = []
    for item in items_for(user):
        url = reverse(item.url_name)
        # A section stays highlighted on its detail pages (/contacts/42/ under /contacts/).
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": item.label, "url": url, "active": active})
    return {"nav_items": items, "currency": settings.ACCORD_CURRENCY}
