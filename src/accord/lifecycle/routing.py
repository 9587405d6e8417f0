"""Who gets a new MQL: pure routing over plain data, no database.

Order of precedence: the contact's current owner keeps it, then the account's owner,
then the first rule (in document order) whose match fits the lead picks a team, else the
fallback team. Within a team, reps take turns by smooth weighted round-robin, each rep's
weight being their capacity, skipping anyone away or at capacity and preferring reps who
are inside their working hours right now.

Smooth weighted round-robin (the scheme nginx uses): every pick, each eligible rep's
credit grows by their weight, the rep with the most credit (lowest id on a tie) is
chosen and pays back the total weight of the eligible reps. Over any run of W picks with
the same eligible reps, where W is the sum of their weights, each rep is picked exactly
as many times as their weight, and the picks are spread out rather than bunched.
The credits are the rotation's state; lifecycle.services keeps them per team.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from accord.lifecycle.rules import Match, RoutingDocument

EXISTING_OWNER = "existing_owner"
ACCOUNT_OWNER = "account_owner"
FALLBACK = "fallback"
UNROUTED = "unrouted"


@dataclass(frozen=True)
class Lead:
    """What routing needs to know of a lead."""

    contact_id: int
    region: str = ""
    segment: str = ""
    industry: str = ""
    size_band: str = ""
    owner_id: int | None = None
    account_owner_id: int | None = None


@dataclass
class Rep:
    """A person who can take leads, with their load and availability at the moment of routing."""

    user_id: int
    team_id: int | None
    capacity: int
    open_load: int = 0
    is_away: bool = False
    # Inside working hours now; if not, when their working time next starts (None: never).
    in_hours: bool = True
    opens_at: datetime | None = None
    name: str = ""
    # Managers own leads (their accounts, their contacts) but take no turns in the rotation.
    takes_round_robin: bool = True

    @property
    def has_room(self) -> bool:
        return self.open_load < self.capacity


@dataclass(frozen=True)
class Decision:
    """The owner chosen (None: left unassigned), the rule that fired and why, in words."""

    owner_id: int | None
    rule: str
    reason: str
    team_id: int | None = None


def matches(match: Match, lead: Lead) -> bool:
    """Tell whether every list the match names contains the lead's value."""
    for name in ("region", "segment", "industry", "size_band"):
        allowed = getattr(match, name)
        if allowed and getattr(lead, name) not in allowed:
            return False
    return True


def pick_round_robin(reps: list[Rep], credits: dict[int, int]) -> Rep:
    """Pick one rep by smooth weighted round-robin, updating `credits` (user id → credit) in place."""
    if not reps:
        raise ValueError("no reps to pick from")
    total = sum(rep.capacity for rep in reps)
    for rep in reps:
        credits[rep.user_id] = credits.get(rep.user_id, 0) + rep.capacity
    chosen = max(reps, key=lambda rep: (credits[rep.user_id], -rep.user_id))
    credits[chosen.user_id] -= total
    return chosen


@dataclass
class Router:
    """Route leads one after another, keeping loads and rotations consistent across a batch."""

    document: RoutingDocument
    reps: Mapping[int, Rep]
    team_ids: Mapping[str, int]
    team_names: Mapping[int, str] = field(default_factory=dict)
    # team id → user id → credit; the caller loads these and saves them afterwards.
    credits: dict[int, dict[int, int]] = field(default_factory=dict)

    def route(self, lead: Lead, *, exclude: Iterable[int] = ()) -> Decision:
        excluded = set(exclude)
        if self.document.keep_existing_owner and lead.owner_id is not None and lead.owner_id not in excluded:
            decision = self._person(lead.owner_id, EXISTING_OWNER, "already owns this contact")
            if decision is not None:
                return decision
        if self.document.account_owner_first and lead.account_owner_id is not None \
                and lead.account_owner_id not in excluded:
            decision = self._person(lead.account_owner_id, ACCOUNT_OWNER, "owns the account")
            if decision is not None:
                return decision
        for rule in self.document.rules:
            if matches(rule.when, lead):
                return self._team(rule.team, f"rule:{rule.name}", f"Rule {rule.name!r} matched", excluded)
        if self.document.fallback_team:
            return self._team(self.document.fallback_team, FALLBACK, "No rule matched; fallback team",
                              excluded)
        return Decision(None, UNROUTED, "No routing rule matched and there is no fallback team; "
                                        "the lead waits for a manager to assign it.")

    def _person(self, user_id: int, rule: str, why: str) -> Decision | None:
        rep = self.reps.get(user_id)
        # An owner who left sales, or is away, hands the lead on to the rules.
        if rep is None or rep.is_away:
            return None
        rep.open_load += 1
        return Decision(rep.user_id, rule, f"{rep.name or 'The owner'} {why}.", rep.team_id)

    def _team(self, team_name: str, rule: str, why: str, excluded: set[int]) -> Decision:
        team_id = self.team_ids.get(team_name)
        members = [rep for rep in self.reps.values() if team_id is not None and rep.team_id == team_id
                   and rep.takes_round_robin and rep.user_id not in excluded]
        eligible = [rep for rep in members if not rep.is_away and rep.has_room]
        where = f"{why} → team {team_name}"
        if not eligible:
            return Decision(None, rule, f"{where}, but every rep there is away or at capacity; "
                                        "the lead waits for a manager to assign it.", team_id)
        in_hours = [rep for rep in eligible if rep.in_hours]
        if in_hours:
            pool, when = in_hours, ""
        else:
            opening = [rep.opens_at for rep in eligible if rep.opens_at is not None]
            first = min(opening) if opening else None
            pool = [rep for rep in eligible if rep.opens_at == first] if first else eligible
            when = f"; nobody is in working hours, so it goes to who starts first{f' ({first:%a %H:%M} UTC)' if first else ''}"
        credits = self.credits.setdefault(team_id, {})
        chosen = pick_round_robin(sorted(pool, key=lambda rep: rep.user_id), credits)
        chosen.open_load += 1
        share = sum(rep.capacity for rep in pool)
        return Decision(
            chosen.user_id, rule,
            f"{where}; round-robin by capacity picked {chosen.name or chosen.user_id} "
            f"(weight {chosen.capacity} of {share}, {chosen.open_load} of {chosen.capacity} open){when}.",
            team_id,
        )
