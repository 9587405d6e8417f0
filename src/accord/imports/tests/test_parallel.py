"""Reading and checking in a child process gives exactly what the in-process reader gives."""

import multiprocessing

import pytest

from accord.capture.models import Contact
from accord.imports.engine import (
    Batch,
    Prepared,
    Rejection,
    pack_batch,
    row_cells,
    run_import,
    unpack_batch,
)
from accord.imports.parallel import in_child_process
from accord.imports.reading import ImportRefused
from accord.imports.services import IMPORTERS
from accord.lifecycle.models import StageTransition

pytestmark = pytest.mark.django_db

FILE = (
    "Email,First Name,Last Name,Lifecycle Stage,Create Date\n"
    "ann@example.org,Ann,Archer,lead,2025-01-02\n"
    "not-an-email,Bob,Baker,lead,\n"
    "cy@example.org,Cy,\"Cole\x1fCo\",customer,\n"
    "ann@example.org,Ann,Archer,lead,2025-01-02\n"
    "ann@example.org,Ann,Other,lead,2025-01-02\n"
    "di@example.org,Di,,hot,\n"
)


def summary_of(summary):
    return (summary.created, summary.updated, summary.unchanged, summary.rejected,
            [(e.row, e.column, e.message) for e in summary.errors])


def test_a_file_read_in_a_child_process_imports_exactly_as_one_read_in_a_thread(csv_file, tmp_path):
    path = csv_file(FILE)

    in_thread = run_import(importers=IMPORTERS, kind="contacts", path=path, dry_run=True,
                           child_process=False, chunk_rows=2)
    in_child = run_import(importers=IMPORTERS, kind="contacts", path=path,
                          child_process=True, chunk_rows=2, report_path=tmp_path / "errors.csv")

    assert summary_of(in_child) == summary_of(in_thread)
    assert summary_of(in_child)[:4] == (2, 0, 1, 3)
    assert sorted(Contact.objects.values_list("email", "last_name")) == [
        ("ann@example.org", "Archer"), ("cy@example.org", "Cole\x1fCo"),
    ]
    assert StageTransition.objects.count() == 2
    # The error report carries each rejected row's own cells, also when they crossed the pipe.
    report = (tmp_path / "errors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[1:] == [
        "3,Email,'not-an-email' is not a valid email address,not-an-email,Bob,Baker,lead,",
        "6,Email,same contact as row 2 (email ann@example.org) with different values; keep one "
        "row per record and import it again,ann@example.org,Ann,Other,lead,2025-01-02",
        "7,Lifecycle Stage,\"unknown lifecycle stage 'hot'; accepted: subscriber, lead, mql, sal, "
        "sql, opportunity, customer, nurture, disqualified, or HubSpot's stages (subscriber … "
        "marketingqualifiedlead … evangelist, other)\",di@example.org,Di,,hot,",
    ]


def test_a_byte_the_child_cannot_decode_refuses_the_import_in_the_parent_naming_the_line(csv_file):
    rows = "".join(f"person{n}@example.org,Person\n" for n in range(2_000))
    path = csv_file("Email,First Name\n" + rows)
    path.write_bytes(path.read_bytes() + b"bad\xff@example.org,Bad\n")

    with pytest.raises(ImportRefused) as in_thread:
        run_import(importers=IMPORTERS, kind="contacts", path=path, encoding="utf-8",
                   child_process=False, chunk_rows=500, dry_run=True)
    with pytest.raises(ImportRefused) as in_child:
        run_import(importers=IMPORTERS, kind="contacts", path=path, encoding="utf-8",
                   child_process=True, chunk_rows=500)

    assert str(in_child.value) == str(in_thread.value)
    assert str(in_child.value).startswith("Near line 1949 the file is not utf-8 (invalid start byte)")
    # The chunks read before the decoder met the byte were committed, as in a thread.
    assert Contact.objects.count() == 1_500


def test_a_batch_survives_packing_for_the_pipe_with_absent_values_and_odd_cells():
    batch = Batch(
        rows=[Prepared(2, ["a@x.org", "A"], {"email": "a@x.org", "first_name": "A"}),
              Prepared(3, ["b@x.org", "B\x1fC"], {"email": "b@x.org"}),
              Prepared(5, [], {})],
        rejected=[Rejection(4, ["bad", ""], [("Email", "'bad' is not a valid email address")])],
        repeats=1, records=4, bytes_read=120,
    )

    received = unpack_batch(pack_batch(batch))

    assert [(item.row, row_cells(item.cells), item.values) for item in received.rows] == [
        (item.row, item.cells, item.values) for item in batch.rows
    ]
    assert (received.rejected, received.repeats, received.records, received.bytes_read) == (
        batch.rejected, 1, 4, 120,
    )


def test_the_child_process_is_gone_when_the_parent_stops_reading_early():
    def numbers():
        yield from range(1_000_000)

    items = in_child_process(numbers)
    assert next(items) == 0
    items.close()

    assert multiprocessing.active_children() == []
