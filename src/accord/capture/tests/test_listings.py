import pytest
from django.db import connection

from accord.accounts.tests.factories import UserFactory
from accord.capture.listings import ScoredFirst, contact_listing
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_highest_score_lists_contacts_with_a_score_row_by_score_then_the_others_newest_first():
    marketer = UserFactory(role=Role.MARKETING)
    older_unscored = ContactFactory()
    low, zero = ContactFactory(score=5), ContactFactory(score=0)
    high_a, high_b = ContactFactory(score=90), ContactFactory(score=90)
    newer_unscored = ContactFactory()

    _, rows = contact_listing(user=marketer, params={"sort": "score"})

    assert isinstance(rows, ScoredFirst)
    expected = [high_b.pk, high_a.pk, low.pk, zero.pk, newer_unscored.pk, older_unscored.pk]
    assert rows.count() == 6
    # Any page, across the boundary or past it, and the export's walk give the same order.
    assert [c.pk for c in rows[0:6]] == expected
    assert [c.pk for c in rows[2:5]] == expected[2:5]
    assert [c.pk for c in rows[5:9]] == expected[5:]
    assert [c.pk for c in rows.iterator(chunk_size=2)] == expected
    assert [c.score for c in rows[0:6]] == [90, 90, 5, 0, 0, 0]


def test_a_page_of_the_highest_scores_takes_one_query_when_it_is_all_scored_contacts(django_assert_num_queries):
    marketer = UserFactory(role=Role.MARKETING)
    contacts = [ContactFactory(score=score) for score in (10, 20, 30)]
    ContactFactory()
    _, rows = contact_listing(user=marketer, params={"sort": "score"})

    with django_assert_num_queries(1):
        page = rows[0:2]

    assert [c.pk for c in page] == [contacts[2].pk, contacts[1].pk]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL's index names the contact")
def test_highest_score_walks_the_score_index_backwards_without_sorting_on_sqlite():
    marketer = UserFactory(role=Role.MARKETING)
    for score in (10, 20, 20, 30):
        ContactFactory(score=score)
    _, rows = contact_listing(user=marketer, params={"sort": "score"})

    plan = rows.scored.explain()

    # (total) alone serves "total DESC, contact DESC": the contact is each entry's rowid.
    assert "contactscore_total" in plan
    assert "TEMP B-TREE" not in plan
