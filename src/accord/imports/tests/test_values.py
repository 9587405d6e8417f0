import datetime as dt
from decimal import Decimal

import pytest

from accord.capture.freemail import is_free_mail
from accord.imports import values, vocabularies
from accord.imports.presets import detect_preset
from accord.imports.reading import detect_encoding, sniff_delimiter


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-14", dt.datetime(2024, 3, 14, tzinfo=dt.UTC)),
        ("2024-03-14 10:30", dt.datetime(2024, 3, 14, 10, 30, tzinfo=dt.UTC)),
        ("2024-03-14T10:30:00.000Z", dt.datetime(2024, 3, 14, 10, 30, tzinfo=dt.UTC)),
        ("2024-03-14T10:30:00.000+0000", dt.datetime(2024, 3, 14, 10, 30, tzinfo=dt.UTC)),
        ("3/14/2024", dt.datetime(2024, 3, 14, tzinfo=dt.UTC)),
        ("3/14/2024 2:05 PM", dt.datetime(2024, 3, 14, 14, 5, tzinfo=dt.UTC)),
        ("12/1/2024 12:15 AM", dt.datetime(2024, 12, 1, 0, 15, tzinfo=dt.UTC)),
        ("14.03.2024", dt.datetime(2024, 3, 14, tzinfo=dt.UTC)),
        ("14.03.2024 09:05", dt.datetime(2024, 3, 14, 9, 5, tzinfo=dt.UTC)),
    ],
)
def test_dates_in_iso_us_european_hubspot_and_salesforce_formats_are_read(raw, expected):
    assert values.parse_datetime(raw, dt.UTC) == expected


@pytest.mark.parametrize("raw", ["14/03/2024", "2024-13-01", "yesterday", "31.02.2024", "13/45/2024 1:00 PM"])
def test_an_unreadable_date_is_refused_naming_the_accepted_formats(raw):
    with pytest.raises(ValueError, match="accepted: YYYY-MM-DD") as error:
        values.parse_datetime(raw, dt.UTC)
    assert "M/D/YYYY" in str(error.value)
    assert "D.M.YYYY" in str(error.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1234.5", "1234.50"), ("$1,234.50", "1234.50"), ("1.234,50 €", "1234.50"), ("12,5", "12.50"),
     ("1,234", "1234.00"), ("0", "0.00"), ("EUR 99", "99.00")],
)
def test_amounts_read_with_either_decimal_separator(raw, expected):
    assert values.parse_amount(raw) == Decimal(expected)


def test_a_negative_amount_is_refused():
    with pytest.raises(ValueError, match="negative"):
        values.parse_amount("-10.00")


def test_a_non_numeric_amount_is_refused():
    with pytest.raises(ValueError, match="is not a number"):
        values.parse_amount("ten dollars")


def test_emails_are_stripped_and_lower_cased_and_typos_refused():
    assert values.parse_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    for typo in ["ada@", "ada@example", "ada lovelace@example.com", "ada@@example.com", "ada@example.com."]:
        with pytest.raises(ValueError, match="not a valid email"):
            values.parse_email(typo)


@pytest.mark.parametrize(
    "domain", ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de", "gmx.net",
               "web.de", "yahoo.co.uk", "hotmail.fr"],
)
def test_free_mail_domains_are_recognised(domain):
    assert is_free_mail(domain)


def test_company_domains_are_not_free_mail():
    assert not is_free_mail("yahoo-inc.com")
    assert not is_free_mail("analytical-engines.example")
    assert values.email_domain("ada@gmail.com") is None
    assert values.email_domain("ada@analytical-engines.example") == "analytical-engines.example"


def test_hubspot_and_salesforce_vocabularies_map_onto_accords():
    assert vocabularies.STAGES[values.word_key("marketingqualifiedlead")] == "mql"
    assert vocabularies.STAGES[values.word_key("Marketing Qualified Lead")] == "mql"
    assert vocabularies.STAGES[values.word_key("evangelist")] == "customer"
    assert vocabularies.CHANNELS[values.word_key("ORGANIC_SEARCH")] == "content_seo"
    assert vocabularies.CHANNELS[values.word_key("Trade Show")] == "event"
    assert vocabularies.LEAD_STATUSES[values.word_key("Closed - Not Converted")] == "disqualified"
    assert vocabularies.country("United Kingdom") == "GB"
    assert vocabularies.size_band("1,200") == "1001-5000"


def test_the_encoding_is_decided_from_a_byte_order_mark_or_else_a_sample():
    assert detect_encoding("Zoë".encode("utf-8-sig")).codec == "utf-8-sig"
    assert detect_encoding("Zoë".encode("utf-16")).codec == "utf-16"
    assert detect_encoding("Zoë".encode()).codec == "utf-8"
    assert detect_encoding("Zoë".encode("cp1252")).codec == "cp1252"


def test_the_delimiter_is_sniffed_from_the_header_outside_quotes():
    assert sniff_delimiter("Email;First Name;Last Name\n") == ";"
    assert sniff_delimiter("Email\tFirst Name\n") == "\t"
    assert sniff_delimiter('"Name; with semicolon",Email,Phone\n') == ","


def test_the_preset_is_detected_from_export_column_names():
    assert detect_preset(["Record ID", "Email", "Lifecycle Stage", "Contact owner"]) == "hubspot"
    assert detect_preset(["Lead ID", "Email", "Lead Owner", "Created Date"]) == "salesforce"
    assert detect_preset(["email", "first_name"]) == "generic"
