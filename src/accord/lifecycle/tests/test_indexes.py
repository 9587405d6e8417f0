import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_each_key_of_an_activity_is_indexed_once_by_its_composite_index():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "lifecycle_activity")
    indexed = sorted(details["columns"] for details in constraints.values()
                     if details["index"] and not details["unique"] and not details["primary_key"])

    # The single-column key indexes went in lifecycle/0006: the composites serve them.
    assert indexed == [["contact_id", "occurred_at"], ["deal_id", "occurred_at"], ["user_id", "occurred_at"]]
