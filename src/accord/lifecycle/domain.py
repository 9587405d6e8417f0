"""The lifecycle stage machine: which moves exist, who may make each, and why a move is refused.

Pure data and functions, no database: the services ask `refusal(...)` before recording a
move, and docs/lifecycle.md prints the same table.

A move is made either by a person (their role must be allowed) or by a named rule of the
system (the score threshold, a deal being created or closed); a revenue-ops admin may make
any move the table has, never one it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S

# Rules: the system's own reasons to move a lead, recorded in StageTransition.by_rule.
SCORE_THRESHOLD = "score_threshold"
DEAL_CREATED = "deal_created"
DEAL_WON = "deal_won"
DEAL_LOST = "deal_lost"
NEW_ENGAGEMENT = "new_engagement"
RULES = frozenset({SCORE_THRESHOLD, DEAL_CREATED, DEAL_WON, DEAL_LOST, NEW_ENGAGEMENT})

MARKETING = frozenset({Role.MARKETING})
SALES = frozenset({Role.SALES_REP, Role.SALES_MANAGER})


@dataclass(frozen=True)
class Move:
    """One allowed transition: the roles that may make it by hand and the rules that may make it."""

    from_stage: S
    to_stage: S
    roles: frozenset[Role]
    rules: frozenset[str]
    meaning: str


def _m(frm: S, to: S, roles: frozenset[Role], rules: frozenset[str] = frozenset(), meaning: str = "") -> Move:
    return Move(frm, to, roles, rules, meaning)


MOVES: tuple[Move, ...] = (
    _m(S.SUBSCRIBER, S.LEAD, MARKETING, frozenset({NEW_ENGAGEMENT}), "showed interest beyond the newsletter"),
    _m(S.SUBSCRIBER, S.MQL, MARKETING, frozenset({SCORE_THRESHOLD}), "crossed the MQL threshold"),
    _m(S.SUBSCRIBER, S.DISQUALIFIED, MARKETING, meaning="not a prospect"),
    _m(S.LEAD, S.MQL, MARKETING, frozenset({SCORE_THRESHOLD}), "crossed the MQL threshold"),
    _m(S.LEAD, S.NURTURE, MARKETING, meaning="not ready yet"),
    _m(S.LEAD, S.DISQUALIFIED, MARKETING, meaning="not a prospect"),
    _m(S.MQL, S.SAL, SALES, meaning="sales accepted the lead"),
    _m(S.MQL, S.NURTURE, SALES | MARKETING, meaning="sales rejected the lead as not ready"),
    _m(S.MQL, S.DISQUALIFIED, SALES | MARKETING, meaning="sales rejected the lead as no prospect"),
    _m(S.SAL, S.SQL, SALES, meaning="sales qualified the lead"),
    _m(S.SAL, S.NURTURE, SALES, meaning="not ready after all"),
    _m(S.SAL, S.DISQUALIFIED, SALES, meaning="no prospect after all"),
    _m(S.SQL, S.OPPORTUNITY, SALES, frozenset({DEAL_CREATED}), "a deal was opened"),
    _m(S.SQL, S.NURTURE, SALES, meaning="not ready after all"),
    _m(S.SQL, S.DISQUALIFIED, SALES, meaning="no prospect after all"),
    _m(S.OPPORTUNITY, S.CUSTOMER, SALES, frozenset({DEAL_WON}), "the deal was won"),
    _m(S.OPPORTUNITY, S.NURTURE, SALES, frozenset({DEAL_LOST}), "the deal was lost; recycle"),
    _m(S.NURTURE, S.MQL, MARKETING, frozenset({SCORE_THRESHOLD}), "re-engaged and crossed the threshold"),
    _m(S.NURTURE, S.LEAD, MARKETING, meaning="recycled to marketing"),
    _m(S.NURTURE, S.DISQUALIFIED, MARKETING | SALES, meaning="no prospect"),
    _m(S.DISQUALIFIED, S.LEAD, MARKETING, meaning="disqualified by mistake"),
)

TABLE: dict[tuple[str, str], Move] = {(m.from_stage.value, m.to_stage.value): m for m in MOVES}

# A sales rejection sends the lead where its reason's outcome (RejectionReason.outcome, edited
# by revenue ops) says: "not now" goes back to marketing's nurture, "never" is disqualified and
# stays out of the funnel.
DISQUALIFY = "disqualify"
NURTURE = "nurture"

# The shipped taxonomy (code, label, outcome, note required, help for reps): seeded by migration
# lifecycle 0003 and again whenever the table is empty. Revenue ops edits it from there.
DEFAULT_REJECTION_REASONS = [
    ("bad_data", "Bad contact data", "disqualify", False,
     "The email bounces, the phone is fake or the name is gibberish: nobody can be reached."),
    ("not_decision_maker", "Not a decision maker", "nurture", False,
     "A real person with no say in the purchase; name the decision maker in the note if you know them."),
    ("no_budget", "No budget", "nurture", False, "Interested, but no money this period."),
    ("no_need", "No need", "nurture", False, "Browsing or happy with what they have."),
    ("competitor", "Competitor", "disqualify", False, "Works for a competitor."),
    ("student", "Student or job seeker", "disqualify", False, "Research, a thesis or a job search: no buyer."),
    ("existing_customer", "Existing customer", "disqualify", False,
     "Already a customer: the account team handles them."),
    ("duplicate", "Duplicate", "disqualify", False, "The same person as another lead already in sales."),
    ("bad_timing", "Bad timing", "nurture", False, "A fit, but not now: a project next year, a freeze."),
    ("other", "Other", "nurture", True, "None of the above: say why in the note."),
]


def stage_after_rejection(outcome: str) -> S:
    """Return the stage a rejected lead moves to for its reason's outcome (nurture or disqualify)."""
    if outcome not in (DISQUALIFY, NURTURE):
        raise ValueError(f"{outcome!r} is not a rejection outcome")
    return S.DISQUALIFIED if outcome == DISQUALIFY else S.NURTURE


def _label(stage: str) -> str:
    try:
        return S(stage).label
    except ValueError:
        return repr(stage)


def refusal(*, from_stage: str, to_stage: str, role: str | None = None, rule: str | None = None,
            superuser: bool = False) -> str | None:
    """Return why the move may not be made by this role or rule, or None when it may.

    Exactly one of `role` (a person's) and `rule` (the system's) names who is moving the lead.
    """
    if (role is None) == (rule is None):
        raise ValueError("name exactly one of role and rule")
    if to_stage not in S.values:
        return f"{to_stage!r} is not a lifecycle stage."
    if from_stage == to_stage:
        return f"The lead is already in {_label(to_stage)}."
    move = TABLE.get((from_stage, to_stage))
    if move is None:
        allowed = ", ".join(_label(to) for (frm, to) in TABLE if frm == from_stage) or "nowhere"
        return (f"A lead cannot move from {_label(from_stage)} to {_label(to_stage)}; "
                f"from {_label(from_stage)} it can move to {allowed}.")
    if rule is not None:
        if rule not in move.rules:
            return f"The rule {rule!r} may not move a lead from {_label(from_stage)} to {_label(to_stage)}."
        return None
    if superuser or role == Role.REVOPS_ADMIN or role in move.roles:
        return None
    who = " or ".join(sorted(Role(r).label.lower() for r in move.roles)) or "no one by hand"
    return (f"Only {who} (or revenue ops) may move a lead from {_label(from_stage)} "
            f"to {_label(to_stage)}.")


def next_stages(from_stage: str) -> list[S]:
    """Return the stages a lead in `from_stage` can move to, in table order."""
    return [m.to_stage for m in MOVES if m.from_stage == from_stage]
