"""The bulk import decides and stores exactly what capturing its rows one by one would.

Each test imports a messy file with ``imports.import_csv`` (the bulk path, in
small chunks so that people span chunks) into one database, captures the
same rows one at a time with ``capture.capture_in`` into another, and
compares everything both stored: people and their facts, keys and blocks,
accounts, inquiries with their raw payloads, merges with rule and score,
ratings with reasons, events and the quarantine. Both databases first hold
the same earlier captures and activities, so the import also has to find
and fold people it did not create.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from leadflow.adapters.csv_records import unique_names
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.engine import json_text, make_engine, upgrade
from leadflow.adapters.store.repository import Store
from leadflow.bootstrap import bundled_playbook
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import STRIP_CHARS
from leadflow.errors import InvalidInput
from leadflow.services import bulk_import
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture, capture_in
from leadflow.services.imports import column_names, import_csv
from leadflow.services.merges import unmerge
from leadflow.services.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SETTINGS = CaptureSettings()
MAPPINGS = {"Full Name": "name"}

HEADER = [
    "Lead ID",
    "First Name",
    "Last Name",
    "Full Name",
    "Email",
    "e_mail",
    "Phone",
    "Company",
    "Website",
    "budget",
    "timeframe_days",
    "decision_role",
    "contact_me_now",
    "campaign",
    "Notes",
]
FIRST = ["Ann", "Anne", "Bob", "Robert", "Bill", "William", "Jose", "José", "Li", "Kate", "Zoë"]
LAST = ["Lee", "Smith", "Smyth", "García", "Garcia", "O'Brien", "Müller", "Mueller"]
COMPANIES = [
    ("Acme Inc.", "acme.com"),
    ("ACME", "acme.com"),
    ("Globex LLC", "globex.io"),
    ("Initech GmbH", "initech.de"),
    ("Umbrella S.A.", ""),
    ("", ""),
]
PHONES = ["(415) 555-01{:02d}", "+1 415 555 01{:02d}", "415.555.01{:02d}", "call me", ""]


def messy_rows(seed: int, n: int) -> list[list[str]]:
    """Rows with every kind of repeat: case and spaces, formats, nicknames, typos, shared
    role addresses, repeated source ids, missing emails, blanks and garbage."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, domain = rng.choice(COMPANIES)
        local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", "info", "sales"]).lower()
        email = rng.choice(
            [
                f"{local}@{domain or 'gmail.com'}",
                f" {local.upper()}@{(domain or 'gmail.com').upper()} ",
                "",
                "not-an-email",
            ]
        )
        phone = rng.choice(PHONES).format(rng.randrange(12))
        full = ""
        if rng.random() < 0.1:
            full, first, last = f"{first} van {last}", "", ""
        rows.append(
            [
                rng.choice(["", "", f"00Q{rng.randrange(20)}"]),
                first if rng.random() > 0.05 else f" {first.upper()} ",
                last,
                full,
                email,
                rng.choice(["", "", f"{local}@other.org"]),
                phone,
                company,
                rng.choice(["", f"https://www.{domain}/about" if domain else "", "gmail.com"]),
                rng.choice(["approved", " Approved ", "planned", "none", "", "n/a"]),
                rng.choice(["30", "200", "soon", "", " 45 "]),
                rng.choice(["decision_maker", "Decision Maker", "influencer", ""]),
                rng.choice(["yes", "no", "Y", ""]),
                rng.choice(["", "spring-expo"]),
                rng.choice(["", "met at booth", 'said "call me, later"\nsecond line']),
            ]
        )
        if i % 17 == 0:
            rows.append([""] * len(HEADER))  # a row of nothing: skipped
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def captured_alike(
    engine: Engine, reference: Engine, pb: Playbook, path: Path, **options: Any
) -> dict[str, Any]:
    """``path``, imported into ``engine`` already, captured row by row into ``reference``:
    every part of the two databases' snapshots must be the same; the snapshot."""
    import_one_by_one(reference, pb, path, "expo", **options)
    got, want = snapshot(engine), snapshot(reference)
    for part in want:
        assert got[part] == want[part], part
    return got


def seed_earlier(engine: Engine, pb: Playbook) -> None:
    """The same earlier captures and activities in each database."""
    earlier = [
        {"email": "ann.lee@acme.com", "first_name": "Ann", "last_name": "Lee", "budget": "none"},
        {"phone": "+14155550103", "first_name": "Bob", "company": "Globex"},
        {"email": "info@acme.com", "first_name": "Kate", "last_name": "Smith"},
        {
            "email": "x@initech.de",
            "first_name": "Bill",
            "last_name": "Müller",
            "company": "Initech",
        },
    ]
    for i, fields in enumerate(earlier):
        cmd = CaptureInquiry(
            fields, json.dumps(fields), "web", "api", NOW - timedelta(days=3, minutes=i)
        )
        with UnitOfWork(engine) as uow:
            got = capture(uow, pb, cmd, SETTINGS)
            assert got.person_id is not None
            uow.store.insert_activity(
                {"person_id": got.person_id, "type": "webinar", "at": NOW - timedelta(days=i)}
            )
            uow.commit()


def import_one_by_one(
    engine: Engine,
    pb: Playbook,
    path: Path,
    source: str,
    mappings: dict[str, str] | None = None,
    quoted: bool = False,
) -> None:
    """The reference: each row captured alone, as the import once did. ``quoted``: the
    file quotes every value, so an empty value is an empty text, not a missing one."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = unique_names(next(reader))  # a repeated name: "Email (2)"
        names = column_names(header, "salesforce", MAPPINGS if mappings is None else mappings)
        with UnitOfWork(engine) as uow:
            for row in reader:
                if not any(v.strip(STRIP_CHARS) for v in row):
                    continue  # a line of no value is no row
                values = [v if v != "" or quoted else None for v in row]
                raw = json.dumps(dict(zip(header, values, strict=True)), ensure_ascii=False)
                fields = {n: v for n, v in zip(names, values, strict=True) if v is not None}
                cmd = CaptureInquiry(fields, raw, source, "import", NOW)
                capture_in(uow.store, pb, cmd, SETTINGS)
            uow.commit()


def _no_ids(data: Any) -> Any:
    """An event's data without the enrollment's id (ids follow the order of the writes)."""
    data = _json(data)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "enrollment_id"}
    return data


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything stored, with people named by their first inquiry's payload, not their id."""
    with engine.connect() as c:

        def rows(table: t.Table) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in c.execute(select(table).order_by(*table.primary_key))]

        store = Store(c)
        raws = list(c.execute(select(t.inquiries).order_by(t.inquiries.c.id)))
        inquiries = [dict(r._mapping) for r in raws]
        first: dict[int, int] = {}
        for n, inquiry in enumerate(inquiries):
            first.setdefault(inquiry["person_id"], n)
        accounts = {a["id"]: (a["domain"], a["name"], a["name_key"]) for a in rows(t.accounts)}
        order = {i["id"]: n for n, i in enumerate(inquiries)}

        def who(person: int | None) -> int | None:
            return None if person is None else first[person]

        people = {
            who(p["id"]): (
                p["email"],
                p["phone"],
                p["first_name"],
                p["last_name"],
                p["name_key"],
                p["company"],
                p["company_key"],
                accounts.get(p["account_id"]),
                _json(p["facts"]),
                p["inquiry_count"],
            )
            for p in rows(t.people)
        }
        # A person with several inquiries in one chunk moves by the last one's rating in
        # bulk, by each one's in turn one by one (an A between two Cs stays qualified):
        # their stage, and the nurture tracks it enters and leaves, are compared only when
        # they have a single inquiry.
        counts = Counter(i["person_id"] for i in inquiries)
        events = Counter(
            (e["type"], who(e["person_id"]), json.dumps(_no_ids(e["data"]), sort_keys=True))
            for e in rows(t.events)
            # Logged per capture one by one, per chunk in bulk: compared as their outcome,
            # the stored rating and lifecycle below.
            if e["type"] not in ("lead.rated", "stage.changed", "lead.unassigned")
            and not (e["type"].startswith("nurture.") and counts[e["person_id"]] > 1)
        )
        enrollments = sorted(
            (who(r["person_id"]), r["track"], r["status"], r["exit_reason"])
            for r in rows(t.enrollments)
            if counts[r["person_id"]] == 1
        )
        stages = {
            who(r["person_id"]): (r["stage"], r["side"], r["team"], r["owner_rep_id"])
            if counts[r["person_id"]] == 1
            else "staged"
            for r in rows(t.lifecycle)
        }
        return {
            "inquiries": [
                (
                    json.loads(i["payload"]),
                    store.inquiry_fields(raw),
                    i["channel"],
                    i["source"],
                    i["campaign"],
                    i["external_id"],
                    who(i["person_id"]),
                    accounts.get(i["account_id"]),
                )
                for i, raw in zip(inquiries, raws, strict=True)
            ],
            "people": people,
            "stages": stages,
            "keys": sorted(
                (k["kind"], k["value"], who(k["person_id"])) for k in rows(t.person_keys)
            ),
            "blocks": sorted((b["block"], who(b["person_id"])) for b in rows(t.person_blocks)),
            "accounts": sorted(accounts.values(), key=str),
            "merges": [
                (order[m["inquiry_id"]], who(m["person_id"]), m["rule"], m["score"], m["detail"])
                for m in rows(t.merges)
            ],
            "ratings": {
                who(r["person_id"]): (
                    r["grade"],
                    r["score"],
                    r["route"],
                    r["fit"],
                    r["qualification"],
                    r["engagement"],
                    r["segment"],
                    _json(r["reasons"]),
                    _json(r["data_issues"]),
                    r["playbook_version"],
                )
                for r in rows(t.lead_state)
            },
            "events": events,
            "enrollments": enrollments,
            # The reports' rows: the same first touch, rating and gaps either way.
            "funnel": {
                who(r["person_id"]): (
                    r["source"],
                    r["campaign"],
                    r["form_key"],
                    r["inquiries"],
                    r["grade"],
                    r["route"],
                    r["missing"],
                    r["unanswered"],
                    r["stage_type"] if counts[r["person_id"]] == 1 else "staged",
                )
                for r in rows(t.funnel)
            },
            "quarantine": [
                (q["reason"], q["error"], json.loads(q["payload"]), _json(q["fields"]))
                for q in rows(t.quarantine)
            ],
        }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _import(engine: Engine, pb: Playbook, path: Path, chunk_rows: int) -> Any:
    return import_csv(
        lambda: UnitOfWork(engine),
        pb,
        path,
        source="expo",
        now=NOW,
        settings=SETTINGS,
        preset="salesforce",
        mappings=MAPPINGS,
        chunk_rows=chunk_rows,
    )


def plain_import(engine: Engine, path: Path, pb: Playbook | None = None) -> Any:
    """``path`` imported with the btd playbook (or ``pb``), source ``expo``, no options."""
    return import_csv(
        lambda: UnitOfWork(engine),
        pb or bundled_playbook("btd"),
        path,
        source="expo",
        now=NOW,
        settings=SETTINGS,
    )


@pytest.mark.parametrize(("seed", "earlier"), [(1, True), (2, True), (6, False)])
def test_bulk_import_equals_capturing_each_row(
    engine: Engine, reference: Engine, tmp_path: Path, seed: int, earlier: bool
) -> None:
    """With earlier people (found through the database) and into an empty database."""
    pb = bundled_playbook("b2b-saas" if seed == 2 else "btd")
    path = write_csv(tmp_path / "leads.csv", messy_rows(seed, 160))
    if earlier:
        for database in (engine, reference):
            seed_earlier(database, pb)
    summary = _import(engine, pb, path, chunk_rows=23)
    got = captured_alike(engine, reference, pb, path)
    assert all(text == json_text(json.loads(text)) for text in facts_texts(engine))
    earlier_inquiries = 4 if earlier else 0
    assert summary.rows == len(got["inquiries"]) - earlier_inquiries + len(got["quarantine"])
    assert summary.merged_total == len(got["merges"])
    assert sum(summary.quarantined.values()) == len(got["quarantine"])
    assert {"fuzzy_name", "email", "external_id", "phone"} <= set(summary.merged)


def facts_texts(engine: Engine) -> list[str]:
    """Each person's facts as the text stored: a person merged in a later slice of the
    import must store the engine's compact JSON, as a capture does, like everyone else."""
    with engine.connect() as c:
        return sorted(c.exec_driver_sql("SELECT CAST(facts AS TEXT) FROM people").scalars())


def test_a_repeated_column_name_is_its_first_column_and_the_others_are_kept(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """The first column of a name is read under it (as ``rate`` and ``import-activities``
    read it), blank or not; a later one is kept in the payload as 'Email (2)', a name of
    its own that no field has, so the payload holds each name once (a JSON reader keeps
    the last of a name it finds twice). Names that differ (budget and Budget) are several
    names of one field, as ever."""
    pb = bundled_playbook("btd")
    path = tmp_path / "leads.csv"
    path.write_text(
        "Email,Email,Name,budget,Budget,Phone,phone\n"
        "a@x.com,b@y.com,Ann Lee,approved,,415 555 0100,\n"
        "c@x.com,,Bob Ray,,planned,,415 555 0199\n"
        ",a@x.com,Ann Lee,none,,,\n",
        encoding="utf-8",
    )
    import_csv(
        lambda: UnitOfWork(engine),
        pb,
        path,
        source="expo",
        now=NOW,
        settings=SETTINGS,
        preset="salesforce",
    )
    got = captured_alike(engine, reference, pb, path, mappings={})
    assert [p[0] for p in got["people"].values()] == ["a@x.com", "c@x.com"]
    assert [p[8]["budget"] for p in got["people"].values()] == ["approved", "planned"]
    [(reason, _, payload, _)] = got["quarantine"]
    assert reason == "no_identity"
    assert payload == {
        "Email": None,
        "Email (2)": "a@x.com",
        "Name": "Ann Lee",
        "budget": "none",
        "Budget": None,
        "Phone": None,
        "phone": None,
    }
    with engine.connect() as c:
        texts = c.execute(select(t.inquiries.c.payload).order_by(t.inquiries.c.id)).scalars()
        first = json.loads(next(texts), object_pairs_hook=list)
    assert first[:2] == [("Email", "a@x.com"), ("Email (2)", "b@y.com")]  # each name once


def test_a_blank_value_hides_no_other_name_of_its_field(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """Salesforce quotes every value, so an empty Phone is "" (an empty text), not a
    missing value: it must not hide the Mobile beside it, nor a blank email column the
    other, nor a blank column of the playbook's company_size (its ``columns:`` name
    Employees) the company_size given before it."""
    pb = bundled_playbook("b2b-saas")
    path = tmp_path / "sf.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerows(
            [
                [
                    "First Name",
                    "Last Name",
                    "Email",
                    "e_mail",
                    "Phone",
                    "Mobile",
                    "Lead ID",
                    "company_size",
                    "Employees",
                ],
                ["Lee", "Chan", "", "", "", "+49 30 1234567", "", "250", " "],
                ["Ann", "Lee", " ", "ann@acme.com", "\t", "(415) 555-0100", "", "", "900"],
                ["Bo", "Ray", "", "", "", "", "", "", ""],
            ]
        )
    summary = import_csv(
        lambda: UnitOfWork(engine),
        pb,
        path,
        source="expo",
        now=NOW,
        settings=SETTINGS,
        preset="salesforce",
    )
    got = captured_alike(engine, reference, pb, path, mappings={}, quoted=True)
    assert (summary.new_people, dict(summary.quarantined)) == (2, {"no_identity": 1})
    people = [(p[0], p[1], p[8].get("company_size")) for p in got["people"].values()]
    assert people == [(None, "+49301234567", "250"), ("ann@acme.com", "+14155550100", "900")]


def test_placeholder_companies_make_no_accounts_and_join_nobody(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """A purchased list: common names, free-mail addresses, "N/A" or "Self-employed" for
    a company. Nobody is joined by name on them and they are no accounts."""
    pb = bundled_playbook("btd")
    path = tmp_path / "list.csv"
    path.write_text(
        "email,first_name,last_name,company\n"
        "john.smith@gmail.com,John,Smith,N/A\n"
        "jsmith77@yahoo.com,John,Smith,n/a\n"
        "x@hotmail.com,Ann,Lee,Self-employed\n"
        "y@hotmail.com,Ann,Lee,self employed\n"
        "z@hotmail.com,Bo,Ray,none\n"
        "bo@acme.com,Bo,Ray,-\n",
        encoding="utf-8",
    )
    summary = plain_import(engine, path, pb)
    got = captured_alike(engine, reference, pb, path, mappings={})
    assert (summary.new_people, summary.merged_total) == (6, 0)
    assert got["accounts"] == [("acme.com", None, None)]
    assert {p[5] for p in got["people"].values()} == {None}
    assert not [b for b, _ in got["blocks"] if b.startswith("company:")]


def test_a_full_name_written_last_first_or_with_a_suffix_finds_its_person(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """ "Smith, John" is John Smith, and so is "John Smith Jr.": at one company they are
    joined to the John Smith captured before by name."""
    pb = bundled_playbook("btd")
    for database in (engine, reference):
        fields = {"email": "john@bigco.com", "first_name": "John", "last_name": "Smith",
                  "company": "BigCo"}  # fmt: skip
        cmd = CaptureInquiry(fields, json.dumps(fields), "web", "api", NOW - timedelta(days=1))
        with UnitOfWork(database) as uow:
            capture(uow, pb, cmd, SETTINGS)
            uow.commit()
    path = tmp_path / "list.csv"
    path.write_text(
        "email,name,company\n"
        'js@bigco.com,"Smith, John",BigCo\n'
        "jsmith@bigco.com,John Smith Jr.,BigCo\n"
        'ann@bigco.com,"Lee, Ann, PhD",BigCo\n',
        encoding="utf-8",
    )
    summary = plain_import(engine, path, pb)
    got = captured_alike(engine, reference, pb, path, mappings={})
    assert (summary.new_people, summary.merged["fuzzy_name"]) == (1, 2)
    names = {p[0]: (p[2], p[3], p[4]) for p in got["people"].values()}
    assert names == {
        "john@bigco.com": ("John", "Smith", "john smith"),
        "ann@bigco.com": ("Ann", "Lee", "ann lee"),
    }


@pytest.mark.parametrize("playbook", ["btd", "b2b-saas"])
def test_a_file_with_no_column_for_the_playbook_is_imported_as_captured(
    engine: Engine, reference: Engine, tmp_path: Path, playbook: str
) -> None:
    """A plain contact list: every playbook field blank on every row (each fact a literal,
    which once made a frame of one row against the file's three)."""
    pb = bundled_playbook(playbook)
    path = tmp_path / "contacts.csv"
    path.write_text(
        "email,first_name,last_name\na@x.com,Ann,Lee\nb@y.com,Bob,Ray\nA@X.com,Ann,Lee\n",
        encoding="utf-8",
    )
    summary = plain_import(engine, path, pb)
    captured_alike(engine, reference, pb, path, mappings={})
    assert (summary.rows, summary.new_people, summary.merged_total) == (3, 2, 1)


def test_an_unreadable_email_with_a_nul_or_of_any_length_is_quarantined_and_quoted_short(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """The error quotes the value with its control characters escaped (the database
    refuses a NUL in text) and cut to a readable length; the other rows go on."""
    pb = bundled_playbook("btd")
    path = tmp_path / "leads.csv"
    long = "x" * 5_000 + "@"
    path.write_text(
        f"email,first_name,budget\nn3@acme.com\x00,Cy,approved\n{long},Al,none\n"
        "n4@acme.com,Di,planned\n",
        encoding="utf-8",
    )
    summary = plain_import(engine, path, pb)
    assert (summary.rows, summary.new_people, dict(summary.quarantined)) == (
        3,
        1,
        {"no_identity": 2},
    )
    with engine.connect() as connection:
        query = select(t.quarantine.c.error).order_by(t.quarantine.c.id)
        errors = list(connection.execute(query).scalars())
    assert "n3@acme.com\\x00" in errors[0]
    assert "(5,001 characters)" in errors[1] and len(errors[1]) < 300
    captured_alike(engine, reference, pb, path, mappings={})


def test_a_file_with_no_column_to_tell_who_is_quarantined_row_by_row(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("note,colour\nhello,red\nbye,blue\n", encoding="utf-8")
    summary = plain_import(engine, path)
    assert (summary.rows, summary.new_people, dict(summary.quarantined)) == (
        2,
        0,
        {"no_identity": 2},
    )


def test_a_map_to_a_field_the_import_does_not_read_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Email,Tel,Money\nx@acme.com,4155550101,approved\n", encoding="utf-8")

    def run(mappings: dict[str, str]) -> Any:
        return import_csv(
            lambda: UnitOfWork(engine),
            bundled_playbook("btd"),
            path,
            source="expo",
            now=NOW,
            settings=SETTINGS,
            mappings=mappings,
        )

    said = r"'emial' is not a field a capture reads \(did you mean 'email'\?\); identity"
    with pytest.raises(InvalidInput, match=said) as refused:
        run({"Email": "emial"})
    assert refused.value.where == "--map"
    with UnitOfWork(engine) as uow:
        assert uow.store.count(t.inquiries) == 0
    summary = run({"Email": "e-mail", "Tel": "telephone", "Money": "Budget"})
    assert (summary.rows, summary.new_people) == (1, 1)
    with UnitOfWork(engine) as uow:
        person = uow.store.person(1)
    assert person is not None
    assert (person.email, person.phone, person.facts["budget"]) == (
        "x@acme.com",
        "+14155550101",
        "approved",
    )


def test_text_that_is_not_utf8_anywhere_in_the_file_is_refused_naming_its_line(
    engine: Engine, tmp_path: Path
) -> None:
    """Past the first block too (it was read lossily there, stored as U+FFFD); nothing of
    the file is imported."""
    path = tmp_path / "leads.csv"
    rows = [f"u{i}@acme.com,Ann,Lee{i},approved" for i in range(2_000)]
    latin = "rene@societe.fr,René,Müller,approved".encode("latin-1")
    path.write_bytes(
        ("email,first_name,last_name,budget\n" + "\n".join(rows) + "\n").encode() + latin + b"\n"
    )
    with pytest.raises(
        InvalidInput, match=r"not UTF-8 text: line 2,002, byte 20 of it \(0xe9\)"
    ) as refused:
        plain_import(engine, path)
    assert refused.value.where == str(path)
    with UnitOfWork(engine) as uow:
        assert uow.store.count(t.inquiries) == 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "email,name\na@x.com,Ann\nb@x.com,Bob,extra\n",
            "line 3 has 3 values, but the header names 2",
        ),
        ('email,name\na@x.com,"Ann\nb@x.com,Bob\n', "from line 2: unexpected end of data"),
    ],
    ids=["too-many-values", "open-quote"],
)
def test_a_row_the_csv_reader_refuses_is_named_by_its_line(
    engine: Engine, tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match=says):
        plain_import(engine, path)


def test_a_file_with_a_header_and_no_rows_imports_nothing(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email,first_name\n", encoding="utf-8")
    summary = plain_import(engine, path)
    assert (summary.rows, summary.new_people, summary.merged_total) == (0, 0, 0)


def test_people_captured_while_an_import_runs_are_found_by_it(
    engine: Engine, tmp_path: Path
) -> None:
    """Between two chunks another connection captures someone a later row names."""
    pb = bundled_playbook("btd")
    rows = [[""] * len(HEADER) for _ in range(30)]
    for i, row in enumerate(rows):
        row[4] = f"ann{i}@acme.com"  # no names: nobody joins anybody by name
    path = write_csv(tmp_path / "leads.csv", rows)
    captured: list[int | None] = []

    def between_chunks(done: int, total: int) -> None:
        if done == 10:
            fields = {"email": "ANN25@acme.com", "first_name": "Ann"}
            cmd = CaptureInquiry(fields, json.dumps(fields), "web", "api", NOW)
            with UnitOfWork(engine) as uow:
                captured.append(capture(uow, pb, cmd, SETTINGS).person_id)

    summary = import_csv(
        lambda: UnitOfWork(engine),
        pb,
        path,
        source="expo",
        now=NOW,
        settings=SETTINGS,
        chunk_rows=10,
        progress=between_chunks,
    )
    assert (summary.new_people, summary.merged["email"]) == (29, 1)
    with engine.connect() as c:
        query = select(t.inquiries.c.person_id).where(t.inquiries.c.payload.contains("ann25@"))
        assert c.execute(query).scalar() == captured[0]


def test_a_value_too_long_for_its_column_is_quarantined_on_every_database(
    engine: Engine, tmp_path: Path
) -> None:
    rows = messy_rows(3, 4)
    rows[1][1] = "A" * 250  # first name: at most 200
    rows[1][4] = "long@acme.com"
    path = write_csv(tmp_path / "leads.csv", rows)
    summary = _import(engine, bundled_playbook("btd"), path, chunk_rows=1000)
    assert summary.quarantined["database"] == 1
    with engine.connect() as c:
        query = select(t.quarantine.c.error, t.quarantine.c.payload)
        ((error, payload),) = c.execute(query.where(t.quarantine.c.reason == "database"))
    assert "people.first_name takes at most 200 characters, got 250" in error
    assert json.loads(payload)["First Name"] == "A" * 250  # kept whole, for a fix and replay


def test_an_overlong_source_is_refused_before_anything_is_written(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "leads.csv", messy_rows(4, 3))
    with pytest.raises(InvalidInput, match="--source takes at most 200"):
        import_csv(
            lambda: UnitOfWork(engine),
            bundled_playbook("btd"),
            path,
            source="s" * 201,
            now=NOW,
            settings=SETTINGS,
        )
    with engine.connect() as c:
        assert c.execute(select(t.inquiries.c.id)).first() is None


def test_an_imported_merge_is_undone_as_a_captured_one_is(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    """Undoing rebuilds people from their inquiries' fields, which an import keeps once
    per file (its columns) instead of on every inquiry.

    (Without the second email column: a captured inquiry's fields are stored with their
    names sorted, so rebuilding one that gave two emails reads them in another order
    than the capture did, on either path.)
    """
    pb = bundled_playbook("btd")
    path = tmp_path / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows([row[:5] + row[6:] for row in [HEADER, *messy_rows(5, 120)]])
    _import(engine, pb, path, chunk_rows=1000)
    import_one_by_one(reference, pb, path, "expo")
    for database in (engine, reference):
        with UnitOfWork(database) as uow:
            merges = uow.store.connection.execute(select(t.merges.c.id).order_by(t.merges.c.id))
            for (merge,) in list(merges)[:3]:
                unmerge(uow.store, pb, merge, SETTINGS, NOW + timedelta(days=1))
            uow.commit()
    got, want = snapshot(engine), snapshot(reference)
    for shot in (got, want):  # the split-off person's id: PostgreSQL's sequences differ
        shot["events"] = Counter(
            (kind, who, json.dumps({**json.loads(data), "new_person_id": 0}))
            if kind == "person.unmerged"
            else (kind, who, data)
            for (kind, who, data), n in shot["events"].items()
            for _ in range(n)
        )
    for part in want:
        assert got[part] == want[part], part
    with engine.connect() as c:
        assert c.execute(select(t.imports.c.columns)).scalar_one()[4] == ["Email", "email"]
        assert c.execute(select(t.merges.c.undone_at).where(t.merges.c.id == 1)).scalar()
        assert c.execute(select(t.inquiries.c.fields).limit(1)).scalar() is None


@pytest.mark.parametrize("fails", [False, True], ids=["done", "failed"])
def test_an_import_writes_without_foreign_key_checks_and_breaks_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    """On SQLite the import turns the checks off for its connection (``BulkStore``): every
    row it wrote still names a person and a company that exist, and the connection
    checks again once back in the pool, also after an import that failed inside a
    write transaction."""
    engine = make_engine(f"sqlite:///{tmp_path / 'leadflow.db'}", pool_size=1, max_overflow=0)
    upgrade(engine)
    pb = bundled_playbook("btd")
    seed_earlier(engine, pb)
    path = write_csv(tmp_path / "leads.csv", messy_rows(5, 120))
    connections: list[Any] = []
    event.listen(engine, "checkout", lambda dbapi, *_: connections.append(dbapi))
    checking: list[int] = []
    fold = bulk_import.fold_chunk

    def fold_then_fail(*args: Any) -> None:
        checking.append(connections[-1].execute("PRAGMA foreign_keys").fetchone()[0])
        fold(*args)
        if fails and len(checking) == 3:
            raise RuntimeError("stopped half-way")

    monkeypatch.setattr(bulk_import, "fold_chunk", fold_then_fail)
    try:
        _import(engine, pb, path, chunk_rows=23)
    except RuntimeError:
        assert fails
    else:
        assert not fails
    assert checking and set(checking) == {0}
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert c.execute(select(t.inquiries.c.id)).first() is not None
    assert len({id(c) for c in connections}) == 1  # the import's connection, back in the pool
    engine.dispose()
