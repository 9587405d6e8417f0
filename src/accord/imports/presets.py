"""Which column of a file holds which field: presets for HubSpot and Salesforce exports and for
ad platforms' cost reports, a generic set of common names, auto-detection from the header, and
`--map "Column=field"` overrides.

Header names compare case- and space-insensitively. A preset layers its export's names over
the generic ones, so a HubSpot file with an extra "Country" column still maps it. An ad
platform's report also brings its quirks: title lines above the header, total and copyright
lines below the data, and the currency named in the spend column ("Amount spent (EUR)").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from accord.imports.reading import ImportRefused

KINDS = ("contacts", "accounts", "deals", "touchpoints", "costs")
# Cost reports of ad platforms: these presets read the `costs` kind only.
AD_PRESETS = ("google-ads", "microsoft-ads", "meta-ads", "linkedin-ads")
PRESETS = ("hubspot", "salesforce", *AD_PRESETS, "generic")
PRESET_LABELS = {
    "hubspot": "HubSpot",
    "salesforce": "Salesforce",
    "google-ads": "Google Ads",
    "microsoft-ads": "Microsoft Advertising",
    "meta-ads": "Meta (Facebook) Ads Manager",
    "linkedin-ads": "LinkedIn Campaign Manager",
    "generic": "Generic (common column names)",
}

FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": (
        "email", "external_id", "first_name", "last_name", "phone", "title", "company",
        "company_domain", "owner", "lifecycle_stage", "lead_status", "lead_source", "campaign",
        "country", "created_at", "industry", "employees",
    ),
    "accounts": (
        "external_id", "name", "domain", "industry", "employees", "country", "owner", "created_at",
    ),
    "deals": (
        "external_id", "name", "account", "pipeline", "stage", "amount", "currency", "close_date",
        "owner", "probability", "campaign", "contact_email", "created_at",
    ),
    "touchpoints": (
        "external_id", "contact_email", "contact_external_id", "anonymous_id", "campaign",
        "channel", "kind", "occurred_at", "utm_source", "utm_medium", "utm_campaign", "utm_term",
        "utm_content", "url", "referrer",
    ),
    "costs": ("date", "campaign", "amount", "currency", "impressions", "clicks"),
}

# Each group: at least one of its fields must have a column, or the import is refused.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "contacts": (("email", "external_id"),),
    "accounts": (("external_id", "domain", "name"),),
    "deals": (("external_id", "name"), ("stage",)),
    "touchpoints": (("occurred_at",), ("kind",), ("contact_email", "contact_external_id", "anonymous_id")),
    "costs": (("date",), ("campaign",), ("amount",)),
}

_GENERIC: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "email": ("Email", "E-mail", "Email Address", "E-mail Address", "Mail"),
        "external_id": ("External ID", "external_id", "ExternalId"),
        "first_name": ("First Name", "FirstName", "first_name", "Given Name"),
        "last_name": ("Last Name", "LastName", "last_name", "Surname", "Family Name"),
        "phone": ("Phone", "Phone Number", "Telephone", "Business Phone"),
        "title": ("Title", "Job Title", "JobTitle", "Position"),
        "company": ("Company", "Company Name", "Account", "Account Name", "Organization", "Organisation"),
        "company_domain": ("Website", "Website URL", "Company Domain", "Company Domain Name", "Domain"),
        "owner": ("Owner", "Contact Owner", "Lead Owner", "Owner Email"),
        "lifecycle_stage": ("Lifecycle Stage", "lifecycle_stage", "LifecycleStage", "Stage"),
        "lead_status": ("Lead Status", "lead_status", "Status"),
        "lead_source": ("Lead Source", "lead_source", "Source", "Original Source", "Channel"),
        "campaign": ("Campaign", "Original Campaign", "UTM Campaign", "utm_campaign"),
        "country": ("Country", "Country/Region", "Country Code", "Mailing Country"),
        "created_at": ("Created", "Created At", "created_at", "Create Date", "Created Date", "CreateDate"),
        "industry": ("Industry",),
        "employees": ("Employees", "Number of Employees", "No. of Employees", "Company Size"),
    },
    "accounts": {
        "external_id": ("External ID", "external_id"),
        "name": ("Name", "Company", "Company Name", "Account Name", "Organization", "Organisation"),
        "domain": ("Domain", "Website", "Website URL", "Company Domain Name", "Company Domain"),
        "industry": ("Industry",),
        "employees": ("Employees", "Number of Employees", "No. of Employees", "Company Size", "Size"),
        "country": ("Country", "Country/Region", "Billing Country", "Country Code"),
        "owner": ("Owner", "Account Owner", "Company Owner"),
        "created_at": ("Created", "Created At", "created_at", "Create Date", "Created Date"),
    },
    "deals": {
        "external_id": ("External ID", "external_id"),
        "name": ("Name", "Deal Name", "Opportunity Name", "Deal"),
        "account": ("Account", "Account Name", "Company", "Company Name", "Associated Company"),
        "pipeline": ("Pipeline",),
        "stage": ("Stage", "Deal Stage"),
        "amount": ("Amount", "Value", "Deal Amount"),
        "currency": ("Currency", "Currency Code", "Deal Currency Code", "Opportunity Currency"),
        "close_date": ("Close Date", "close_date", "Expected Close Date"),
        "owner": ("Owner", "Deal Owner", "Opportunity Owner"),
        "probability": ("Probability", "Probability (%)", "Deal Probability"),
        "campaign": ("Campaign", "Primary Campaign Source", "Source Campaign"),
        "contact_email": ("Contact Email", "Primary Contact Email", "Email"),
        "created_at": ("Created", "Created At", "created_at", "Create Date", "Created Date"),
    },
    "touchpoints": {
        "external_id": ("External ID", "external_id", "Event ID", "event_id"),
        "contact_email": ("Email", "Contact Email", "contact_email"),
        "contact_external_id": ("Contact External ID", "contact_external_id", "Contact ID", "Record ID"),
        "anonymous_id": ("Anonymous ID", "anonymous_id", "Visitor ID"),
        "campaign": ("Campaign", "Campaign Name"),
        "channel": ("Channel", "Source"),
        "kind": ("Kind", "Type", "Event Type", "Event"),
        "occurred_at": ("Occurred At", "occurred_at", "Timestamp", "Date", "Time", "Event Date"),
        "utm_source": ("utm_source", "UTM Source"),
        "utm_medium": ("utm_medium", "UTM Medium"),
        "utm_campaign": ("utm_campaign", "UTM Campaign"),
        "utm_term": ("utm_term", "UTM Term"),
        "utm_content": ("utm_content", "UTM Content"),
        "url": ("URL", "Page URL", "Page"),
        "referrer": ("Referrer", "Referrer URL"),
    },
    "costs": {
        # Google Ads ("Day", "Cost", "Impr.") and Meta Ads ("Reporting starts", "Amount spent")
        # reports import without a mapping.
        "date": ("Date", "Day", "Reporting Starts", "Reporting starts"),
        "campaign": ("Campaign", "Campaign Name", "utm_campaign", "UTM Campaign"),
        "amount": ("Spend", "Cost", "Amount", "Amount Spent", "Amount spent (USD)", "Amount spent (EUR)"),
        "currency": ("Currency", "Currency Code", "Currency code"),
        "impressions": ("Impressions", "Impr."),
        "clicks": ("Clicks", "Link Clicks"),
    },
}

_HUBSPOT: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "external_id": ("Record ID", "hs_object_id"),
        "email": ("Email",),
        "first_name": ("First Name", "firstname"),
        "last_name": ("Last Name", "lastname"),
        "title": ("Job Title", "jobtitle"),
        "phone": ("Phone Number", "phone"),
        "company": ("Company Name", "Associated Company", "company"),
        "company_domain": ("Website URL", "Company Domain Name"),
        "owner": ("Contact owner", "HubSpot Owner"),
        "lifecycle_stage": ("Lifecycle Stage", "lifecyclestage"),
        "lead_status": ("Lead Status", "hs_lead_status"),
        "lead_source": ("Original Source", "hs_analytics_source"),
        "created_at": ("Create Date", "createdate"),
        "country": ("Country/Region", "country"),
        "industry": ("Industry",),
        "employees": ("Number of Employees",),
    },
    "accounts": {
        "external_id": ("Record ID", "hs_object_id"),
        "name": ("Company name", "Name"),
        "domain": ("Company Domain Name", "Website URL"),
        "owner": ("Company owner",),
        "created_at": ("Create Date",),
        "country": ("Country/Region",),
        "employees": ("Number of Employees",),
    },
    "deals": {
        "external_id": ("Record ID", "hs_object_id"),
        "name": ("Deal Name",),
        "stage": ("Deal Stage",),
        "owner": ("Deal owner",),
        "account": ("Associated Company", "Associated Company Name"),
        "probability": ("Deal probability",),
        "created_at": ("Create Date",),
    },
    "touchpoints": {},
    "costs": {},
}

_SALESFORCE: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "external_id": ("Lead ID", "Contact ID"),
        "title": ("Title",),
        "company": ("Company", "Account Name", "Company / Account"),
        "owner": ("Lead Owner", "Contact Owner"),
        "lead_source": ("Lead Source",),
        "lead_status": ("Lead Status",),
        "created_at": ("Created Date",),
        "country": ("Country", "Mailing Country"),
        "employees": ("No. of Employees", "Employees"),
    },
    "accounts": {
        "external_id": ("Account ID",),
        "name": ("Account Name",),
        "domain": ("Website",),
        "owner": ("Account Owner",),
        "country": ("Billing Country", "Country"),
        "employees": ("Employees",),
        "created_at": ("Created Date",),
    },
    "deals": {
        "external_id": ("Opportunity ID",),
        "name": ("Opportunity Name",),
        "account": ("Account Name",),
        "stage": ("Stage",),
        "owner": ("Opportunity Owner",),
        "probability": ("Probability (%)",),
        "campaign": ("Primary Campaign Source",),
        "created_at": ("Created Date",),
    },
    "touchpoints": {},
    "costs": {},
}

# Each ad platform's campaign report, as its UI downloads it (day or month breakdown).
_AD_PLATFORMS: dict[str, dict[str, tuple[str, ...]]] = {
    # Reports › Download › CSV: two title lines ("Campaign report", the date range), then the
    # header; "Total: …" lines after the data; "--" for no value.
    "google-ads": {
        "date": ("Day", "Month", "Date"),
        "campaign": ("Campaign",),
        "amount": ("Cost",),
        "currency": ("Currency code", "Currency"),
        "impressions": ("Impr.", "Impressions"),
        "clicks": ("Clicks",),
    },
    # Reports › Download: "Report Name:", "Report Time:", "Time Zone:" … lines, then the header;
    # a "Total" line and "©20xx Microsoft Corporation. All rights reserved." after the data.
    "microsoft-ads": {
        "date": ("Time period", "Gregorian date", "Day", "Month start date", "Date"),
        "campaign": ("Campaign name", "Campaign"),
        "amount": ("Spend",),
        "currency": ("Currency code", "Currency"),
        "impressions": ("Impressions", "Impr."),
        "clicks": ("Clicks",),
    },
    # Ads Manager › Export table data (.csv): no title lines; the account's currency is in the
    # spend column's name; "Link clicks" are the clicks that reach the site.
    "meta-ads": {
        "date": ("Reporting starts", "Day", "Month"),
        "campaign": ("Campaign name",),
        "amount": ("Amount spent", "Amount spent (USD)"),
        "currency": ("Currency",),
        "impressions": ("Impressions",),
        "clicks": ("Link clicks", "Clicks (all)"),
    },
    # Campaign Manager › Export › Campaign performance: title lines ("Campaign Performance
    # Report (in UTC)", "Report Start: …"), often UTF-16 and tab-separated; US dates.
    "linkedin-ads": {
        "date": ("Start Date (in UTC)", "Start Date", "Date"),
        "campaign": ("Campaign Name",),
        "amount": ("Total Spent", "Amount Spent"),
        "currency": ("Currency",),
        "impressions": ("Impressions",),
        "clicks": ("Clicks",),
    },
}

# Header names only one tool's exports use; they decide auto-detection.
_MARKERS = {
    "hubspot": ("record id", "lifecycle stage", "original source", "create date", "hs_object_id",
                "company owner", "deal owner", "deal stage", "company domain name", "contact owner"),
    "salesforce": ("lead id", "contact id", "account id", "opportunity id", "lead owner",
                   "account owner", "opportunity owner", "created date", "lead source",
                   "no. of employees", "opportunity name", "mailing country", "billing country"),
}
# Only a costs file is compared with ad platforms' headers.
_AD_MARKERS = {
    "google-ads": ("impr.", "cost", "avg. cpc", "interactions", "search impr. share"),
    "microsoft-ads": ("spend", "time period", "gregorian date", "ad distribution"),
    "meta-ads": ("reporting starts", "reporting ends", "amount spent", "link clicks", "reach"),
    "linkedin-ads": ("start date (in utc)", "total spent", "campaign group name", "campaign type"),
}
# A spend column that names its currency: "Amount spent (EUR)", "Cost (USD)".
_NAMED_CURRENCY = re.compile(r"^(.*?)\s*\(([a-z]{3})\)$")


def header_key(name: str) -> str:
    return " ".join(name.lower().split())


def _preset_layer(kind: str, preset: str) -> dict[str, tuple[str, ...]]:
    if preset in AD_PRESETS:
        return _AD_PLATFORMS[preset] if kind == "costs" else {}
    return {"hubspot": _HUBSPOT, "salesforce": _SALESFORCE}.get(preset, {}).get(kind, {})


def _aliases(kind: str, preset: str) -> dict[str, str]:
    table: dict[str, str] = {}
    layers = [_GENERIC[kind], _preset_layer(kind, preset)]
    for layer in layers:
        for target, names in layer.items():
            for name in names:
                table[header_key(name)] = target
    for target in FIELDS[kind]:
        table.setdefault(header_key(target), target)
    return table


def column_names(kind: str, preset: str, target: str) -> list[str]:
    """Return the header names a preset maps to a field, for messages and the docs."""
    names = [*_GENERIC[kind].get(target, ())]
    return [*_preset_layer(kind, preset).get(target, ()), *names]


def _without_currency(key: str) -> tuple[str, str | None]:
    """Split "amount spent (eur)" into ("amount spent", "EUR"); other keys pass unchanged."""
    match = _NAMED_CURRENCY.match(key)
    if match is None:
        return key, None
    return match.group(1), match.group(2).upper()


def detect_preset(header: list[str], kind: str | None = None) -> str:
    """Name the tool whose export this header looks like, or "generic"."""
    keys = {header_key(cell) for cell in header}
    markers_by_preset = dict(_MARKERS)
    if kind == "costs":
        keys |= {_without_currency(key)[0] for key in keys}
        markers_by_preset.update(_AD_MARKERS)
    scores = {preset: len(keys.intersection(markers)) for preset, markers in markers_by_preset.items()}
    # "Spend" or "Cost" alone is any spreadsheet's word; a report says two of its own.
    scores.update({preset: 0 for preset in AD_PRESETS if scores.get(preset, 0) == 1})
    best = max(scores, key=scores.__getitem__)
    if scores[best] == 0 or list(scores.values()).count(scores[best]) > 1:
        return "generic"
    return best


@dataclass
class Layout:
    """Where each field sits in a file's records, and what the file holds that Accord ignores."""

    kind: str
    preset: str
    preset_detected: bool
    header: list[str]
    columns: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    # Values a row without its own take from the file as a whole (the currency in a column name).
    defaults: dict[str, Any] = field(default_factory=dict)

    def column(self, target: str) -> str:
        """Return the file's name for the column holding a field."""
        return self.header[self.columns[target]] if target in self.columns else target


def parse_mapping(items: list[str] | dict[str, str] | None) -> dict[str, str]:
    """Read `--map "Column Name=field"` options (a dict passes through)."""
    if not items:
        return {}
    if isinstance(items, dict):
        return dict(items)
    mapping = {}
    for item in items:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip():
            raise ImportRefused(f'--map {item!r} must look like "Column Name=field".')
        mapping[column.strip()] = target.strip()
    return mapping


def resolve_layout(
    *, kind: str, header: list[str], preset: str | None, mapping: dict[str, str] | None
) -> Layout:
    """Map a file's header onto a kind's fields; refuse the import when a required field is missing."""
    if kind not in FIELDS:
        raise ImportRefused(f"Unknown import kind {kind!r}; choose one of: {', '.join(KINDS)}.")
    if preset is not None and preset not in PRESETS:
        raise ImportRefused(f"Unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}.")
    if preset in AD_PRESETS and kind != "costs":
        raise ImportRefused(
            f"The {PRESET_LABELS[preset]} preset reads cost reports: import the file as costs."
        )
    chosen = preset or detect_preset(header, kind)
    layout = Layout(kind=kind, preset=chosen, preset_detected=preset is None, header=header)
    aliases = _aliases(kind, chosen)
    explicit: dict[str, str] = {}
    for column, target in (mapping or {}).items():
        if header_key(column) not in {header_key(cell) for cell in header}:
            raise ImportRefused(
                f"--map names a column {column!r} the file does not have; its columns are: "
                + ", ".join(repr(cell) for cell in header)
            )
        if target not in (*FIELDS[kind], "", "-"):
            raise ImportRefused(
                f"--map {column!r}={target!r}: {target!r} is not a {kind} field; fields are: "
                f"{', '.join(FIELDS[kind])} (or '-' to ignore the column)."
            )
        explicit[header_key(column)] = target
    for index, cell in enumerate(header):
        key = header_key(cell)
        base, currency = _without_currency(key)
        target = explicit[key] if key in explicit else aliases.get(key) or aliases.get(base)
        if target in (None, "", "-") or target in layout.columns:
            if cell:
                layout.ignored.append(cell)
            continue
        layout.columns[target] = index
        if target == "amount" and currency:
            layout.defaults["currency"] = currency
    for group in REQUIRED[kind]:
        if not any(target in layout.columns for target in group):
            wanted = " or ".join(
                f"{target} ({', '.join(repr(n) for n in column_names(kind, chosen, target)[:3])})"
                for target in group
            )
            raise ImportRefused(
                f"The file has no column for {wanted}, which a {kind} import needs. "
                f'Its columns are: {", ".join(repr(cell) for cell in header)}. '
                f'Map one with --map "Column Name={group[0]}".'
            )
    return layout


def header_cells_needed(kind: str) -> int:
    """Return how many columns a header of this kind has at least: one per required field.

    A line with fewer cells above the header is a report's title, skipped while looking for it.
    """
    return len(REQUIRED[kind])


def _is_summary_line(cells: list[str]) -> bool:
    first = next((cell.strip().lower() for cell in cells if cell.strip()), "")
    return first == "total" or first.startswith(("total:", "©", "(c)"))


def without_summary_lines(
    records: Iterator[tuple[int, list[str]]], layout: Layout
) -> Iterator[tuple[int, list[str]]]:
    """Drop an ad report's total and copyright lines; other files' records pass untouched."""
    if layout.preset not in AD_PRESETS:
        return records
    return (record for record in records if not _is_summary_line(record[1]))
