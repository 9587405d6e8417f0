from pathlib import Path

from accord.core.permissions import MATRIX, Action, Role

DOC = Path(__file__).resolve().parents[4] / "docs" / "permissions.md"


def matrix_in_the_doc() -> dict[Role, set[Action]]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("| action | Marketing"))
    labels = [cell.strip() for cell in lines[header_at].strip("|").split("|")][1:]
    roles = [next(role for role in Role if role.label == label) for label in labels]
    allowed: dict[Role, set[Action]] = {role: set() for role in roles}
    for line in lines[header_at + 2 :]:
        if not line.startswith("| `"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        action = Action(cells[0].strip("`"))
        for role, cell in zip(roles, cells[1:], strict=True):
            if cell == "yes":
                allowed[role].add(action)
    return allowed


def test_the_permissions_doc_states_exactly_the_matrix_the_code_enforces():
    assert matrix_in_the_doc() == {role: set(actions) for role, actions in MATRIX.items()}
