"""How other tools' words map onto Accord's: lifecycle stages, lead statuses, channels, industries.

Every preset reads every vocabulary (a HubSpot value in a Salesforce file is still understood);
keys are compared after `values.word_key`, so case, spaces and punctuation do not matter.
docs/imports.md shows the same tables in prose.
"""

from __future__ import annotations

import re

from accord.capture.models import Industry, SizeBand
from accord.core.vocabulary import Channel, LifecycleStage, Region
from accord.imports.values import word_key

S = LifecycleStage
C = Channel


def _table(pairs: dict[str, str | None], *choices) -> dict[str, str | None]:
    table = {word_key(key): value for key, value in pairs.items()}
    for choice in choices:
        for member in choice:
            table.setdefault(word_key(member.value), member.value)
            table.setdefault(word_key(member.label), member.value)
    return table


STAGES = _table(
    {
        # HubSpot lifecycle stages (internal values and labels normalise to the same key).
        "subscriber": S.SUBSCRIBER,
        "lead": S.LEAD,
        "marketingqualifiedlead": S.MQL,
        "salesqualifiedlead": S.SQL,
        "opportunity": S.OPPORTUNITY,
        "customer": S.CUSTOMER,
        # An evangelist is a customer who promotes you: still a customer in the funnel.
        "evangelist": S.CUSTOMER,
        # HubSpot's "other" holds partners, vendors and staff: people outside the funnel.
        "other": S.DISQUALIFIED,
        "mql": S.MQL,
        "sal": S.SAL,
        "salesacceptedlead": S.SAL,
        "sql": S.SQL,
        "recycled": S.NURTURE,
        "nurturing": S.NURTURE,
        "unqualified": S.DISQUALIFIED,
    },
    LifecycleStage,
)

# Lead status → lifecycle stage, used only when a row has no lifecycle stage of its own.
# None: a known status that says nothing about the stage (the contact keeps its stage).
LEAD_STATUSES = _table(
    {
        # Salesforce's default lead statuses.
        "Open - Not Contacted": S.LEAD,
        "Working - Contacted": S.SAL,
        "Closed - Converted": S.SQL,
        "Closed - Not Converted": S.DISQUALIFIED,
        # HubSpot's default lead statuses.
        "NEW": None,
        "OPEN": None,
        "IN_PROGRESS": None,
        "ATTEMPTED_TO_CONTACT": None,
        "CONNECTED": None,
        "OPEN_DEAL": S.OPPORTUNITY,
        "UNQUALIFIED": S.DISQUALIFIED,
        "BAD_TIMING": S.NURTURE,
        "Nurturing": S.NURTURE,
        "Qualified": S.SQL,
    }
)

# "" means a known source that names no Accord channel: accepted, and the field is left as is.
CHANNELS = _table(
    {
        # HubSpot "Original Source" (internal values; the labels normalise to the same keys
        # except where listed separately).
        "ORGANIC_SEARCH": C.CONTENT_SEO,
        "PAID_SEARCH": C.PAID_SEARCH,
        "EMAIL_MARKETING": C.EMAIL,
        "SOCIAL_MEDIA": C.ORGANIC_SOCIAL,
        "Organic Social": C.ORGANIC_SOCIAL,
        "REFERRALS": C.REFERRAL,
        "OTHER_CAMPAIGNS": "",
        "DIRECT_TRAFFIC": C.DIRECT,
        "OFFLINE": C.DIRECT_OFFLINE,
        "Offline Sources": C.DIRECT_OFFLINE,
        "PAID_SOCIAL": C.PAID_SOCIAL,
        "AI_REFERRALS": C.REFERRAL,
        # Salesforce "Lead Source" picklist values, default and common.
        "Web": C.DIRECT,
        "Phone Inquiry": C.DIRECT_OFFLINE,
        "Partner Referral": C.PARTNER,
        "Partner": C.PARTNER,
        "Purchased List": C.OUTBOUND,
        "Other": "",
        "Advertisement": C.DISPLAY,
        "Employee Referral": C.REFERRAL,
        "External Referral": C.REFERRAL,
        "Customer Referral": C.REFERRAL,
        "Word of mouth": C.REFERRAL,
        "Public Relations": C.CONTENT_SEO,
        "Seminar - Internal": C.WEBINAR,
        "Seminar - Partner": C.PARTNER,
        "Trade Show": C.EVENT,
        "Cold Call": C.OUTBOUND,
        "Email": C.EMAIL,
        "Google AdWords": C.PAID_SEARCH,
        "Google Ads": C.PAID_SEARCH,
        "LinkedIn": C.PAID_SOCIAL,
        "Facebook": C.PAID_SOCIAL,
        "Social": C.ORGANIC_SOCIAL,
        "Organic": C.CONTENT_SEO,
        "SEO": C.CONTENT_SEO,
        "Content": C.CONTENT_SEO,
        "Events": C.EVENT,
        "Event": C.EVENT,
        "Direct": C.DIRECT,
        "Retail": C.DIRECT_OFFLINE,
        "Store": C.DIRECT_OFFLINE,
        "Outbound": C.OUTBOUND,
        "Referral": C.REFERRAL,
    },
    Channel,
)

_I = Industry
# Unknown industries become "other" rather than rejecting the row: HubSpot alone has ~150.
INDUSTRIES = _table(
    {
        "Technology": _I.SOFTWARE, "Computer Software": _I.SOFTWARE, "Information Technology and Services": _I.SOFTWARE,
        "Internet": _I.SOFTWARE, "Electronics": _I.SOFTWARE, "Communications": _I.SOFTWARE,
        "Telecommunications": _I.SOFTWARE, "COMPUTER_SOFTWARE": _I.SOFTWARE, "SaaS": _I.SOFTWARE,
        "Banking": _I.FINANCIAL, "Finance": _I.FINANCIAL, "Insurance": _I.FINANCIAL,
        "Financial Services": _I.FINANCIAL, "FINANCIAL_SERVICES": _I.FINANCIAL,
        "Healthcare": _I.HEALTHCARE, "Biotechnology": _I.HEALTHCARE, "Hospital & Health Care": _I.HEALTHCARE,
        "Pharmaceuticals": _I.HEALTHCARE, "Medical Devices": _I.HEALTHCARE,
        "Manufacturing": _I.MANUFACTURING, "Machinery": _I.MANUFACTURING, "Chemicals": _I.MANUFACTURING,
        "Apparel": _I.MANUFACTURING, "Construction": _I.MANUFACTURING, "Engineering": _I.MANUFACTURING,
        "Energy": _I.MANUFACTURING, "Agriculture": _I.MANUFACTURING, "Automotive": _I.MANUFACTURING,
        "Retail": _I.RETAIL, "Food & Beverage": _I.RETAIL, "Consumer Goods": _I.RETAIL,
        "Education": _I.EDUCATION, "Higher Education": _I.EDUCATION, "Education Management": _I.EDUCATION,
        "Consulting": _I.PROFESSIONAL, "Management Consulting": _I.PROFESSIONAL, "Legal Services": _I.PROFESSIONAL,
        "Accounting": _I.PROFESSIONAL, "Marketing and Advertising": _I.PROFESSIONAL,
        "Hospitality": _I.HOSPITALITY, "Recreation": _I.HOSPITALITY, "Entertainment": _I.HOSPITALITY,
        "Leisure, Travel & Tourism": _I.HOSPITALITY, "Restaurants": _I.HOSPITALITY,
        "Shipping": _I.LOGISTICS, "Transportation": _I.LOGISTICS, "Logistics and Supply Chain": _I.LOGISTICS,
        "Government": _I.PUBLIC, "Not For Profit": _I.PUBLIC, "Government Administration": _I.PUBLIC,
        "Nonprofit Organization Management": _I.PUBLIC,
    },
    Industry,
)

def industry(raw: str) -> str:
    """Return Accord's industry for another tool's; "other" when there is no counterpart."""
    return INDUSTRIES.get(word_key(raw)) or Industry.OTHER.value


_SIZE_LIMITS = ((10, SizeBand.S1_10), (50, SizeBand.S11_50), (200, SizeBand.S51_200),
                (1000, SizeBand.S201_1000), (5000, SizeBand.S1001_5000))
_SIZE_RANGE = re.compile(r"(\d[\d,.\s]*)\s*(?:-|–|to|\+|or more)?\s*(\d[\d,.\s]*)?\s*\+?", re.IGNORECASE)


def size_band(raw: str) -> str:
    """Return the size band of an employee count ("240") or range ("51-200", "10,001+")."""
    match = _SIZE_RANGE.fullmatch(raw.strip())
    if not match:
        raise ValueError(f"{raw!r} is not a number of employees")
    low = int(re.sub(r"\D", "", match.group(1)) or 0)
    for limit, band in _SIZE_LIMITS:
        if low <= limit:
            return band.value
    return SizeBand.S5000_PLUS.value


# ISO 3166-1 alpha-2: every code a country column may hold.
_ISO_CODES = frozenset(
    ["AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"]
)
_COUNTRY_NAMES = {
    "United States": "US", "United States of America": "US", "USA": "US", "U.S.": "US",
    "U.S.A.": "US", "America": "US", "Canada": "CA", "Mexico": "MX", "Brazil": "BR", "Brasil": "BR",
    "Argentina": "AR", "Chile": "CL", "Colombia": "CO", "Peru": "PE",
    "United Kingdom": "GB", "UK": "GB", "Great Britain": "GB", "England": "GB", "Scotland": "GB",
    "Wales": "GB", "Northern Ireland": "GB", "Ireland": "IE", "Germany": "DE", "Deutschland": "DE",
    "France": "FR", "Spain": "ES", "España": "ES", "Portugal": "PT", "Italy": "IT", "Italia": "IT",
    "Netherlands": "NL", "The Netherlands": "NL", "Holland": "NL", "Belgium": "BE",
    "Luxembourg": "LU", "Switzerland": "CH", "Schweiz": "CH", "Austria": "AT", "Österreich": "AT",
    "Sweden": "SE", "Norway": "NO", "Denmark": "DK", "Finland": "FI", "Iceland": "IS",
    "Poland": "PL", "Czech Republic": "CZ", "Czechia": "CZ", "Slovakia": "SK", "Hungary": "HU",
    "Romania": "RO", "Bulgaria": "BG", "Greece": "GR", "Turkey": "TR", "Türkiye": "TR",
    "Ukraine": "UA", "Russia": "RU", "Russian Federation": "RU", "Estonia": "EE", "Latvia": "LV",
    "Lithuania": "LT", "Croatia": "HR", "Slovenia": "SI", "Serbia": "RS", "Israel": "IL",
    "United Arab Emirates": "AE", "UAE": "AE", "Saudi Arabia": "SA", "Qatar": "QA", "Egypt": "EG",
    "South Africa": "ZA", "Nigeria": "NG", "Kenya": "KE", "Morocco": "MA", "India": "IN",
    "China": "CN", "Hong Kong": "HK", "Taiwan": "TW", "Japan": "JP", "South Korea": "KR",
    "Korea": "KR", "Republic of Korea": "KR", "Singapore": "SG", "Malaysia": "MY", "Indonesia": "ID",
    "Thailand": "TH", "Vietnam": "VN", "Viet Nam": "VN", "Philippines": "PH", "Pakistan": "PK",
    "Bangladesh": "BD", "Australia": "AU", "New Zealand": "NZ",
}
COUNTRIES = {word_key(name): code for name, code in _COUNTRY_NAMES.items()}

_REGION_OF = {
    **dict.fromkeys(["US", "CA", "PR", "UM"], Region.NORTH_AMERICA),
    **dict.fromkeys(
        ["MX", "BR", "AR", "CL", "CO", "PE", "VE", "EC", "BO", "PY", "UY", "GT", "CR", "PA", "HN", "NI", "SV", "DO", "CU", "JM", "TT", "BS", "BB", "HT", "BZ", "GY", "SR"],
        Region.LATAM,
    ),
    **dict.fromkeys(
        ["AU", "NZ", "CN", "HK", "TW", "JP", "KR", "KP", "SG", "MY", "ID", "TH", "VN", "PH", "IN", "PK", "BD", "LK", "NP", "MM", "KH", "LA", "MN", "BN", "MO", "FJ", "PG"],
        Region.APAC,
    ),
}


def country(raw: str) -> str:
    """Return the ISO 3166 two-letter code of a code or English country name."""
    text = raw.strip()
    if len(text) == 2 and text.upper() in _ISO_CODES:
        return text.upper()
    code = COUNTRIES.get(word_key(text))
    if code is None:
        raise ValueError(
            f"unknown country {raw!r}: give a two-letter ISO 3166 code (US, GB, DE …) "
            "or an English country name"
        )
    return code


def region_of(code: str) -> str:
    """Return the sales region of a country code: the Americas and Asia-Pacific by list, else EMEA."""
    return _REGION_OF.get(code, Region.EMEA).value if code else ""
