"""Qualification calls: who to call, what to ask, and the answers given.

The **queue** holds the leads on the marketing side (not handed to sales, not final)
that miss answers to the playbook's qualification questions that may be asked on a call
(fields with ``ask: call`` or ``ask: form_or_call``), best grade first, then the longest
waiting; open call tasks from nurture tracks are listed with them. The **script** for
one lead is those questions, in the playbook's order, with their wording and choices.

:func:`record_answers` stores answers with who gave them and how (form, call, email,
api, import), folds them into the person's facts, logs ``answers.recorded`` and rates
the lead again at once on the ``answers`` event: a lead the answers make sales-ready is
routed in the same transaction, like a new A lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.repository import utc
from leadflow.domain.playbook import FieldDef, Playbook
from leadflow.domain.values import clean
from leadflow.errors import InvalidInput, NotFound
from leadflow.services import opt_outs
from leadflow.services.capture import CaptureSettings, rerate
from leadflow.services.uow import UnitOfWork

ANSWER_CHANNELS = ("call", "form", "email", "api", "import")


@dataclass(frozen=True)
class Answered:
    person_id: int
    grade: str
    route: str
    stage: str | None
    owner_rep_id: int | None


@dataclass(frozen=True)
class Question:
    field: str
    label: str
    question: str
    choices: tuple[str, ...]


def call_questions(pb: Playbook) -> list[FieldDef]:
    return [f for f in pb.fields.values() if f.ask in ("call", "form_or_call")]


def script(pb: Playbook, facts: Mapping[str, Any]) -> list[Question]:
    """The questions to ask on a call: those with no answer yet, in playbook order."""
    questions = []
    for f in call_questions(pb):
        if clean(facts.get(f.name)) is not None:
            continue
        choices = tuple(label for label in (f.choices or {}).values()) if f.choices else ()
        wording = f.question or f"What is the {f.label.lower()}?"
        questions.append(Question(f.name, f.label, wording, choices))
    return questions


def record_answers(
    uow: UnitOfWork,
    pb: Playbook,
    person_id: int,
    answers: Mapping[str, str],
    by: str,
    channel: str,
    settings: CaptureSettings,
    now: datetime,
) -> Answered:
    if channel not in ANSWER_CHANNELS:
        raise InvalidInput(
            f"'{channel}' is not a way of answering: {', '.join(ANSWER_CHANNELS)}", "channel"
        )
    if not answers:
        raise InvalidInput("give at least one answer, e.g. --set budget=approved", "answers")
    store = uow.store
    person = store.person(person_id)
    if person is None:
        raise NotFound(f"no lead {person_id}")
    for name, value in answers.items():
        field = pb.fields.get(name)
        if field is None:
            known = ", ".join(pb.fields)
            raise InvalidInput(f"'{name}' is not a field of the playbook (fields: {known})", name)
        issue = field.normalise(value).issue
        if issue:
            raise InvalidInput(issue, name)
    rows = [
        {
            "person_id": person_id,
            "field": name,
            "value": value,
            "at": now,
            "by": by,
            "channel": channel,
        }
        for name, value in answers.items()
    ]
    store.connection.execute(t.answers.insert(), rows)
    facts = {**person.facts, **{k: v for k, v in answers.items() if clean(v) is not None}}
    store.update_person(person_id, {"facts": facts, "updated_at": now})
    data = {"fields": dict(answers), "by": by, "channel": channel}
    store.append_event("answers.recorded", now, person_id, None, data)
    # A consent field answered yes (do_not_call on a call) is an opt-out, kept as an
    # inquiry's is: a later "no" from a CRM export does not take it back.
    said = f"answer ({channel}: {by})"[:100]
    opted = opt_outs.record(store, {person_id: opt_outs.opted_out_in(pb, answers)}, now, said)
    rating = rerate(store, pb, person_id, now, "answers", settings.runtime())
    opt_outs.honour(store, opted, now, said, end_tracks=False)
    state = LeadStore(store.connection).lifecycle(person_id)
    uow.commit()
    return Answered(person_id, rating.grade, rating.route, state.stage, state.owner_rep_id)


@dataclass(frozen=True)
class Waiting:
    person_id: int
    name: str
    company: str | None
    grade: str
    stage: str
    waiting_since: datetime
    source: str | None
    questions: int
    task: str | None  # a nurture call task's purpose


def call_queue(uow: UnitOfWork, pb: Playbook, limit: int = 20) -> list[Waiting]:
    """Leads waiting for a qualification call: open call tasks first, then by grade and age;
    never a person who opted out of calls (or of all contact)."""
    store = uow.store
    marketing = [s.name for s in pb.stages.stages if s.owner == "marketing" and not s.terminal]
    order = {label: n for n, label in enumerate(pb.grade_labels)}
    tasks = {
        int(r.person_id): r.purpose
        for r in NurtureStore(store.connection).tasks("open", "call", limit)
    }
    query = (
        select(
            t.people.c.id,
            t.people.c.first_name,
            t.people.c.last_name,
            t.people.c.company,
            t.people.c.facts,
            t.people.c.created_at,
            t.lead_state.c.grade,
            t.lifecycle.c.stage,
        )
        .join(t.lead_state, t.lead_state.c.person_id == t.people.c.id)
        .join(t.lifecycle, t.lifecycle.c.person_id == t.people.c.id)
        .where(t.lifecycle.c.stage.in_(marketing), t.lifecycle.c.owner_rep_id.is_(None))
        .order_by(t.people.c.created_at, t.people.c.id)
    )
    found: list[Waiting] = []
    for row in store.connection.execute(query):
        missing = script(pb, row.facts or {})
        task = tasks.get(int(row.id))
        if not missing and task is None:
            continue
        name = " ".join(p for p in (row.first_name, row.last_name) if p) or f"lead {row.id}"
        first = store.inquiries_of(int(row.id))
        source = first[0].source if first else None
        found.append(
            Waiting(
                int(row.id),
                name,
                row.company,
                row.grade,
                row.stage,
                utc(row.created_at) or row.created_at,
                source,
                len(missing),
                task,
            )
        )
        if len(found) >= limit * 20:
            break
    # nobody is called who said not to be (a task for them was cancelled then)
    silent = NurtureStore(store.connection).opted_out([w.person_id for w in found])
    found = [w for w in found if not silent.get(w.person_id, set()) & {"call", "any"}]
    found.sort(key=lambda w: (w.task is None, order.get(w.grade, 99), w.waiting_since))
    return found[:limit]
