from accord.core.permissions import MATRIX, Action, Role


def test_every_role_has_a_row_in_the_permission_matrix():
    assert set(MATRIX) == set(Role)


def test_the_executive_viewer_may_not_perform_any_write_action():
    writes = {a for a in Action if not a.value.startswith("view_")} - {Action.MANAGE_OWN_TOKENS}
    assert MATRIX[Role.EXECUTIVE] & writes == set()
