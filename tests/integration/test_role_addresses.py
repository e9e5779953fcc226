"""A shared role address (info@, sales@) joins only the names that agree, and every person
behind it stays findable by it, by a present or a former name: captured one by one,
imported (and imported again, and into a database that knows them already), and through
an unmerge."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from test_bulk_import import (  # pytest puts this folder on sys.path
    HEADER,
    NOW,
    SETTINGS,
    captured_alike,
    write_csv,
)
from test_shared_phones import _activities_of, _import, _people_by_row, _sender

from leadflow.bootstrap import bundled_playbook
from leadflow.errors import Conflict
from leadflow.services import activity_import
from leadflow.services.activities import RecordActivity, find_person_for
from leadflow.services.marketing_views import InquirySearch, search_inquiries
from leadflow.services.merges import unmerge
from leadflow.services.uow import UnitOfWork

PB = bundled_playbook("btd")
BOB_PHONE = "+1 415 555 0123"
SWITCHBOARD = "+44 20 7946 0000"
SHARED = (
    "email info@acme.com belongs to 3 people: give external_id (or person_id, with an admin key)"
)

# (first name, last name, email, source id), whose the inquiry is, and the rule that joins
# it to someone found before (None: someone new).
WRITES = [
    ("Ann", "Lee", "info@acme.com", "1", "ann", None),
    ("Bob", "Stone", "info@acme.com", "", "bob", None),  # not Ann: someone new
    ("BOB", "STONE", " Info@Acme.com ", "", "bob", "role_email"),  # him again
    ("Dan", "", "info@acme.com", "", "dan", None),  # a first name alone
    ("Dan", "", "INFO@acme.com", "", "dan", "role_email"),  # him again
    ("Ann", "Park", "", "1", "ann", "external_id"),  # Ann by her id, called Park now
    ("Ann", "Lee", "info@acme.com", "", "ann", "role_email"),  # her former name
    ("", "", "info@acme.com", "", "ann", "role_email"),  # no name: the address's first
]


def _alike(people: list[int | None]) -> list[str]:
    """Whose each inquiry is, said by the first writer's name of each person."""
    names = {}
    for person, (*_, whose, _rule) in zip(people, WRITES, strict=True):
        names.setdefault(person, whose)
    return [names[person] for person in people]


def test_a_role_address_finds_each_of_its_people_by_name_when_captured(
    engine: Engine,
) -> None:
    send = _sender(engine)
    got = [
        send(first_name=first, last_name=last, email=email, id=ext)
        for first, last, email, ext, *_ in WRITES
    ]
    people = [g.person_id for g in got]
    assert _alike(people) == [whose for *_, whose, _ in WRITES]
    assert len(set(people)) == 3
    assert [g.merged for g in got] == [rule for *_, rule in WRITES]


def _file(tmp_path: Path, writes: list[tuple[str, str, str, str, str, str | None]]) -> Path:
    rows = []
    for first, last, email, ext, *_ in writes:
        row = [""] * len(HEADER)
        row[0:3], row[4] = [ext, first, last], email
        rows.append(row)
    return write_csv(tmp_path / "writes.csv", rows)


def test_an_import_finds_a_role_addresses_people_as_captures_do_and_again(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """Imported in slices of three rows; then the same file again (``--again``), which
    reads the address's people from the database: each row finds the person it found
    the first time, and nobody new is made."""
    path = _file(tmp_path, WRITES)
    summary = _import(engine, path)
    assert (summary.new_people, dict(summary.merged)) == (
        3,
        {"role_email": 4, "external_id": 1},
    )
    captured_alike(engine, reference, PB, path)
    first = _people_by_row(engine)
    assert _alike(first) == [whose for *_, whose, _ in WRITES]

    again = _import(engine, path, again=True)
    assert again.new_people == 0
    assert _people_by_row(engine) == first + first


def test_an_import_finds_stored_people_behind_a_role_address(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """Ann, Bob and Dan wrote from info@ before, Ann first and now called Park: the
    imported rows find each of them by the address, as captures would."""
    for database in (engine, reference):
        send = _sender(database)
        for first, last, email, ext, *_ in WRITES[:6]:
            send(first_name=first, last_name=last, email=email, id=ext)
    writes = [w for w in WRITES if w[2]][1:]  # all but Ann's first, each by the address
    summary = _import(engine, _file(tmp_path, writes))
    assert (summary.new_people, dict(summary.merged)) == (0, {"role_email": len(writes)})
    captured_alike(engine, reference, PB, tmp_path / "writes.csv")
    people = _people_by_row(engine)
    assert people[6:] == [people[i] for i in (1, 1, 3, 3, 0, 0)]


def test_an_unmerge_deals_a_role_addresses_inquiries_by_name(engine: Engine) -> None:
    """Bob's inquiry from info@ joined Ann by a source id the source gave twice, and his
    next one joined her by the address, when she was called Bob. Undone, that next one
    follows him, and the address finds each of them after."""
    send = _sender(engine)
    ann = send(first_name="Ann", last_name="Lee", email="info@acme.com", id="7")
    bob = send(first_name="Bob", email="info@acme.com", id="7")
    again = send(first_name="Bob", email="info@acme.com")
    assert (bob.merged, again.merged) == ("external_id", "role_email")
    assert ann.person_id == bob.person_id == again.person_id
    with UnitOfWork(engine) as uow:
        (merge,) = [m for m in uow.store.merges() if m.inquiry_id == bob.inquiry_id]
        done = unmerge(uow.store, PB, merge.id, SETTINGS, NOW + timedelta(days=1))
        uow.commit()
    assert done.moved == (again.inquiry_id,)
    bob_later = send(first_name="Bob", email="info@acme.com")
    ann_later = send(first_name="Ann", last_name="Lee", email="info@acme.com")
    assert bob_later.person_id == done.new_person_id
    assert ann_later.person_id == ann.person_id == done.kept_person_id


def _colleagues(engine: Engine) -> tuple[list[int], int]:
    """Ann, Bob and Dan write from info@ (names that cannot be one person's), Bob giving
    his own number too; Zoe alone writes from her firm's support@."""
    send = _sender(engine)
    ann = send(first_name="Ann", last_name="Lee", email="info@acme.com")
    bob = send(first_name="Bob", last_name="Stone", email="info@acme.com", phone=BOB_PHONE)
    dan = send(first_name="Dan", email="INFO@acme.com")
    zoe = send(first_name="Zoe", last_name="Park", email="support@zeta.io").person_id or 0
    people = [c.person_id or 0 for c in (ann, bob, dan)]
    assert len({*people, zoe}) == 4
    return people, zoe


def test_an_activity_by_a_shared_role_address_alone_is_skipped_not_credited_to_its_first(
    engine: Engine, tmp_path: Path
) -> None:
    """By info@ alone the activity was Ann's, who wrote from it first: the row is skipped
    with its line, saying how many people the address is (not who). Bob's own number,
    given with it, finds him; a role address one person gave finds her."""
    (_ann, bob, _dan), zoe = _colleagues(engine)
    path = tmp_path / "activities.csv"
    path.write_text(
        "type,at,email,phone\n"
        "call,2026-11-20T10:00:00Z,info@acme.com,\n"
        f"meeting,2026-11-20T11:00:00Z,Info@Acme.com,{BOB_PHONE}\n"
        "call,2026-11-20T12:00:00Z,info@acme.com,+1 415 555 0999\n"
        "page_view,2026-11-20T13:00:00Z,support@zeta.io,\n",
        encoding="utf-8",
    )
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, path, SETTINGS, "crm", NOW
    )
    assert done.skipped == [
        f"line 2: {SHARED}",
        f"line 4: no person with phone +14155550999; {SHARED}",
    ]
    assert done.done == 2
    assert _activities_of(engine) == [(bob, "meeting"), (zoe, "page_view")]


def test_an_activity_tries_each_identifier_a_shared_one_finding_no_one(engine: Engine) -> None:
    """Either way round: a shared role address falls through to a phone, a shared phone
    comes after a role address one person gave (Carl's sales@); both shared, the
    activity is refused at the first, naming both."""
    (_ann, bob, _dan), _zoe = _colleagues(engine)
    send = _sender(engine)
    carl = send(first_name="Carl", last_name="Ray", email="sales@bigco.com", phone=SWITCHBOARD)
    dina = send(first_name="Dina", last_name="Fox", email="dina@bigco.com", phone=SWITCHBOARD)
    assert carl.person_id != dina.person_id

    def find(**given: str) -> int:
        with UnitOfWork(engine) as uow:
            return find_person_for(uow.store, RecordActivity("call", NOW, **given), SETTINGS)

    assert find(email="info@acme.com", phone=BOB_PHONE) == bob
    assert find(email="sales@bigco.com", phone=SWITCHBOARD) == carl.person_id
    assert find(email="dina@bigco.com", phone=SWITCHBOARD) == dina.person_id
    assert find(external_id="web:none", email="info@acme.com", phone=BOB_PHONE) == bob
    with pytest.raises(Conflict) as refused:
        find(email="info@acme.com", phone=SWITCHBOARD)
    assert refused.value.where == "email"
    assert str(refused.value) == (
        "email info@acme.com belongs to 3 people; phone +442079460000 belongs to 2 people:"
        " give external_id (or person_id, with an admin key)"
    )
    with pytest.raises(Conflict) as refused:
        find(email="ghost@acme.com", phone=SWITCHBOARD)
    assert (refused.value.where, str(refused.value)) == (
        "phone",
        "no person with email ghost@acme.com; phone +442079460000 belongs to 2 people:"
        " give their own email or external_id (or person_id, with an admin key)",
    )


def _statements_finding(engine: Engine, email: str) -> list[str]:
    statements: list[str] = []
    with UnitOfWork(engine) as uow:
        listen = uow.store.connection
        event.listen(listen, "before_cursor_execute", lambda *a: statements.append(a[2]))
        find_person_for(uow.store, RecordActivity("call", NOW, email=email), SETTINGS)
    return statements


def test_an_activity_by_a_role_address_reads_its_people_in_one_statement(engine: Engine) -> None:
    """The address's key and block at once, as a phone's; another address, its key alone."""
    _colleagues(engine)
    _sender(engine)(first_name="Kim", email="kim@zeta.io")
    assert len(_statements_finding(engine, "support@zeta.io")) == 1
    assert len(_statements_finding(engine, "kim@zeta.io")) == 1


def test_searching_a_shared_role_address_finds_every_person_behind_it(engine: Engine) -> None:
    """The inquiries page's search by info@ lists the inquiries of all its people, not
    only of the first who wrote from it; support@, one person's, finds her."""
    (ann, bob, dan), zoe = _colleagues(engine)
    with UnitOfWork(engine) as uow:
        found = search_inquiries(uow, InquirySearch(q=" Info@Acme.com "), "US")
        alone = search_inquiries(uow, InquirySearch(q="support@zeta.io"), "US")
    assert sorted(row.person_id for row in found) == sorted([ann, bob, dan])
    assert [row.person_id for row in alone] == [zoe]
