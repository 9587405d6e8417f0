"""Cost reports as Google Ads, Microsoft Advertising, Meta and LinkedIn download them."""

import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest

from accord.capture.models import CostEntry
from accord.capture.tests.factories import CampaignFactory
from accord.imports.presets import detect_preset, resolve_layout
from accord.imports.reading import ImportRefused
from accord.imports.services import import_file
from accord.imports.tests.conftest import FILES
from accord.imports.tests.test_cli import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def spring(db):
    return CampaignFactory(name="Spring Search", utm_campaign="spring-search-2026")


def imported_costs() -> list[tuple]:
    return list(
        CostEntry.objects.order_by("date", "id").values_list("date", "amount", "currency", "impressions", "clicks")
    )


def errors(summary) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.message) for error in summary.errors]


def test_a_google_ads_report_skips_its_title_and_total_lines_and_rejects_an_unknown_campaign(spring, tmp_path):
    path = shutil.copy(FILES / "google_ads_campaigns.csv", tmp_path)

    summary = import_file(kind="costs", path=path, preset="google-ads")

    assert (summary.rows, summary.created, summary.rejected) == (3, 2, 1)
    assert imported_costs() == [
        (dt.date(2026, 3, 1), Decimal("1234.56"), "USD", 48210, 912),
        (dt.date(2026, 3, 2), Decimal("980.00"), "USD", 40002, 877),
    ]
    assert errors(summary) == [
        (6, "Campaign", "unknown campaign 'Brand Defence': no campaign has this name or UTM code")
    ]
    assert summary.ignored_columns == ["Avg. CPC", "Interactions"]


def test_a_microsoft_advertising_report_skips_its_preamble_total_and_copyright_lines(spring, tmp_path):
    path = shutil.copy(FILES / "microsoft_ads_campaigns.csv", tmp_path)

    summary = import_file(kind="costs", path=path, preset="microsoft-ads")

    assert (summary.rows, summary.created, summary.rejected) == (2, 2, 0)
    assert imported_costs() == [
        (dt.date(2026, 3, 1), Decimal("412.10"), "EUR", 12004, 301),
        (dt.date(2026, 3, 2), Decimal("398.75"), "EUR", 11870, 288),
    ]


def test_a_meta_report_takes_the_currency_from_the_spend_columns_name_and_reads_decimal_commas(spring, tmp_path):
    path = shutil.copy(FILES / "meta_ads_campaigns.csv", tmp_path)

    summary = import_file(kind="costs", path=path, preset="meta-ads")

    assert (summary.created, summary.rejected) == (2, 1)
    assert imported_costs() == [
        (dt.date(2026, 3, 1), Decimal("1204.50"), "EUR", 15430, 240),
        (dt.date(2026, 3, 2), Decimal("987.30"), "EUR", 14002, None),
    ]
    assert errors(summary) == [
        (4, "Campaign name", "unknown campaign 'Autumn Launch': no campaign has this name or UTM code")
    ]


def test_a_linkedin_report_in_utf16_with_tabs_title_lines_and_us_dates_imports(spring, tmp_path):
    path = shutil.copy(FILES / "linkedin_ads_campaigns.csv", tmp_path)

    summary = import_file(kind="costs", path=path, preset="linkedin-ads")

    assert (summary.created, summary.rejected, summary.delimiter) == (2, 0, "\t")
    assert imported_costs() == [
        (dt.date(2026, 3, 1), Decimal("310.40"), "GBP", 5120, 44),
        (dt.date(2026, 3, 2), Decimal("295.00"), "GBP", 4998, 39),
    ]


@pytest.mark.parametrize(
    ("name", "preset"),
    [
        ("google_ads_campaigns.csv", "google-ads"),
        ("microsoft_ads_campaigns.csv", "microsoft-ads"),
        ("meta_ads_campaigns.csv", "meta-ads"),
        ("linkedin_ads_campaigns.csv", "linkedin-ads"),
    ],
)
def test_each_platforms_report_is_recognised_without_naming_the_preset(spring, tmp_path, name, preset):
    path = shutil.copy(FILES / name, tmp_path)

    summary = import_file(kind="costs", path=path)

    assert (summary.preset, summary.preset_detected) == (preset, True)
    assert summary.created == 2


def test_a_plain_costs_sheet_with_a_spend_column_stays_generic():
    assert detect_preset(["Date", "Campaign", "Spend", "Currency"], "costs") == "generic"


def test_an_importing_a_second_report_of_the_same_days_changes_nothing(spring, tmp_path):
    path = shutil.copy(FILES / "google_ads_campaigns.csv", tmp_path)
    import_file(kind="costs", path=path, preset="google-ads")

    again = import_file(kind="costs", path=path, preset="google-ads")

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert CostEntry.objects.count() == 2


def test_an_ad_preset_for_anything_but_costs_is_refused():
    with pytest.raises(ImportRefused, match="Google Ads preset reads cost reports"):
        resolve_layout(kind="contacts", header=["Email"], preset="google-ads", mapping=None)


def test_a_contacts_file_whose_first_line_has_one_column_keeps_it_as_the_header(csv_file):
    path = csv_file("Email\nann@example.org\n")

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.rejected) == (1, 0)


def test_accord_import_costs_takes_an_ad_preset(spring, tmp_path, capsys):
    path = shutil.copy(FILES / "google_ads_campaigns.csv", tmp_path)

    code = run("import", "costs", str(path), "--preset", "google-ads", "--json")

    assert code == 1
    assert json.loads(capsys.readouterr().out)["created"] == 2
