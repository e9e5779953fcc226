"""The role-address rule of ``identity.find_person``: which of the people who gave info@ an
inquiry from it joins (the phone rule's, with names compared as the fuzzy rule does)."""

from __future__ import annotations

from typing import Any

import pytest
from test_phone_rule import People as PhonePeople  # pytest puts this folder on sys.path

from leadflow.adapters.identity.normalise import Normalised
from leadflow.services.identity import Identity, Match, find_person, shared_block

ROLE = "info@acme.com"


def People(names: dict[int, str | None], **given: Any) -> PhonePeople:
    """``test_phone_rule``'s people, behind the role address."""
    return PhonePeople(names, key=("email", ROLE), **given)


def writing(name: str | None, email: str = ROLE, role: bool = True) -> Identity:
    norm = Normalised(email, None, None, None, None, None, name, None, None, None, role)
    return Identity(norm, None)


def found(people: People, name: str | None) -> Match:
    match = find_person(people, writing(name))
    assert match is not None and match.rule == "role_email"
    return match


def test_only_a_phone_or_a_role_address_has_a_block_of_its_other_people() -> None:
    assert shared_block("email", ROLE) == "role:info@acme.com"
    assert shared_block("email", "sales+eu@acme.com") == "role:sales+eu@acme.com"
    assert shared_block("phone", "+442079460000") == "phone:+442079460000"
    assert shared_block("email", "ann.lee@acme.com") is None
    assert shared_block("external", "web:1") is None


def test_the_owner_so_called_or_a_nameless_inquiry_asks_nothing_more() -> None:
    people = People({1: "ann lee", 2: "bob stone"})
    assert found(people, "ann lee") == Match(1, "role_email", 1.0, ROLE)
    assert found(people, None).person_id == 1
    assert people.asked == []


def test_the_best_agreeing_of_the_addresses_people_is_found() -> None:
    people = People({1: "ann lee", 2: "bob stone", 3: "dan", 4: "john smith"})
    assert found(people, "bob stone").person_id == 2
    assert found(people, "dan").person_id == 3
    typo = found(people, "jon smith")
    assert (typo.person_id, typo.detail) == (4, f"{ROLE}, 'jon smith' ~ 'john smith'")
    assert typo.score == pytest.approx(18 / 19)  # rapidfuzz's ratio, 0-1
    assert find_person(people, writing("zoe quinn")) is None  # someone new


def test_names_agree_at_the_name_threshold_not_the_phones_floor() -> None:
    """A phone joins "ann" to "ann lee" (one's words among the other's); a role address
    keeps the fuzzy rule's ratio at ``match_name_threshold``, as it did."""
    people = People({1: "ann lee", 2: "bob stone"})
    assert find_person(people, writing("ann")) is None
    assert find_person(people, writing("bob")) is None
    assert find_person(people, writing("bob stone"), threshold=100.0) is not None
    assert find_person(people, writing("bob stonne"), threshold=95.0) is None


def test_ties_go_to_the_owner_and_no_name_agrees_least() -> None:
    assert found(People({1: "ann lee", 2: "ann lee"}), "ann lee").person_id == 1
    people = People({1: None, 2: "bob stone"})  # a nameless owner
    assert found(people, "bob stone").person_id == 2
    assert found(people, "zoe quinn").person_id == 1


def test_a_former_name_is_still_the_persons() -> None:
    people = People({1: "ann park", 2: "bob stone"}, former={1: {"ann lee"}})
    assert found(people, "ann lee") == Match(1, "role_email", 1.0, ROLE)
    assert people.asked == ["sharers", "former"]
