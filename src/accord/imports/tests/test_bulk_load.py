"""A large contacts file loads with the non-unique indexes built afterwards."""

import pytest
from django.db import IntegrityError, connection, transaction

from accord.capture.models import Contact
from accord.capture.tests.factories import ContactFactory
from accord.imports import contacts
from accord.imports.bulk import Bulk
from accord.imports.services import import_file
from accord.lifecycle.models import StageTransition

# Chunks commit for real here: the bulk load only runs outside a caller's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

MODELS = (Contact, StageTransition)
ROWS = "".join(f"p{n}@company{n % 3}.example,Person {n},Company {n % 3}\n" for n in range(12))


def index_names():
    with connection.cursor() as cursor:
        return {
            name
            for table in ("capture_contact", "lifecycle_stagetransition", "lifecycle_leadassignment")
            for name, details in connection.introspection.get_constraints(cursor, table).items()
            if details["index"]
        }


@pytest.fixture
def indexes_while_loading(each_path):
    """Record the indexes present when each chunk is applied."""
    seen = []

    def apply(apply):
        seen.append(index_names())
        return apply()

    each_path(apply)
    return seen


@pytest.fixture
def large(monkeypatch):
    """Treat any file as large, and as holding one row per byte."""
    monkeypatch.setattr(contacts, "BULK_LOAD_BYTES", 0)
    monkeypatch.setattr(contacts, "_ESTIMATED_ROW_BYTES", 1)


def test_a_large_file_loads_without_the_secondary_indexes_and_ends_with_every_index_back(
    csv_file, large, each_path, indexes_while_loading
):
    every_index = index_names()
    path = csv_file("Email,First Name,Company\n" + ROWS)

    summary = import_file(kind="contacts", path=path, **each_path.kwargs)

    assert summary.created == 12
    during = indexes_while_loading[0]
    assert {"contact_email_unique_ci", "contact_external_id_unique"} <= during
    assert "contact_owner_stage" not in during
    assert "transition_stage_time" not in during
    assert index_names() == every_index
    assert Contact.objects.count() == StageTransition.objects.count() == 12


def test_another_writer_cannot_add_a_second_contact_with_an_email_during_a_bulk_load(
    csv_file, large, each_path
):
    refused = []

    def apply_then_write_a_duplicate(apply):
        outcome = apply()
        try:
            with transaction.atomic():
                ContactFactory(email="P0@COMPANY0.example")
        except IntegrityError:
            refused.append(True)
        return outcome

    each_path(apply_then_write_a_duplicate)
    path = csv_file("Email,First Name,Company\n" + ROWS)

    import_file(kind="contacts", path=path, **each_path.kwargs)

    assert refused and set(refused) == {True}
    assert Contact.objects.filter(email__iexact="p0@company0.example").count() == 1


def test_a_small_file_into_a_larger_table_keeps_the_indexes(
    csv_file, monkeypatch, each_path, indexes_while_loading
):
    monkeypatch.setattr(contacts, "BULK_LOAD_BYTES", 0)
    ContactFactory.create_batch(3)
    path = csv_file("Email,First Name,Company\n" + ROWS)

    import_file(kind="contacts", path=path, **each_path.kwargs)

    assert "contact_owner_stage" in indexes_while_loading[0]


def test_indexes_a_killed_bulk_load_left_dropped_are_built_again_when_the_next_import_starts(
    csv_file, each_path, indexes_while_loading
):
    every_index = index_names()
    with connection.cursor() as cursor:
        cursor.execute('DROP INDEX "contact_owner_stage"')
        cursor.execute('DROP INDEX "transition_stage_time"')
    assert "contact_owner_stage" not in index_names()

    import_file(kind="contacts", path=csv_file("Email\nann@example.org\n"), **each_path.kwargs)

    assert indexes_while_loading[0] == every_index
    assert Bulk().restore(MODELS) == []


def test_a_contact_another_writer_adds_during_a_first_import_is_updated_not_duplicated(
    csv_file, large, each_path
):
    # Given an empty table (the fast path then matches no row to a stored contact) and another
    # writer that adds one of the file's people once the first chunk has committed
    added = []

    def another_writer(progress):
        if not added:
            added.append(ContactFactory(email="p9@company0.example", first_name="Other"))

    path = csv_file("Email,First Name,Company\n" + ROWS)

    # When the file is imported
    summary = import_file(kind="contacts", path=path, on_progress=another_writer, **each_path.kwargs)

    # Then that person is updated from the file, never added twice
    assert (summary.created, summary.updated, summary.rejected) == (11, 1, 0)
    assert Contact.objects.count() == 12
    assert Contact.objects.get(email__iexact="p9@company0.example").first_name == "Person 9"


def test_a_bulk_load_on_postgresql_drops_the_foreign_keys_and_ends_with_each_one_validated(
    csv_file, large, each_path
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's foreign keys are part of the table")
    every_key = foreign_keys()
    seen = []
    each_path(lambda apply: (seen.append(foreign_keys()), apply())[1])
    path = csv_file("Email,First Name,Company\n" + ROWS)

    import_file(kind="contacts", path=path, **each_path.kwargs)

    assert "lifecycle_stagetrans_contact_id_443211ab_fk_capture_c" not in seen[0]
    assert not any(name.startswith("capture_contact_") for name in seen[0])
    assert foreign_keys() == every_key
    assert all(every_key.values())


def test_foreign_keys_a_killed_bulk_load_left_dropped_or_unvalidated_are_restored_by_the_next_import(
    csv_file, each_path
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's foreign keys are part of the table")
    every_key = foreign_keys()
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE capture_contact DROP CONSTRAINT "capture_contact_owner_id_74685788_fk_accounts_user_id"')
        cursor.execute('ALTER TABLE lifecycle_stagetransition DROP CONSTRAINT "lifecycle_stagetrans_contact_id_443211ab_fk_capture_c"')
        cursor.execute(
            'ALTER TABLE lifecycle_stagetransition ADD CONSTRAINT "lifecycle_stagetrans_contact_id_443211ab_fk_capture_c"'
            ' FOREIGN KEY (contact_id) REFERENCES capture_contact (id) DEFERRABLE INITIALLY DEFERRED NOT VALID'
        )

    import_file(kind="contacts", path=csv_file("Email\nann@example.org\n"), **each_path.kwargs)

    assert foreign_keys() == every_key
    assert all(every_key.values())
    assert Bulk().restore(MODELS) == []


def foreign_keys():
    """Return the foreign keys of the bulk-loaded tables, each with whether it is validated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text"
            " IN ('capture_contact', 'lifecycle_stagetransition', 'lifecycle_leadassignment')"
        )
        return dict(cursor.fetchall())


def test_a_bulk_load_that_cannot_lock_the_tables_at_once_loads_with_every_index_and_key_in_place(
    csv_file, large, each_path, indexes_while_loading, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one write lock for the whole database")
    import psycopg

    from accord.imports import bulk

    monkeypatch.setattr(bulk, "_LOCK_TIMEOUT", "200ms")
    every_index, every_key = index_names(), foreign_keys()
    path = csv_file("Email,First Name,Company\n" + ROWS)
    # Given another session reading users in a long transaction (a key to users must be dropped)
    with psycopg.connect(**connection.get_connection_params()) as reader:
        reader.execute("LOCK TABLE accounts_user IN ACCESS SHARE MODE")

        # When a large file is imported meanwhile
        summary = import_file(kind="contacts", path=path, **each_path.kwargs)

    # Then it waited no longer than the timeout, and loaded with everything in place
    assert summary.created == 12
    assert indexes_while_loading[0] == every_index
    assert foreign_keys() == every_key
