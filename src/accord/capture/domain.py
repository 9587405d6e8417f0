"""Pure rules of capture: which channel a touch came through, and what a URL tells."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from accord.core.vocabulary import Channel

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# utm_medium values as marketers write them (lower-cased, stripped), onto the channel.
MEDIUM_CHANNELS: dict[str, Channel] = {
    **dict.fromkeys(("cpc", "ppc", "paid_search", "paidsearch", "sem", "search_ads"), Channel.PAID_SEARCH),
    **dict.fromkeys(
        ("paid_social", "paidsocial", "social_paid", "social-paid", "cpm_social", "sponsored"),
        Channel.PAID_SOCIAL,
    ),
    **dict.fromkeys(("display", "banner", "cpm", "programmatic", "retargeting"), Channel.DISPLAY),
    **dict.fromkeys(("email", "e-mail", "newsletter", "mail"), Channel.EMAIL),
    **dict.fromkeys(("webinar",), Channel.WEBINAR),
    **dict.fromkeys(("event", "trade_show", "tradeshow", "booth"), Channel.EVENT),
    **dict.fromkeys(("organic", "seo", "content", "blog"), Channel.CONTENT_SEO),
    **dict.fromkeys(("referral", "affiliate"), Channel.REFERRAL),
    **dict.fromkeys(("partner",), Channel.PARTNER),
    **dict.fromkeys(("outbound", "sales_email", "sequence"), Channel.OUTBOUND),
    **dict.fromkeys(("social", "organic_social", "social_organic"), Channel.ORGANIC_SOCIAL),
    **dict.fromkeys(("offline", "print", "qr", "store"), Channel.DIRECT_OFFLINE),
}

SOCIAL_SOURCES = frozenset(
    {"facebook", "fb", "instagram", "ig", "linkedin", "twitter", "x", "tiktok", "reddit",
     "pinterest", "youtube", "snapchat"}
)
SEARCH_SOURCES = frozenset({"google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia"})

# Referrer hosts (without "www."), by the registrable name's first label.
SEARCH_HOSTS = SEARCH_SOURCES
SOCIAL_HOSTS = frozenset(
    {"facebook", "instagram", "linkedin", "lnkd", "twitter", "t", "x", "tiktok", "reddit",
     "pinterest", "youtube", "youtu"}
)
MAIL_HOSTS = frozenset({"mail", "outlook", "webmail"})


def infer_channel(
    *,
    utm_medium: str = "",
    utm_source: str = "",
    referrer: str = "",
    campaign_channel: str = "",
    own_host: str = "",
) -> Channel:
    """Return the channel of a touch, from the strongest signal present.

    Order: utm_medium; then utm_source with a paid-looking medium missing (a social
    network's name → paid social only with a medium, else organic social); then the
    matched campaign's channel; then the referrer's host; else direct.
    """
    medium = utm_medium.strip().lower()
    source = utm_source.strip().lower()
    if medium in MEDIUM_CHANNELS:
        channel = MEDIUM_CHANNELS[medium]
        # "cpc" from facebook is paid social, not paid search.
        if channel == Channel.PAID_SEARCH and source in SOCIAL_SOURCES:
            return Channel.PAID_SOCIAL
        return channel
    if campaign_channel:
        return Channel(campaign_channel)
    if source in SOCIAL_SOURCES:
        return Channel.ORGANIC_SOCIAL
    if source in SEARCH_SOURCES:
        return Channel.CONTENT_SEO
    if source in {"newsletter", "email"}:
        return Channel.EMAIL
    return channel_of_referrer(referrer, own_host=own_host)


def channel_of_referrer(referrer: str, *, own_host: str = "") -> Channel:
    """Return the channel a referring page implies: search, social, webmail, another site, none."""
    host = host_of(referrer)
    if not host or (own_host and host == own_host.lower().removeprefix("www.")):
        return Channel.DIRECT
    labels = host.split(".")
    names = set(labels[:-1]) if len(labels) > 1 else set(labels)
    if names & SEARCH_HOSTS:
        return Channel.CONTENT_SEO
    if names & SOCIAL_HOSTS:
        return Channel.ORGANIC_SOCIAL
    if names & MAIL_HOSTS:
        return Channel.EMAIL
    return Channel.REFERRAL


def host_of(url: str) -> str:
    """Return the lower-case host of an http(s) URL without "www.", or "" for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    return parts.hostname.lower().removeprefix("www.")


def origin_of(url: str) -> str:
    """Return scheme://host[:port] of an http(s) URL, lower-cased, or "" when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def utm_from_url(url: str) -> dict[str, str]:
    """Return the UTM parameters in a URL's query string (first value of each)."""
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return {}
    return {name: query[name][0].strip() for name in UTM_FIELDS if query.get(name)}


def clean_url(raw: str, *, max_length: int = 1000) -> str:
    """Return the URL when it is http(s) and fits the column, else ""."""
    url = raw.strip()
    if len(url) > max_length or not origin_of(url):
        return ""
    return url
