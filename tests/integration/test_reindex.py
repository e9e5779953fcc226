"""``leadflow reindex`` gives a database captured under older matching rules what today's
rules read: people behind a shared phone or role address, and their former names, are
found again, and nothing else changes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, delete, or_, select
from test_bulk_import import SETTINGS
from test_role_addresses import WRITES
from test_shared_phones import CALLS, SWITCHBOARD, _calls_file, _import, _sender

from leadflow.adapters.identity.phones import phone_block
from leadflow.adapters.store import tables as t
from leadflow.bootstrap import bundled_playbook
from leadflow.services.reindex import Reindexed, reindex
from leadflow.services.uow import UnitOfWork

PB = bundled_playbook("btd")


def _identifiers(engine: Engine) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    with engine.connect() as c:
        keys = {tuple(r) for r in c.execute(select(t.person_keys))}
        blocks = {tuple(r) for r in c.execute(select(t.person_blocks))}
    return keys, blocks


def _forget_todays_rules(engine: Engine) -> None:
    """What a database made before the shared-phone, role-address and former-name rules
    lacks: phones as identifiers, and those rules' blocks."""
    b = t.person_blocks.c.block
    with engine.begin() as c:
        c.execute(delete(t.person_keys).where(t.person_keys.c.kind == "phone"))
        c.execute(
            delete(t.person_blocks).where(
                or_(b.like("phone:%"), b.like("role:%"), b.like("name:%"))
            )
        )


def _reindex(engine: Engine, chunk: int = 2) -> Reindexed:
    return reindex(lambda: UnitOfWork(engine), PB, SETTINGS, chunk=chunk)


def _send_all(engine: Engine) -> None:
    send = _sender(engine)
    for first, last, email, phone, _ in CALLS:
        send(first_name=first, last_name=last, email=email, phone=phone, company="BigCo")
    for first, last, email, ext, *_ in WRITES:
        send(first_name=first, last_name=last, email=email, id=ext)


def test_reindex_gives_back_exactly_what_capture_recorded(engine: Engine) -> None:
    """Captured one by one, then today's rules' rows removed: a reindex, two people a
    transaction, puts back every one of them, owners included, and adds nothing else; a
    second run adds nothing."""
    _send_all(engine)
    recorded = _identifiers(engine)
    assert any(block.startswith("role:") for block, _ in recorded[1])  # type: ignore[union-attr]
    assert _reindex(engine) == Reindexed(7, 0, 0, 0)
    _forget_todays_rules(engine)
    assert _identifiers(engine) != recorded
    kept = _identifiers(engine)
    done = _reindex(engine)
    assert _identifiers(engine) == recorded
    assert done.keys == len(recorded[0] - kept[0]) == 1  # the switchboard, to its first caller
    assert done.blocks == len(recorded[1] - kept[1])
    assert done.changed == len({person for *_, person in recorded[1] - kept[1]}) == 7
    assert _reindex(engine, chunk=100) == Reindexed(7, 0, 0, 0)


def test_an_imported_database_needs_nothing(engine: Engine, tmp_path: Path) -> None:
    """The bulk import records what capture does, so a reindex finds nothing to add."""
    _import(engine, _calls_file(tmp_path))
    assert _reindex(engine) == Reindexed(4, 0, 0, 0)


def _behind_the_line(engine: Engine) -> list[int]:
    with UnitOfWork(engine) as uow:
        return uow.store.people_sharing("phone", SWITCHBOARD, phone_block(SWITCHBOARD))


def test_after_a_reindex_a_shared_phone_finds_its_people_again(engine: Engine) -> None:
    """Ann, then Bob, called from one line, giving nothing else. Without the phone's key
    and block nobody is found behind the line; reindexed, both are, and Bob's next call
    finds him."""
    send = _sender(engine)
    ann = send(first_name="Ann", last_name="Lee", phone=SWITCHBOARD).person_id
    bob = send(first_name="Bob", last_name="Stone", phone=SWITCHBOARD).person_id
    assert ann != bob
    _forget_todays_rules(engine)
    assert _behind_the_line(engine) == []
    _reindex(engine)
    assert sorted(_behind_the_line(engine)) == [ann, bob]
    found = send(first_name="Bob", last_name="Stone", phone=SWITCHBOARD)
    assert (found.person_id, found.merged) == (bob, "phone")
