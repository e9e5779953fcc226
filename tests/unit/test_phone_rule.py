"""The phone rule of ``identity.find_person``: which of a number's people an inquiry joins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from leadflow.adapters.identity.normalise import Normalised
from leadflow.services.identity import (
    DEFAULT_PHONE_NAME_FLOOR,
    Identity,
    Match,
    find_person,
    name_likeness,
    shared_block,
)

PHONE = "+442079460000"


@dataclass
class People:
    """A shared identifier's owner and its other people, with their names (and former
    names): a number's here, a role address's in ``test_role_rule``."""

    names: dict[int, str | None]
    owner: int | None = 1
    former: dict[int, set[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    key: tuple[str, str] = ("phone", PHONE)

    def person_by_key(self, kind: str, value: str) -> int | None:
        return self.owner if (kind, value) == self.key else None

    def name_key_of(self, person_id: int) -> str | None:
        return self.names[person_id]

    def sharers(self, block: str) -> list[tuple[int, str | None]]:
        assert block == shared_block(*self.key)
        self.asked.append("sharers")
        return [(p, n) for p, n in sorted(self.names.items()) if p != self.owner]

    def former_names(self, people: Sequence[int]) -> dict[int, set[str]]:
        self.asked.append("former")
        return {p: self.former[p] for p in people if p in self.former}

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> list[tuple[list[int], list[str | None]]]:
        return []

    def emails_of(self, person_id: int) -> list[str]:
        return []


def calling(name: str | None) -> Identity:
    norm = Normalised(None, None, PHONE, None, None, None, name, None, None, None, False)
    return Identity(norm, None)


def found(people: People, name: str | None, floor: float = DEFAULT_PHONE_NAME_FLOOR) -> Match:
    match = find_person(people, calling(name), phone_floor=floor)
    assert match is not None and match.rule == "phone"
    return match


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("carl ray", "karl ray", True),  # a typo
        ("ann", "ann lee", True),  # one's words among the other's
        ("lee ann", "ann lee", True),
        ("carl ray", "dina fox", False),
        ("john smith", "john brown", False),
        ("carl ray", "dina ray", False),  # a family's line
    ],
)
def test_names_can_be_one_persons_when_alike_or_one_among_the_other(
    a: str, b: str, agree: bool
) -> None:
    assert (name_likeness(a, b) >= DEFAULT_PHONE_NAME_FLOOR) is agree


def test_the_owner_called_so_or_a_nameless_call_asks_nothing_more() -> None:
    people = People({1: "carl ray", 2: "dina fox"})
    assert found(people, "carl ray") == Match(1, "phone", 1.0, PHONE)
    assert found(people, None).person_id == 1
    assert people.asked == []


def test_the_most_alike_of_the_numbers_people_is_found() -> None:
    people = People({1: "carl ray", 2: "dina fox", 3: "dina foxe", 4: "eve hart"})
    assert found(people, "dina foxe").person_id == 3
    assert found(people, "dina fox").person_id == 2
    assert found(people, "karl ray") == Match(
        1, "phone", 0.875, f"{PHONE}, 'karl ray' ~ 'carl ray'"
    )
    assert find_person(people, calling("zoe quinn")) is None  # someone new
    assert find_person(People({1: "carl ray"}, owner=None), calling("carl ray")) is None


def test_ties_go_to_the_owner_then_by_id_and_no_name_agrees_least() -> None:
    people = People({1: "ann lee", 2: None, 3: "ann lee", 4: "ann lee"})
    assert found(people, "ann").person_id == 1
    people.owner = 2  # a nameless owner: the first with the name is better
    assert found(people, "ann lee").person_id == 1
    assert found(People({1: "carl ray", 2: None}), "dina fox").person_id == 2
    assert found(people, "zoe quinn", floor=0).person_id == 1  # alike at 0: anyone


def test_a_former_name_is_still_the_persons() -> None:
    """Names follow the latest inquiry: one who gave another name before is still found
    by it, as an import of the same file again finds everyone it found before."""
    people = People({1: "carl ray", 2: "robert stone"}, former={2: {"ann lee"}})
    assert found(people, "ann lee") == Match(2, "phone", 1.0, PHONE)
    assert people.asked == ["sharers", "former"]
