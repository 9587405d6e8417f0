"""The contacts fast path gives exactly what the per-row path gives, on the same file."""

import datetime as dt

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Account, Contact
from accord.capture.tests.factories import AccountFactory, ContactFactory
from accord.imports.services import import_file
from accord.lifecycle.models import LeadAssignment, StageTransition

HEADER = "Record ID,Email,First Name,Last Name,Company Name,Website URL,Lifecycle Stage,Lead Status,Contact owner,Original Source,Create Date,Country/Region,Industry,Number of Employees,Phone Number\n"
ROWS = [
    # Clean rows: new people, at companies by name, by website, by work email, or none.
    "1001,Ann@Acme.example,Ann,Lee,Acme Corp,,lead,,mara@northwind.example,PAID_SEARCH,2024-03-01 10:00,US,Technology,240,+1 555\n",
    "1002,bob@acme.example,Bob,Ng,,,marketingqualifiedlead,,,ORGANIC_SEARCH,2024-03-02,Germany,,,\n",
    "1003,cy@gmail.com,Cy,Oh,Cy Bakery,,,Working - Contacted,Sam Rivera,OTHER_CAMPAIGNS,2024-03-03 09:15:30,United Kingdom,Retail,12,\n",
    "1004,dee@beta.example,Dee,Park,Beta GmbH,https://www.beta.example/about,customer,,,REFERRALS,,FR,Banking,\"1,200\",\n",
    "1005,eve@gamma.example, Eve ,Quinn,Acme Corp,,evangelist,,mara@northwind.example,,2024-03-05 23:59,n/a,,,\n",
    # A row spanning two lines, and a blank line: the rows after it keep their numbers.
    '1006,fay@delta.example,"Fay\nMarie",Roe,Delta,,lead,,,,2024-03-06,US,,,\n',
    "\n",
    # Bad rows: each error the per-row path reports.
    "1007,gus@@acme.example,Gus,Sun,,,lead,,,,,,,,\n",
    "1008,hal@acme.example,Hal,Tan,,,hot,,,,,,,,\n",
    "1009,ida@acme.example,Ida,Uhl,,,lead,,nobody@nowhere.example,,,,,,\n",
    "1010,jo@acme.example,Jo,Vu,,,lead,,,,31/12/2024,,,,\n",
    "1011,kim@acme.example," + "K" * 120 + ",Wu,,,lead,,,,,,,,\n",
    "1012,lu@acme.example,Lu,Xi,,,lead,,,,,Narnia,,,\n",
    ",,Nobody,Neither,,,lead,,,,,,,,\n",
    # Dates the fast path leaves to the per-row path.
    "1013,mo@acme.example,Mo,Yi,,,lead,,,,2024-03-07T08:00:00Z,,,,\n",
    "1014,ned@acme.example,Ned,Zo,,,lead,,,,3/8/2024 2:30 PM,,,,\n",
    # The same person twice: identical (unchanged), then different (rejected).
    "1015,ola@epsilon.example,Ola,Ash,Epsilon,,lead,,,,2024-03-09,,,,\n",
    "1015,ola@epsilon.example,Ola,Ash,Epsilon,,lead,,,,2024-03-09,,,,\n",
    "1016,ola@epsilon.example,Ola,Ashby,Epsilon,,lead,,,,2024-03-09,,,,\n",
    # Stored contacts: one unchanged, one whose stage moves, one gaining an external id,
    # and an email and external id belonging to two different contacts.
    "2001,stored.same@acme.example,Stan,Same,,,lead,,,,,,,,\n",
    "2002,stored.moves@acme.example,Mia,Moves,,,sql,,sam.rivera@northwind.example,,,,,,\n",
    "2003,stored.noid@acme.example,Nat,Noid,,,,,,,,,,,\n",
    "2004,stored.other@acme.example,Oz,Other,,,,,,,,,,,\n",
]


def given_the_stored_state():
    UserFactory(username="mara", email="mara@northwind.example", first_name="Mara", last_name="Quist")
    UserFactory(username="sam", email="sam.rivera@northwind.example", first_name="Sam", last_name="Rivera")
    AccountFactory(name="Beta GmbH", domain="beta.example")
    ContactFactory(email="stored.same@acme.example", external_id="2001", first_name="Stan", last_name="Same",
                   lifecycle_stage="lead", account=None)
    ContactFactory(email="stored.moves@acme.example", external_id="2002", first_name="Mia",
                   last_name="Moves", lifecycle_stage="lead", account=None)
    ContactFactory(email="stored.noid@acme.example", external_id="", first_name="Nat", last_name="Noid",
                   account=None)
    ContactFactory(email="someone.else@acme.example", external_id="2004", first_name="Sol", last_name="Else",
                   account=None)
    ContactFactory(email="stored.other@acme.example", external_id="", first_name="Oz", last_name="Other",
                   account=None)
    Contact.objects.update(created_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))


def forget_everything():
    for model in (LeadAssignment, StageTransition, Contact, Account):
        model.objects.all().delete()
    from django.contrib.auth import get_user_model

    get_user_model().objects.all().delete()


def snapshot(since: dt.datetime):
    """Return what an import left, without ids, with this run's 'now' written as 'now'."""

    def when(value):
        return "now" if value is not None and value >= since else value

    contacts = sorted(
        (c.email, c.external_id, c.first_name, c.last_name, c.phone, c.title, c.account.name if c.account else None,
         c.owner.username if c.owner else None, c.lifecycle_stage, when(c.stage_changed_at), c.lead_source,
         c.country, c.region, when(c.created_at))
        for c in Contact.objects.select_related("account", "owner")
    )
    accounts = sorted(
        (a.name, a.domain, a.industry, a.size_band, a.country, a.region) for a in Account.objects.all()
    )
    transitions = sorted(
        (t.contact.email, t.from_stage, t.to_stage, when(t.occurred_at), t.by_rule, t.reason)
        for t in StageTransition.objects.select_related("contact")
    )
    assignments = sorted(
        (a.contact.email, a.owner.username, when(a.assigned_at), a.rule, a.reason)
        for a in LeadAssignment.objects.select_related("contact", "owner")
    )
    return contacts, accounts, transitions, assignments


def run(path, *, fast_path):
    given_the_stored_state()
    since = timezone.now()
    summary = import_file(kind="contacts", path=path, fast_path=fast_path, report_path=path.with_suffix(f".{fast_path}.csv"))
    state = snapshot(since)
    report = path.with_suffix(f".{fast_path}.csv").read_text(encoding="utf-8-sig")
    again = import_file(kind="contacts", path=path, fast_path=fast_path)
    forget_everything()
    return summary, state, report, again


@pytest.mark.django_db
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_fast_path_lands_the_same_contacts_history_accounts_and_errors_as_the_per_row_path(
    csv_file, delimiter
):
    text = HEADER + "".join(ROWS)
    if delimiter == ";":
        text = text.replace('"1,200"', "1200").replace(",", ";")
    path = csv_file(text)

    fast, fast_state, fast_report, fast_again = run(path, fast_path=True)
    slow, slow_state, slow_report, slow_again = run(path, fast_path=False)

    assert fast.as_json() == slow.as_json()
    # Created: six clean rows, the two dates left to the per-row path, the first Ola.
    # Updated: a stage move, a gained external id, and Stan, now linked to Acme by his work
    # email. Unchanged: Ola's identical repeat.
    assert (fast.created, fast.updated, fast.unchanged, fast.rejected) == (9, 3, 1, 9)
    assert fast_state == slow_state
    assert fast_report == slow_report
    assert fast_again.as_json() == slow_again.as_json()
    assert (fast_again.created, fast_again.updated, fast_again.unchanged, fast_again.rejected) == (0, 0, 13, 9)
    # The clean new rows took the fast path; the rest went row by row.
    assert (fast.phases.fast_rows, fast.phases.per_row_rows) == (6, 16)
    assert slow.phases is None


@pytest.mark.django_db
def test_a_file_polars_cannot_read_as_the_per_row_reader_does_takes_the_per_row_path(csv_file):
    # A stray quote inside an unquoted cell: csv reads it literally, polars refuses the block.
    path = csv_file('Email,First Name\nann@acme.example,An"n\nbob@acme.example,Bob\n')

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.rejected, summary.phases) == (2, 0, None)
    assert Contact.objects.get(email="ann@acme.example").first_name == 'An"n'


@pytest.mark.django_db
def test_a_windows_1252_file_takes_the_per_row_path_and_lands_its_accents(csv_file):
    path = csv_file("Email,First Name\nzoe@acme.example,Zoë\n", encoding="cp1252")

    summary = import_file(kind="contacts", path=path)

    assert (summary.created, summary.phases) == (1, None)
    assert Contact.objects.get().first_name == "Zoë"
