"""A shared phone (a company's switchboard, a family's line) joins only the names that can
be one person's, and every person behind it stays findable by it: captured one by one,
imported (and imported again), and through an unmerge."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select
from test_bulk_import import (  # pytest puts this folder on sys.path
    HEADER,
    MAPPINGS,
    NOW,
    SETTINGS,
    captured_alike,
    write_csv,
)

from leadflow.adapters.store import tables as t
from leadflow.bootstrap import bundled_playbook
from leadflow.services import activity_import
from leadflow.services.activities import RecordActivity, find_person_for
from leadflow.services.capture import Captured, CaptureInquiry, capture
from leadflow.services.imports import import_csv
from leadflow.services.marketing_views import InquirySearch, search_inquiries
from leadflow.services.merges import unmerge
from leadflow.services.uow import UnitOfWork

PB = bundled_playbook("btd")
SWITCHBOARD = "+442079460000"

# (first name, last name, email, phone), and whose the inquiry is.
CALLS = [
    ("Carl", "Ray", "carl.ray@bigco.com", "+44 20 7946 0000", "carl"),
    ("Dina", "Fox", "dina.fox@bigco.com", "+44 20 7946 0000", "dina"),
    ("Eve", "Hart", "eve.hart@bigco.com", "+442079460000", "eve"),
    ("Ann", "Lee", "ann.lee@bigco.com", "0044 20 7946 0000", "ann"),
    ("Ann", "Lee", "", "+44 20 7946 0000", "ann"),  # her again, without her email
    ("Karl", "Ray", "", "+44 20 7946 0000", "carl"),  # Carl, misspelt
    ("Dina", "Fox", "", "+44 20 7946 0000", "dina"),  # not the number's first person
    ("", "", "", "+44 20 7946 0000", "carl"),  # no name: cannot disagree; its first
    ("Ann", "", "", "+44 20 7946 0000", "ann"),  # her words among Ann Lee's
]


def _sender(engine: Engine) -> Any:
    clock = count()

    def send(**fields: object) -> Captured:
        at = NOW + timedelta(minutes=next(clock))
        given = {k: v for k, v in fields.items() if v}
        cmd = CaptureInquiry(given, json.dumps(given), "web", "api", at)
        with UnitOfWork(engine) as uow:
            return capture(uow, PB, cmd, SETTINGS)

    return send


def _alike(people: list[int | None]) -> list[str]:
    """Whose each inquiry is, said by the first caller's name of each person."""
    names = {}
    for person, (*_, whose) in zip(people, CALLS, strict=True):
        names.setdefault(person, whose)
    return [names[person] for person in people]


def test_a_switchboard_joins_only_names_that_can_be_one_person_when_captured(
    engine: Engine,
) -> None:
    send = _sender(engine)
    got = [
        send(first_name=first, last_name=last, email=email, phone=phone, company="BigCo")
        for first, last, email, phone, _ in CALLS
    ]
    people = [g.person_id for g in got]
    assert _alike(people) == [whose for *_, whose in CALLS]
    assert len(set(people)) == 4
    assert [g.merged for g in got[4:]] == ["phone"] * 5
    with UnitOfWork(engine) as uow:
        details = {m.inquiry_id: (m.score, m.detail) for m in uow.store.merges()}
    assert details[got[5].inquiry_id] == (0.875, f"{SWITCHBOARD}, 'karl ray' ~ 'carl ray'")
    assert details[got[6].inquiry_id] == (1.0, SWITCHBOARD)


def _calls_file(tmp_path: Path) -> Path:
    rows = []
    for first, last, email, phone, _ in CALLS:
        row = [""] * len(HEADER)
        row[1:3], row[4], row[6], row[7] = [first, last], email, phone, "BigCo"
        rows.append(row)
    return write_csv(tmp_path / "switchboard.csv", rows)


def _import(engine: Engine, path: Path, **options: Any) -> Any:
    return import_csv(
        lambda: UnitOfWork(engine),
        PB,
        path,
        source="expo",
        now=NOW,
        settings=SETTINGS,
        preset="salesforce",
        mappings=MAPPINGS,
        **{"chunk_rows": 3, **options},
    )


def _people_by_row(engine: Engine) -> list[int | None]:
    with engine.connect() as c:
        query = select(t.inquiries.c.person_id).order_by(t.inquiries.c.id)
        return list(c.execute(query).scalars())


def test_an_import_keeps_a_switchboards_people_apart_as_captures_do_and_again(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """Imported in slices of three rows; then the same file again (``--again``): each
    row finds the person it found the first time, and nobody new is made."""
    path = _calls_file(tmp_path)
    summary = _import(engine, path)
    assert (summary.new_people, dict(summary.merged)) == (4, {"phone": 5})
    captured_alike(engine, reference, PB, path)
    first = _people_by_row(engine)
    assert _alike(first) == [whose for *_, whose in CALLS]

    again = _import(engine, path, again=True)
    assert again.new_people == 0
    assert _people_by_row(engine) == first + first


def test_an_unmerge_deals_a_shared_phones_inquiries_by_name(engine: Engine) -> None:
    """Ann Lee and Bob Stone share a home address and line: Bob's inquiry joined Ann by
    the address. Undone, Bob's later call from the line (joined by the phone, when the
    person was called Bob) follows him, and the line finds each of them after."""
    send = _sender(engine)
    home = {"email": "lees@example.org", "phone": "+1 415 555 0199"}
    ann = send(first_name="Ann", last_name="Lee", **home)
    bob = send(first_name="Bob", last_name="Stone", **home)
    call = send(first_name="Bob", last_name="Stone", phone="(415) 555-0199")
    assert (bob.merged, call.merged) == ("email", "phone")
    assert ann.person_id == bob.person_id == call.person_id
    with UnitOfWork(engine) as uow:
        (merge,) = [m for m in uow.store.merges() if m.inquiry_id == bob.inquiry_id]
        done = unmerge(uow.store, PB, merge.id, SETTINGS, NOW + timedelta(days=1))
        uow.commit()
    assert done.moved == (call.inquiry_id,)
    bob_again = send(first_name="Robert", last_name="Stone", phone="415.555.0199")
    ann_again = send(first_name="Ann", last_name="Lee", phone="415.555.0199")
    assert bob_again.person_id == done.new_person_id
    assert ann_again.person_id == ann.person_id == done.kept_person_id


def test_an_import_finds_a_stored_persons_former_name_at_a_number_they_came_to_in_it(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """Ann Lee, stored, is called Ann Stone now. An imported row finds her by name at her
    company, with the switchboard's number; a later row from the number as Ann Lee is
    hers, as it would be captured: the import reads her former names when she comes to
    the number, though it read the number's people before the rows."""
    for database in (engine, reference):
        send = _sender(database)
        send(first_name="Carl", last_name="Ray", email="carl.ray@bigco.com", phone=SWITCHBOARD)
        send(first_name="Ann", last_name="Lee", email="ann@bigco.com", company="BigCo")
        send(first_name="Ann", last_name="Stone", email="ann@bigco.com", company="BigCo")
    rows = [[""] * len(HEADER) for _ in range(2)]
    rows[0][1:3], rows[0][6], rows[0][7] = ["Ann", "Stone"], SWITCHBOARD, "BigCo"
    rows[1][1:3], rows[1][6] = ["Ann", "Lee"], SWITCHBOARD
    path = write_csv(tmp_path / "calls.csv", rows)
    summary = _import(engine, path)
    assert (summary.new_people, dict(summary.merged)) == (0, {"fuzzy_name": 1, "phone": 1})
    captured_alike(engine, reference, PB, path)
    people = _people_by_row(engine)
    assert people[3] == people[4] == people[1]


def _switchboard(engine: Engine) -> tuple[list[int], int]:
    """Carl, Dina and Eve give the switchboard (their names cannot be one person's); Zoe
    alone gives her number."""
    send = _sender(engine)
    people = [
        send(first_name=first, last_name=last, email=email, phone=phone).person_id or 0
        for first, last, email, phone, _ in CALLS[:3]
    ]
    zoe = send(first_name="Zoe", last_name="Park", phone="+1 415 555 0199").person_id or 0
    return people, zoe


def _activities_of(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as c:
        query = select(t.activities.c.person_id, t.activities.c.type).order_by(t.activities.c.id)
        return [(int(person), kind) for person, kind in c.execute(query)]


def test_an_activity_by_a_shared_phone_alone_is_skipped_naming_its_people(
    engine: Engine, tmp_path: Path
) -> None:
    """By the number alone the activity was the number's first person's, Carl's: the
    row is skipped with its line (not naming the people behind the number); the file's other
    rows are recorded, one that also gives an email by it, one by Zoe's own number."""
    (_carl, dina, _eve), zoe = _switchboard(engine)
    path = tmp_path / "calls.csv"
    path.write_text(
        "type,at,phone,email\n"
        "call,2026-11-20T10:00:00Z,+44 20 7946 0000,\n"
        "meeting,2026-11-20T11:00:00Z,+44 20 7946 0000,dina.fox@bigco.com\n"
        "call,2026-11-20T12:00:00Z,(415) 555-0199,\n",
        encoding="utf-8",
    )
    done = activity_import.import_activity_csv(
        lambda: UnitOfWork(engine), PB, path, SETTINGS, "phone", NOW
    )
    assert done.done == 2
    assert done.skipped == [
        f"line 2: phone {SWITCHBOARD} belongs to 3 people:"
        " give their own email or external_id (or person_id, with an admin key)"
    ]
    assert _activities_of(engine) == [(dina, "meeting"), (zoe, "call")]


def test_an_activity_by_a_phone_with_one_person_reads_it_in_one_statement(
    engine: Engine,
) -> None:
    """The common case stays as cheap as it was: the number's key and block at once."""
    _people, zoe = _switchboard(engine)
    statements: list[str] = []
    command = RecordActivity("call", NOW, phone="+1 415 555 0199")
    with UnitOfWork(engine) as uow:
        listen = uow.store.connection
        event.listen(listen, "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert find_person_for(uow.store, command, SETTINGS) == zoe
    assert len(statements) == 1


def test_searching_a_shared_phone_finds_every_person_behind_it(engine: Engine) -> None:
    """The inquiries page's search by a number lists the inquiries of all its people,
    not only of the first who gave it."""
    (carl, dina, eve), zoe = _switchboard(engine)
    with UnitOfWork(engine) as uow:
        found = search_inquiries(uow, InquirySearch(q="+44 20 7946 0000"), "US")
        alone = search_inquiries(uow, InquirySearch(q="415 555 0199"), "US")
    assert sorted(row.person_id for row in found) == [carl, dina, eve]
    assert [row.person_id for row in alone] == [zoe]
