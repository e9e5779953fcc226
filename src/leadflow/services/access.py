"""Who may see and do what on the web pages: the one guard every lead passes through.

::

    role        sees                                   does
    admin       every lead, the users page             everything
    marketing   every lead, inquiries, quarantine      fixes and replays quarantined inquiries
    manager     the leads of its team                  accept, reject, recycle, reassign
    rep         its own leads and its team's pool      accept (a pool lead: takes it),
                                                       reject and recycle its own

A lead belongs to a team by ``lifecycle.team`` (set when it was routed) or by its
owner's team. A lead in a team's *pool* is routed to the team but owned by no rep,
and not held (handed back and waiting for its recontact date). Everything here is
pure: the caller reads the lead's lifecycle and the owner's team and asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadflow.domain.lifecycle import Lifecycle
from leadflow.errors import Forbidden
from leadflow.services.users import User

EVERYTHING = frozenset({"admin", "marketing"})
SALES = frozenset({"admin", "manager", "rep"})


@dataclass(frozen=True)
class LeadPlace:
    """What the guard needs to know of a lead: its lifecycle and its owner's team."""

    person_id: int
    state: Lifecycle
    owner_team: str | None = None

    @property
    def teams(self) -> set[str]:
        return {t for t in (self.state.team, self.owner_team) if t}

    @property
    def in_pool(self) -> bool:
        return self.state.owner_rep_id is None and bool(self.state.team) and not self.state.held


def may_see(user: User, lead: LeadPlace) -> bool:
    if user.role in EVERYTHING:
        return True
    if user.role == "manager":
        return user.team is not None and user.team in lead.teams
    if user.role == "rep":
        if user.rep_id is not None and lead.state.owner_rep_id == user.rep_id:
            return True
        return lead.in_pool and user.team is not None and lead.state.team == user.team
    return False


def check_see(user: User, lead: LeadPlace) -> None:
    if not may_see(user, lead):
        raise Forbidden(f"lead {lead.person_id} is not yours to see ({_whose(user)})")


def check_dispose(user: User, lead: LeadPlace, action: str) -> None:
    """accept, reject, recycle or reassign: a rep accepts its own leads and its team's
    pool and hands back only its own; a manager works its team's; marketing none."""
    check_see(user, lead)
    if user.role not in SALES:
        raise Forbidden(f"a {user.role_label.lower()} user does not {action} leads: sales does")
    if user.role == "rep":
        if action == "reassign":
            raise Forbidden("a sales rep does not reassign leads: its manager does")
        if lead.state.owner_rep_id != user.rep_id and action != "accept":
            raise Forbidden(f"lead {lead.person_id} is not yours to {action}: accept it first")


def check_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        names = " or ".join(roles)
        raise Forbidden(f"this page is for {names} users; you are signed in as {user.role_label}")


def _whose(user: User) -> str:
    if user.role == "manager":
        return f"your team is {user.team}"
    if user.role == "rep":
        return "a rep sees its own leads and its team's pool"
    return user.role_label
