import csv

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Account, Contact
from accord.capture.tests.factories import AccountFactory, ContactFactory
from accord.imports import engine
from accord.imports.reading import ImportRefused
from accord.imports.services import import_file
from accord.imports.tests.conftest import FILES
from accord.lifecycle.models import LeadAssignment, StageTransition

pytestmark = pytest.mark.django_db

NAMES = "Email,First Name,Last Name\nzoe@example.org,Zoë,Ångström\njose@example.org,José,Muñoz\n"


def names_in_db():
    return sorted(Contact.objects.values_list("first_name", "last_name"))


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252"),
     ("latin-1", "cp1252")],
)
def test_files_in_utf8_with_or_without_bom_utf16_and_latin1_import_their_accents_intact(
    csv_file, encoding, detected
):
    path = csv_file(NAMES, encoding=encoding)

    summary = import_file(kind="contacts", path=path)

    assert summary.created == 2
    assert summary.encoding.startswith(detected)
    assert names_in_db() == [("José", "Muñoz"), ("Zoë", "Ångström")]


def test_an_encoding_given_on_the_command_line_overrides_detection(csv_file):
    path = csv_file(NAMES, encoding="cp1252")

    summary = import_file(kind="contacts", path=path, encoding="cp1252")

    assert summary.encoding == "cp1252 (given with --encoding)"
    assert names_in_db() == [("José", "Muñoz"), ("Zoë", "Ångström")]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_sniffed_from_the_header(csv_file, delimiter):
    path = csv_file(NAMES.replace(",", delimiter))

    summary = import_file(kind="contacts", path=path)

    assert (summary.delimiter, summary.created) == (delimiter, 2)
    assert names_in_db() == [("José", "Muñoz"), ("Zoë", "Ångström")]


def test_row_numbers_count_physical_lines_when_quoted_fields_hold_newlines(csv_file):
    path = csv_file(
        'Email,First Name,Notes\n'
        'a@example.org,Ann,"line one\nline two\nline three"\n'
        'not-an-email,Bob,\n'
        'c@example.org,"Cy\nCyrus",\n'
        'also bad,Di,\n'
    )

    summary = import_file(kind="contacts", path=path)

    assert [(e.row, e.column) for e in summary.errors] == [(5, "Email"), (8, "Email")]
    assert summary.created == 2


def test_extra_columns_are_ignored_and_listed_and_missing_optional_columns_leave_fields_alone(csv_file):
    ContactFactory(email="ann@example.org", first_name="Ann", title="CFO")
    path = csv_file("Email,Favourite Colour,Last Name,Shoe Size\nann@example.org,blue,Archer,42\n")

    summary = import_file(kind="contacts", path=path)

    assert summary.ignored_columns == ["Favourite Colour", "Shoe Size"]
    assert summary.updated == 1
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.title) == ("Ann", "Archer", "CFO")


def test_a_file_without_an_email_or_external_id_column_is_refused_naming_the_column(csv_file):
    path = csv_file("First Name,Last Name\nAnn,Archer\n")

    with pytest.raises(ImportRefused) as refused:
        import_file(kind="contacts", path=path)

    assert "no column for email ('Email', 'E-mail', 'Email Address') or external_id" in refused.value.message
    assert "--map" in refused.value.message
    assert Contact.objects.count() == 0


def test_a_mapping_names_a_column_the_presets_do_not_know(csv_file):
    path = csv_file("Correo,Nombre\nana@example.org,Ana\n")

    summary = import_file(kind="contacts", path=path, mapping=["Correo=email", "Nombre=first_name"])

    assert summary.created == 1
    assert Contact.objects.get().first_name == "Ana"


def test_an_invalid_email_rejects_its_row_with_row_column_and_reason_and_good_rows_land(csv_file):
    path = csv_file("Email,First Name\nann@example.org,Ann\nbob@@example.org,Bob\n")

    summary = import_file(kind="contacts", path=path)

    assert summary.as_json() == {
        "created": 1, "updated": 0, "unchanged": 0, "rejected": 1,
        "errors": [{"row": 3, "column": "Email", "message": "'bob@@example.org' is not a valid email address"}],
    }
    assert list(Contact.objects.values_list("email", flat=True)) == ["ann@example.org"]


def test_an_unparseable_date_rejects_its_row_listing_the_accepted_formats(csv_file):
    path = csv_file("Email,Create Date\nann@example.org,31/12/2024\n")

    summary = import_file(kind="contacts", path=path)

    (error,) = summary.errors
    assert (error.row, error.column, summary.rejected) == (2, "Create Date", 1)
    assert "'31/12/2024' is not a date" in error.message
    assert "M/D/YYYY" in error.message
    assert Contact.objects.count() == 0


def test_an_unknown_owner_rejects_its_row(csv_file, mara):
    path = csv_file("Email,Contact owner\nann@example.org,Mara Quist\nbob@example.org,nobody@northwind.example\n")

    summary = import_file(kind="contacts", path=path)

    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (3, "Contact owner", "unknown owner 'nobody@northwind.example': no user has this email, username or name")
    ]
    assert Contact.objects.get().owner == mara


def test_an_unknown_stage_rejects_its_row_listing_the_accepted_stages(csv_file):
    path = csv_file("Email,Lifecycle Stage\nann@example.org,hot prospect\n")

    summary = import_file(kind="contacts", path=path)

    (error,) = summary.errors
    assert error.message.startswith("unknown lifecycle stage 'hot prospect'; accepted: subscriber, lead, mql, sal")
    assert Contact.objects.count() == 0


def test_an_unknown_source_rejects_its_row_listing_the_accepted_channels(csv_file):
    path = csv_file("Email,Original Source\nann@example.org,Carrier pigeon\n")

    summary = import_file(kind="contacts", path=path)

    assert "accepted: paid_search, paid_social" in summary.errors[0].message


def test_the_same_person_twice_with_different_values_rejects_the_later_row_naming_the_first(csv_file):
    path = csv_file(
        "Email,First Name\nann@example.org,Ann\nbob@example.org,Bob\nANN@example.org ,Annie\n"
    )

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.rejected) == (2, 1)
    (error,) = summary.errors
    assert (error.row, error.column) == (4, "Email")
    assert "same contact as row 2" in error.message
    assert Contact.objects.get(email="ann@example.org").first_name == "Ann"


def test_the_same_person_twice_with_the_same_values_counts_the_repeat_as_unchanged(csv_file):
    path = csv_file("Email,First Name\nann@example.org,Ann\nann@example.org,Ann\n")

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.unchanged, summary.rejected) == (1, 1, 0)


def test_a_repeat_in_a_later_chunk_is_caught_too(csv_file, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    path = csv_file("Email,First Name\nann@example.org,Ann\nb@example.org,B\nc@example.org,C\nann@example.org,Anna\n")

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.rejected) == (3, 1)
    assert "same contact as row 2" in summary.errors[0].message


def test_rejected_rows_are_written_to_an_error_report_with_their_original_values(csv_file):
    path = csv_file("Email,First Name\nann@example.org,Ann\nnope,Bob\n")

    summary = import_file(kind="contacts", path=path)

    with open(summary.error_report, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["row", "column", "message", "Email", "First Name"],
        ["3", "Email", "'nope' is not a valid email address", "nope", "Bob"],
    ]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(mara, sam):
    path = FILES / "hubspot_contacts.csv"
    first = import_file(kind="contacts", path=path)
    transitions, assignments = StageTransition.objects.count(), LeadAssignment.objects.count()
    stamps = dict(Contact.objects.values_list("email", "updated_at"))

    second = import_file(kind="contacts", path=path)

    assert (first.created, first.rejected) == (5, 0)
    assert second.as_json() == {"created": 0, "updated": 0, "unchanged": 5, "rejected": 0, "errors": []}
    assert (StageTransition.objects.count(), LeadAssignment.objects.count()) == (transitions, assignments)
    assert dict(Contact.objects.values_list("email", "updated_at")) == stamps


def test_an_import_killed_half_way_and_run_again_finishes_with_no_duplicates_and_nothing_lost(
    csv_file, each_path
):
    lines = [f"p{n}@company{n % 4}.example,Person {n},Company {n % 4}" for n in range(10)]
    path = csv_file("Email,First Name,Company\n" + "\n".join(lines) + "\n")
    calls = {"n": 0}

    def dies_in_the_third_chunk(apply):
        calls["n"] += 1
        outcome = apply()
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return outcome

    restore = each_path(dies_in_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        import_file(kind="contacts", path=path, **each_path.kwargs)
    written = Contact.objects.count()
    assert 0 < written < 10
    restore()

    summary = import_file(kind="contacts", path=path, **each_path.kwargs)

    assert (summary.created, summary.unchanged) == (10 - written, written)
    assert sorted(Contact.objects.values_list("email", flat=True)) == sorted(
        line.split(",")[0] for line in lines
    )
    assert Account.objects.count() == 4
    assert StageTransition.objects.count() == 10


def test_a_dry_run_reports_what_would_change_and_writes_nothing(mara):
    ContactFactory(email="ada@analytical-engines.example", first_name="Ada", lifecycle_stage="lead")

    summary = import_file(kind="contacts", path=FILES / "hubspot_contacts.csv", dry_run=True)

    assert (summary.created, summary.updated, summary.rejected) == (3, 1, 1)
    assert Contact.objects.count() == 1
    assert Contact.objects.get().lifecycle_stage == "lead"
    assert (Account.objects.count(), StageTransition.objects.count(), LeadAssignment.objects.count()) == (0, 0, 0)


def test_the_hubspot_preset_maps_stage_owner_source_and_company(mara, sam):
    summary = import_file(kind="contacts", path=FILES / "hubspot_contacts.csv")

    assert (summary.preset, summary.preset_detected, summary.created) == ("hubspot", True, 5)
    assert summary.ignored_columns == ["Last Activity Date", "Marketing contact status"]
    ada = Contact.objects.get(email="ada@analytical-engines.example")
    assert (ada.external_id, ada.first_name, ada.title, ada.phone) == ("51001", "Ada", "CTO", "+44 20 7946 0000")
    assert (ada.lifecycle_stage, ada.owner, ada.lead_source) == ("mql", mara, "paid_search")
    assert (ada.account.name, ada.account.domain) == ("Analytical Engines Ltd", "analytical-engines.example")
    assert ada.created_at.isoformat() == "2024-01-15T10:30:00+00:00"
    katherine = Contact.objects.get(email="kjohnson@analytical-engines.example")
    assert katherine.account == ada.account
    grace = Contact.objects.get(email="grace.hopper@cobol.example")
    assert (grace.lifecycle_stage, grace.owner, grace.lead_source) == ("customer", sam, "referral")
    alan = Contact.objects.get(email="alan@bletchley.example")
    assert (alan.lifecycle_stage, alan.lead_source, alan.account) == ("subscriber", "", None)
    transition = StageTransition.objects.get(contact=ada)
    assert (transition.from_stage, transition.to_stage, transition.by_rule) == ("", "mql", "import")
    assert transition.reason == "Imported from hubspot_contacts.csv"
    assert ada.stage_changed_at == transition.occurred_at == ada.created_at
    assert LeadAssignment.objects.filter(contact=ada, owner=mara, rule="import").count() == 1


def test_the_salesforce_preset_maps_status_owner_source_company_and_its_size(mara, sam):
    summary = import_file(kind="contacts", path=FILES / "salesforce_leads.csv")

    assert (summary.preset, summary.created, summary.rejected) == ("salesforce", 4, 0)
    assert summary.ignored_columns == ["Rating"]
    hedy = Contact.objects.get(email="hedy@fhss.example")
    assert (hedy.external_id, hedy.title, hedy.lifecycle_stage) == ("00Q5g00000AbCdE1", "VP Engineering", "sal")
    assert (hedy.owner, hedy.lead_source, hedy.country, hedy.region) == (sam, "event", "US", "na")
    assert hedy.created_at.isoformat() == "2024-03-14T14:05:00+00:00"
    account = hedy.account
    assert (account.name, account.domain, account.industry, account.size_band, account.country) == (
        "Frequency Hopping Inc", "fhss.example", "software", "201-1000", "US"
    )
    statuses = dict(Contact.objects.values_list("last_name", "lifecycle_stage"))
    assert statuses == {"Lamarr": "sal", "Tesla": "lead", "Curie": "sql", "Franklin": "disqualified"}
    assert Contact.objects.get(last_name="Tesla").owner == mara


def test_free_mail_domains_never_create_or_match_an_account(csv_file):
    AccountFactory(name="Google", domain="gmail.com")
    path = csv_file(
        "Email,Company\nlinus@gmail.com,Linus Bakery\nmaya@yahoo.com,\nkai@web.de,\nada@analytical.example,\n"
    )

    summary = import_file(kind="contacts", path=path)

    assert summary.created == 4
    linus = Contact.objects.get(email="linus@gmail.com")
    assert (linus.account.name, linus.account.domain) == ("Linus Bakery", "")
    assert Contact.objects.filter(account__isnull=True).count() == 3
    assert sorted(Account.objects.values_list("name", flat=True)) == ["Google", "Linus Bakery"]


def test_a_work_email_links_the_contact_to_the_account_with_that_domain(csv_file):
    acme = AccountFactory(name="Acme", domain="acme.example")
    path = csv_file("Email\nwile@ACME.example\n")

    import_file(kind="contacts", path=path)

    assert Contact.objects.get().account == acme


def test_a_stage_change_on_re_import_records_one_transition_and_an_owner_change_one_assignment(
    csv_file, mara, sam
):
    path = csv_file("Email,Lifecycle Stage,Contact owner\nann@example.org,lead,mara\n", name="week1.csv")
    import_file(kind="contacts", path=path)
    later = csv_file("Email,Lifecycle Stage,Contact owner\nann@example.org,Sales Qualified Lead,sam\n", name="week2.csv")

    summary = import_file(kind="contacts", path=later, by=mara)

    ann = Contact.objects.get()
    assert summary.updated == 1
    assert (ann.lifecycle_stage, ann.owner) == ("sql", sam)
    moves = list(StageTransition.objects.values_list("from_stage", "to_stage", "reason", "by_user"))
    assert moves == [("", "lead", "Imported from week1.csv", None), ("lead", "sql", "Imported from week2.csv", mara.pk)]
    assert ann.stage_changed_at == StageTransition.objects.last().occurred_at
    assert list(LeadAssignment.objects.values_list("owner", "assigned_by")) == [(mara.pk, None), (sam.pk, mara.pk)]


def test_an_external_id_match_updates_the_email_and_an_email_match_keeps_the_existing_external_id(csv_file):
    ContactFactory(email="old@example.org", external_id="51001")
    ContactFactory(email="bob@example.org", external_id="SF-9")
    path = csv_file("Record ID,Email\n51001,new@example.org\n77,bob@example.org\n")

    summary = import_file(kind="contacts", path=path)

    assert summary.updated == 1
    assert summary.unchanged == 1
    assert sorted(Contact.objects.values_list("external_id", "email")) == [
        ("51001", "new@example.org"), ("SF-9", "bob@example.org")
    ]


def test_an_email_that_belongs_to_another_contact_than_the_external_id_is_rejected(csv_file):
    ContactFactory(email="ann@example.org", external_id="1")
    ContactFactory(email="bob@example.org", external_id="2")
    path = csv_file("Record ID,Email\n1,bob@example.org\n")

    summary = import_file(kind="contacts", path=path)

    assert summary.rejected == 1
    assert "belongs to another contact" in summary.errors[0].message


def test_an_empty_cell_never_blanks_a_stored_value(csv_file):
    ContactFactory(email="ann@example.org", first_name="Ann", title="CFO")
    path = csv_file("Email,First Name,Job Title\nann@example.org,,n/a\n")

    summary = import_file(kind="contacts", path=path)

    assert summary.unchanged == 1
    assert Contact.objects.values_list("first_name", "title").get() == ("Ann", "CFO")


def test_an_owner_named_by_a_full_name_two_users_share_is_rejected_as_ambiguous(csv_file):
    UserFactory(first_name="Alex", last_name="Kim")
    UserFactory(first_name="Alex", last_name="Kim")
    path = csv_file("Email,Owner\nann@example.org,Alex Kim\n")

    summary = import_file(kind="contacts", path=path)

    assert "names more than one user" in summary.errors[0].message


def test_a_row_with_two_bad_cells_lists_both_errors_in_column_order(csv_file):
    path = csv_file("Email,Lifecycle Stage,Create Date\nbob@@example.org,hot,someday\nann@example.org,lead,2024-03-01\n")

    summary = import_file(kind="contacts", path=path)

    assert [(e.row, e.column) for e in summary.errors] == [
        (2, "Email"), (2, "Lifecycle Stage"), (2, "Create Date"),
    ]
    assert (summary.created, summary.rejected) == (1, 1)


def test_a_row_shorter_than_the_header_reads_its_missing_cells_as_empty(csv_file):
    path = csv_file("Email,First Name,Job Title\nann@example.org,Ann\nbob@example.org,Bob,CTO\n")

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.rejected) == (2, 0)
    assert sorted(Contact.objects.values_list("email", "title")) == [
        ("ann@example.org", ""), ("bob@example.org", "CTO"),
    ]


def test_a_cell_longer_than_its_field_rejects_the_row_naming_the_length(csv_file):
    path = csv_file(f"Email,Job Title\nann@example.org,{'x' * 151}\nbob@example.org,CEO\n")

    summary = import_file(kind="contacts", path=path)

    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (2, "Job Title", "is 151 characters long; at most 150 fit"),
    ]
    assert list(Contact.objects.values_list("email", flat=True)) == ["bob@example.org"]


def test_the_same_external_id_twice_in_a_chunk_with_different_emails_rejects_the_later_row(csv_file):
    path = csv_file("Record ID,Email\n7,ann@example.org\n8,bob@example.org\n7,ann.new@example.org\n")

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.rejected) == (2, 1)
    assert summary.errors[0].row == 4
    assert "same contact as row 2 (external id 7)" in summary.errors[0].message
    assert Contact.objects.get(external_id="7").email == "ann@example.org"


def test_an_unknown_value_repeated_across_chunks_is_rejected_on_every_row(csv_file, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    path = csv_file("Email,Lifecycle Stage\na@example.org,hot\nb@example.org,lead\nc@example.org,hot\n")

    summary = import_file(kind="contacts", path=path)

    assert [(e.row, e.column) for e in summary.errors] == [(2, "Lifecycle Stage"), (4, "Lifecycle Stage")]
    assert list(Contact.objects.values_list("email", flat=True)) == ["b@example.org"]
