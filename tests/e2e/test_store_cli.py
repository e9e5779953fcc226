"""The database commands end to end, through the real CLI on a SQLite file."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BTD = ROOT / "examples" / "playbooks" / "btd.yaml"

LEADS = """First Name,Last Name,Email,Phone,Company,budget,decision_role,timeframe_days
Ann,Lee,ann.lee@acme.com,(415) 555-0100,Acme Inc.,approved,Decision Maker,30
ANN,LEE,ANN.LEE@ACME.COM,,ACME,,,
Bob,Smith,bob@globex.com,,Globex,planned,influencer,200
Robert,Smith,robert.smith@globex.com,,Globex LLC,,,
Nobody,,not-an-email,call me,,,,
"""


def environment(tmp: Path) -> dict[str, str]:
    """The CLI's environment: a SQLite file in ``tmp``, the btd playbook."""
    return {
        **os.environ,
        "LEADFLOW_DATABASE_URL": f"sqlite:///{tmp / 'lf.db'}",
        "LEADFLOW_PLAYBOOK": str(BTD),
    }


def leadflow(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadflow", *args],
        cwd=tmp,
        env=environment(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_merge_unmerge_quarantine_export(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    report = leadflow(tmp_path, "import", "leads.csv", "--source", "expo")
    ok(report)
    assert "new people" in report.stderr and "quarantined (no_identity)" in report.stderr

    people = list(
        csv.DictReader(io.StringIO(ok(leadflow(tmp_path, "export", "people", "-o", "-"))))
    )
    assert sorted(p["email"] for p in people) == ["ann.lee@acme.com", "bob@globex.com"]
    ann = next(p for p in people if p["email"] == "ann.lee@acme.com")
    assert (ann["grade"], ann["route"], ann["inquiry_count"]) == ("A", "sales", "2")

    merges = list(csv.DictReader(io.StringIO(ok(leadflow(tmp_path, "merges", "--format", "csv")))))
    assert [(m["merge"], m["rule"]) for m in merges] == [("2", "fuzzy_name"), ("1", "email")]

    listed = ok(leadflow(tmp_path, "quarantine", "list", "--format", "json"))
    assert '"reason": "no_identity"' in listed
    fixed = leadflow(tmp_path, "quarantine", "replay", "1", "--set", "email=nobody@example.org")
    ok(fixed)
    assert "Replayed 1" in fixed.stderr
    assert '"reason"' not in ok(leadflow(tmp_path, "quarantine", "list", "--format", "json"))
    done = ok(leadflow(tmp_path, "quarantine", "list", "--all", "--format", "json"))
    assert '"replayed_as": "inquiry 5"' in done

    inquiries = ok(leadflow(tmp_path, "export", "inquiries", "-o", "-"))
    rows = list(csv.DictReader(io.StringIO(inquiries)))
    assert len(rows) == 5
    assert {
        "inquiry_id",
        "external_id",
        "source",
        "person_id",
        "account_id",
        "grade",
        "route",
    } <= set(rows[0])

    undone = leadflow(tmp_path, "unmerge", "2")  # Robert Smith joined Bob Smith
    ok(undone)
    people = list(
        csv.DictReader(io.StringIO(ok(leadflow(tmp_path, "export", "people", "-o", "-"))))
    )
    assert len(people) == 4
    assert all(p["created_at"] <= p["updated_at"] for p in people)

    again = leadflow(tmp_path, "unmerge", "2")
    assert again.returncode == 2 and "already undone" in again.stderr


def test_merges_give_programs_their_scores_as_numbers_and_undone_as_true_or_false(
    tmp_path: Path,
) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo"))
    ok(leadflow(tmp_path, "unmerge", "2"))
    with sqlite3.connect(tmp_path / "lf.db") as db:
        stored = dict(db.execute("SELECT id, score FROM merges"))
    listed = json.loads(ok(leadflow(tmp_path, "merges", "--format", "json")))
    assert [(m["merge"], m["score"], m["undone"]) for m in listed] == [
        (2, stored[2], True),
        (1, stored[1], False),
    ]
    assert all(type(m["score"]) is float for m in listed)  # not "1.00"
    rows = csv.DictReader(io.StringIO(ok(leadflow(tmp_path, "merges", "--format", "csv"))))
    assert [(int(r["merge"]), float(r["score"]), r["undone"]) for r in rows] == [
        (2, stored[2], "yes"),
        (1, stored[1], ""),
    ]
    table = ok(leadflow(tmp_path, "merges"))
    assert f"{stored[1]:.2f}" in table and "yes" in table  # people read two places


def test_reindex_puts_back_the_blocks_an_older_database_lacks(tmp_path: Path) -> None:
    """Ann Lee's former name (she wrote as Ann Park later) and her phone, as a database
    made before those rules has them not: the command puts them back and says so."""
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo"))
    later = LEADS.splitlines()[0] + "\nAnn,Park,ann.lee@acme.com,,,,,\n"
    (tmp_path / "later.csv").write_text(later, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "later.csv", "--source", "expo"))
    with sqlite3.connect(tmp_path / "lf.db") as db:
        recorded = sorted(db.execute("SELECT block, person_id FROM person_blocks"))
        assert ("name:ann lee", 1) in recorded
        db.execute("DELETE FROM person_blocks WHERE block LIKE 'name:%'")
        db.execute("DELETE FROM person_keys WHERE kind = 'phone'")
    done = " ".join(ok_err(leadflow(tmp_path, "reindex")).split())
    assert done == (
        "Reindexed 2 people: 1 given what they lacked"
        " (identifiers added: 1, block memberships added: 1)."
    )
    with sqlite3.connect(tmp_path / "lf.db") as db:
        assert sorted(db.execute("SELECT block, person_id FROM person_blocks")) == recorded
        assert list(db.execute("SELECT person_id FROM person_keys WHERE kind = 'phone'")) == [(1,)]
    again = " ".join(ok_err(leadflow(tmp_path, "reindex")).split())
    assert "2 people: 0 given what they lacked (identifiers added: 0, block" in again


def ok_err(result: subprocess.CompletedProcess[str]) -> str:
    ok(result)
    return result.stderr


HOSTILE = """First Name,Last Name,Email,Phone,Company,Lead ID
"=HYPERLINK(""http://evil.example"",""x"")",-2+3,ann@acme.com,(415) 555-0100,@SUM(A1),+1+1
"""


def test_an_export_keeps_spreadsheets_from_running_what_leads_typed(tmp_path: Path) -> None:
    """Text starting with = + - @ is written behind a ' (phones in E.164 too); --raw
    writes every value as stored."""
    (tmp_path / "leads.csv").write_text(HOSTILE, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "=cmd", "--preset", "salesforce"))

    def exported(what: str, *raw: str) -> dict[str, str]:
        (row,) = csv.DictReader(
            io.StringIO(ok(leadflow(tmp_path, "export", what, "-o", "-", *raw)))
        )
        return row

    person = exported("people")
    assert (person["first_name"], person["last_name"]) == (
        '\'=HYPERLINK("http://evil.example","x")',
        "'-2+3",
    )
    assert (person["phone"], person["company"]) == ("'+14155550100", "'@SUM(A1)")
    assert (person["email"], person["inquiry_count"]) == ("ann@acme.com", "1")
    inquiry = exported("inquiries")
    assert (inquiry["external_id"], inquiry["source"]) == ("'+1+1", "'=cmd")
    assert not inquiry["score"].startswith("'")
    assert exported("accounts")["name"] == "'@SUM(A1)"

    raw = exported("people", "--raw")
    assert (raw["first_name"], raw["phone"]) == (
        '=HYPERLINK("http://evil.example","x")',
        "+14155550100",
    )
    assert exported("inquiries", "--raw")["external_id"] == "+1+1"
    ok(leadflow(tmp_path, "export", "accounts", "-o", "accounts.csv"))
    assert "'@SUM(A1)" in (tmp_path / "accounts.csv").read_text(encoding="utf-8")


def test_a_file_is_imported_once_unless_told_again_and_the_imports_are_listed(
    tmp_path: Path,
) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo"))
    twice = leadflow(tmp_path, "import", "leads.csv", "--source", "expo")
    assert twice.returncode == 2
    said = " ".join(twice.stderr.split())
    assert "this file was imported already, by import 1 of" in said and "--again" in said
    assert "Traceback" not in twice.stderr
    again = leadflow(tmp_path, "import", "leads.csv", "--source", "expo", "--again")
    assert "(import 2)" in ok(again) + again.stderr

    listed = json.loads(ok(leadflow(tmp_path, "imports", "--format", "json")))
    assert [(i["import"], i["kind"], i["file"], i["rows"], i["taken"]) for i in listed] == [
        (2, "inquiries", "leads.csv", 5, 5),
        (1, "inquiries", "leads.csv", 5, 5),
    ]
    assert all(i["finished"] and len(i["sha256"]) == 64 for i in listed)
    assert [i["campaign"] for i in listed] == [None, None]  # none given: null, not ""
    with sqlite3.connect(tmp_path / "lf.db") as db:  # from before imports knew their files
        db.execute(
            "INSERT INTO imports (started_at, source, columns, kind)"
            " VALUES ('2026-01-05 10:00:00', 'old', '[]', 'inquiries')"
        )
    old = json.loads(ok(leadflow(tmp_path, "imports", "--format", "json")))[0]
    assert (old["source"], old["file"], old["rows"], old["taken"]) == ("old", None, None, None)
    assert (old["finished"], old["sha256"]) == (None, None)
    exported = ok(leadflow(tmp_path, "export", "inquiries", "-o", "-"))
    assert len(list(csv.DictReader(io.StringIO(exported)))) == 8  # 4 a time, 1 quarantined


def test_an_import_still_running_is_listed_so_and_not_resumed(tmp_path: Path) -> None:
    """A second command must not take the rows an import still running takes."""
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo", "--campaign", "fair"))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "leadflow"])
    try:
        with sqlite3.connect(tmp_path / "lf.db") as db:  # as if it were still importing
            db.execute(
                "UPDATE imports SET finished_at = NULL, taken = 2, runner = ?",
                (f"{socket.gethostname()}:{other.pid}",),
            )
        listed = json.loads(ok(leadflow(tmp_path, "imports", "--format", "json")))
        assert [(i["campaign"], i["taken"], i["finished"]) for i in listed] == [
            ("fair", 2, "running")
        ]
        resumed = leadflow(tmp_path, "import", "leads.csv", "--source", "expo", "--resume")
        assert resumed.returncode == 2 and "Traceback" not in resumed.stderr
        said = " ".join(resumed.stderr.split())
        assert f"is running now (process {other.pid} on this machine)" in said
        assert "has taken 2 of its 5 rows" in said
    finally:
        other.kill()
        other.wait()
    listed = json.loads(ok(leadflow(tmp_path, "imports", "--format", "json")))
    assert listed[0]["finished"] == "stopped"


def test_an_unknown_merge_is_a_clear_error(tmp_path: Path) -> None:
    result = leadflow(tmp_path, "unmerge", "99")
    assert result.returncode == 2
    assert "no merge 99" in result.stderr


def test_a_form_is_deactivated_and_activated_from_the_cli(tmp_path: Path) -> None:
    key = ok(leadflow(tmp_path, "forms", "create", "Contact us")).strip()
    off = leadflow(tmp_path, "forms", "deactivate", key)
    ok(off)
    assert "deactivated" in off.stderr
    assert active(tmp_path, key) == 0
    ok(leadflow(tmp_path, "forms", "activate", key))
    assert active(tmp_path, key) == 1
    unknown = leadflow(tmp_path, "forms", "deactivate", "nope")
    assert unknown.returncode == 2 and "no form with key 'nope'" in unknown.stderr


def test_a_form_map_to_no_field_is_said_with_the_nearest_name(tmp_path: Path) -> None:
    """A typo in ``--map`` would keep every post's answer where no rule reads it: the form is
    made (a map may name a field the playbook's next version adds), and standard error
    says which target, and the name meant."""
    made = leadflow(
        tmp_path, "forms", "create", "Expo", "--map", "00N1=budgte", "--map", "00N2=e-mail",
        "--map", "00N3=Decision Role", "--map", "00N4=favourite_colour",
    )  # fmt: skip
    key = ok(made).strip()
    assert re.fullmatch(r"[\w-]+", key), "the key alone on standard output"
    said = " ".join(made.stderr.split())
    assert "'00N1=budgte': 'budgte' is no field of playbook" in said
    assert "did you mean 'budget'?" in said
    assert "'00N4=favourite_colour'" in said and said.count("no rule reads it") == 2
    assert "00N2" not in said and "00N3" not in said


def test_forms_list_shows_each_key_whole_and_gives_csv_and_json(tmp_path: Path) -> None:
    """The key goes into a form's action URL: a table that cut it short was of no use."""
    long = ok(
        leadflow(
            tmp_path,
            *("forms", "create", "Contact us about the enterprise plan"),
            *("--source", "website-enterprise-contact"),
            *("--thank-you", "https://www.example.com/thank-you/enterprise"),
            *("--map", "00N5e00000abcde=budget", "--map", "00N5e00000fghij=timeframe_days"),
        )
    ).strip()
    short = ok(leadflow(tmp_path, "forms", "create", "Demo")).strip()
    ok(leadflow(tmp_path, "forms", "deactivate", short))
    table = subprocess.run(
        [sys.executable, "-m", "leadflow", "forms", "list"],
        cwd=tmp_path,
        env={**environment(tmp_path), "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert long in ok(table) and short in table.stdout, table.stdout

    rows = list(
        csv.DictReader(io.StringIO(ok(leadflow(tmp_path, "forms", "list", "--format", "csv"))))
    )
    assert [(r["key"], r["map"], r["thank_you"], r["active"]) for r in rows] == [
        (
            long,
            "00N5e00000abcde=budget, 00N5e00000fghij=timeframe_days",
            "https://www.example.com/thank-you/enterprise",
            "yes",
        ),
        (short, "", "", "no"),
    ]
    listed = json.loads(ok(leadflow(tmp_path, "forms", "list", "--format", "json")))
    assert listed[1] == {
        "key": short,
        "name": "Demo",
        "source": "form:Demo",
        "thank_you": None,
        "map": {},
        "honeypot": "website_url",
        "active": False,
    }
    assert listed[0]["map"] == {"00N5e00000abcde": "budget", "00N5e00000fghij": "timeframe_days"}
    refused = leadflow(tmp_path, "forms", "list", "--format", "xml")
    assert refused.returncode == 2 and "--format: unknown format 'xml'" in refused.stderr


def test_keys_list_shows_each_prefix_whole_and_gives_csv_and_json(tmp_path: Path) -> None:
    """The prefix is what `keys revoke` takes: a table that cut it short was of no use."""
    empty = leadflow(tmp_path, "keys", "list", "--format", "json")
    assert json.loads(ok(empty)) == [] and empty.stderr == ""  # the hint is for people
    named = ok(leadflow(tmp_path, "keys", "create", "--scope", "admin", "--name", "x" * 60))
    unnamed = ok(leadflow(tmp_path, "keys", "create", "--scope", "capture")).strip()
    ok(leadflow(tmp_path, "keys", "revoke", unnamed))
    first, second = named.split("_")[1], unnamed.split("_")[1]
    table = subprocess.run(
        [sys.executable, "-m", "leadflow", "keys", "list"],
        cwd=tmp_path,
        env={**environment(tmp_path), "COLUMNS": "50"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert first in ok(table) and second in table.stdout, table.stdout

    rows = list(
        csv.DictReader(io.StringIO(ok(leadflow(tmp_path, "keys", "list", "--format", "csv"))))
    )
    assert [(r["prefix"], r["scope"], r["name"], r["revoked"] == "") for r in rows] == [
        (first, "admin", "x" * 60, True),
        (second, "capture", "", False),
    ]
    listed = json.loads(ok(leadflow(tmp_path, "keys", "list", "--format", "json")))
    assert [one["prefix"] for one in listed] == [first, second]
    assert listed[0]["revoked"] is None and listed[1]["name"] is None
    stamped = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(stamped, listed[0]["created"]) and re.fullmatch(stamped, rows[1]["revoked"])
    assert unnamed not in json.dumps(listed) and named.strip() not in json.dumps(listed)
    refused = leadflow(tmp_path, "keys", "list", "--format", "xml")
    assert refused.returncode == 2 and "--format: unknown format 'xml'" in refused.stderr


def active(tmp: Path, key: str) -> int:
    with sqlite3.connect(tmp / "lf.db") as db:
        return int(db.execute("SELECT active FROM forms WHERE key = ?", (key,)).fetchone()[0])


def on_a_terminal(tmp: Path, *args: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its standard streams, as a person would."""
    import pty

    env = {**environment(tmp), "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "leadflow", *args],
        cwd=tmp,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal is gone once the command ends
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=120), output.decode(errors="replace")


def test_imports_and_rate_draw_their_progress_on_a_terminal(tmp_path: Path) -> None:
    """The progress bar is drawn only on a terminal (tests otherwise never see it): its
    row count must render before the file's rows are counted."""
    ok(leadflow(tmp_path, "init"))
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    code, output = on_a_terminal(tmp_path, "import", "leads.csv", "--source", "expo")
    assert code == 0, output
    assert "rows read" in output and "Traceback" not in output
    code, output = on_a_terminal(tmp_path, "rate", "leads.csv", "-o", "rated.csv")
    assert code == 0, output
    assert (tmp_path / "rated.csv").exists()
    (tmp_path / "acts.csv").write_text(
        "type,at,email\npage_view,2026-11-20T10:00:00Z,nobody@example.com\n", encoding="utf-8"
    )
    code, output = on_a_terminal(tmp_path, "import-activities", "acts.csv")
    assert code == 0, output
    assert "skipped 1" in output and "Traceback" not in output


def test_files_that_cannot_be_read_or_written_are_clear_errors_and_spoil_nothing(
    tmp_path: Path,
) -> None:
    ok(leadflow(tmp_path, "init"))
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo"))
    ok(leadflow(tmp_path, "export", "people", "-o", "people.csv"))
    kept = (tmp_path / "people.csv").read_bytes()
    assert kept.count(b"\n") >= 2  # the header and the people
    typo = leadflow(tmp_path, "export", "persons", "-o", "people.csv")
    assert typo.returncode == 2 and "cannot export 'persons'" in typo.stderr
    assert (tmp_path / "people.csv").read_bytes() == kept
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    (tmp_path / "folder").mkdir()
    for args, says in [
        (("export", "people", "-o", "nowhere/people.csv"), "there is no folder nowhere"),
        (("export", "people", "-o", "folder"), "is a folder"),
        (("import", "folder", "--source", "expo"), "folder"),
        (("import", "missing.csv", "--source", "expo"), "missing.csv"),
    ]:
        result = leadflow(tmp_path, *args)
        assert result.returncode == 2, result.stderr
        assert says in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_database_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'nowhere' / 'lf.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "leadflow", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "there is no folder" in result.stderr and "nowhere" in result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "command",
    [("merges",), ("report", "funnel"), ("keys", "list"), ("worker", "--once"), ("serve",)],
)
def test_a_database_that_cannot_be_reached_is_one_line_naming_the_setting(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    port = closed_port()
    url = f"postgresql+psycopg://leadflow:s3cret@127.0.0.1:{port}/leadflow"
    if command == ("serve",):
        command = ("serve", "--port", str(closed_port()))
    result = subprocess.run(
        [sys.executable, "-m", "leadflow", *command],
        cwd=tmp_path,
        env={**environment(tmp_path), "LEADFLOW_DATABASE_URL": url, "LC_ALL": "C"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    said, *more = result.stderr.splitlines()
    shown = f"postgresql+psycopg://leadflow:***@127.0.0.1:{port}/leadflow"
    assert said.startswith(f"error: LEADFLOW_DATABASE_URL: cannot connect to '{shown}': ")
    assert "Connection refused" in said, said  # the server's (here the system's) own words
    assert more == [], result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr


@pytest.mark.parametrize("command", [("merges",), ("report", "funnel")])
def test_a_database_that_never_answers_is_given_up_after_the_connect_timeout(
    tmp_path: Path, silent_port: int, command: tuple[str, ...]
) -> None:
    url = f"postgresql+psycopg://leadflow:s3cret@127.0.0.1:{silent_port}/leadflow"
    env = {**environment(tmp_path), "LEADFLOW_DATABASE_URL": url}
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "leadflow", *command],
        cwd=tmp_path,
        env={**env, "LEADFLOW_DATABASE_CONNECT_TIMEOUT": "2"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert time.monotonic() - began < 20  # not the 130 seconds psycopg waits by default
    assert result.returncode == 2, result.stderr
    shown = f"postgresql+psycopg://leadflow:***@127.0.0.1:{silent_port}/leadflow"
    assert result.stderr == (
        f"error: LEADFLOW_DATABASE_URL: cannot connect to '{shown}': no answer within"
        " 2 seconds (LEADFLOW_DATABASE_CONNECT_TIMEOUT): connection timeout expired\n"
    )


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda path: path.write_text("name,email\n", encoding="utf-8"), "file is not a database"),
        (lambda path: path.mkdir(), "unable to open database file (it is a folder)"),
    ],
    ids=["a text file", "a folder"],
)
def test_a_sqlite_file_that_cannot_be_opened_is_one_line_naming_the_setting(
    tmp_path: Path, make: Callable[[Path], object], says: str
) -> None:
    make(tmp_path / "lf.db")
    result = leadflow(tmp_path, "merges")
    assert result.returncode == 2, result.stderr
    url = f"sqlite:///{tmp_path / 'lf.db'}"
    assert result.stderr == f"error: LEADFLOW_DATABASE_URL: cannot open '{url}': {says}\n"


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("LEADFLOW_DEFAULT_REGION", "XX", "LEADFLOW_DEFAULT_REGION: unknown phone region 'XX'"),
        ("LEADFLOW_DEFAULT_REGION", "USA", "LEADFLOW_DEFAULT_REGION: unknown phone region"),
        ("LEADFLOW_MATCH_NAME_THRESHOLD", "10", "LEADFLOW_MATCH_NAME_THRESHOLD: Input should"),
        ("LEADFLOW_DATABASE_URL", "leadflow.db", "LEADFLOW_DATABASE_URL: not a database URL"),
        (
            "LEADFLOW_DATABASE_CONNECT_TIMEOUT",
            "1",
            "LEADFLOW_DATABASE_CONNECT_TIMEOUT: Input should be greater than or equal to 2",
        ),
        (
            "LEADFLOW_DATABASE_URL",
            "postgres://lf:s3cret@localhost/lf",
            "LEADFLOW_DATABASE_URL: 'postgres://lf:***@localhost/lf': leadflow cannot use",
        ),
        (
            "LEADFLOW_DATABASE_URL",
            "sqlite://lf.db",
            "LEADFLOW_DATABASE_URL: 'sqlite://lf.db' is not a SQLite URL",
        ),
    ],
)
def test_an_invalid_setting_is_a_clear_error_naming_it(
    tmp_path: Path, setting: str, value: str, says: str
) -> None:
    (tmp_path / "ok.csv").write_text("email\nann@acme.com\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "leadflow", "import", "ok.csv", "--source", "t"],
        cwd=tmp_path,
        env={**environment(tmp_path), setting: value},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert says in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr


def test_init_says_where_the_database_is_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from leadflow.cli.main import app  # which imports the commands' modules in order

    store_commands = sys.modules["leadflow.cli.store_commands"]
    monkeypatch.setattr(store_commands, "_engine", lambda settings: None)  # no server here
    url = "postgresql+psycopg://leadflow:s3cret@db.internal:5432/leadflow"
    result = CliRunner().invoke(app, ["init"], env={"LEADFLOW_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "postgresql+psycopg://leadflow:***@db.internal:5432/leadflow" in said
    assert "s3cret" not in said


def test_every_skipped_activity_is_counted_and_can_be_written_out(tmp_path: Path) -> None:
    ok(leadflow(tmp_path, "init"))
    rows = "".join(f"page_view,2026-11-20T10:00:00Z,ghost{i}@acme.io\n" for i in range(15))
    (tmp_path / "acts.csv").write_text("type,at,email\n" + rows, encoding="utf-8")
    shown = leadflow(tmp_path, "import-activities", "acts.csv")
    assert shown.returncode == 0, shown.stderr
    assert "skipped 15" in shown.stderr and "and 5 more" in shown.stderr
    nowhere = leadflow(
        tmp_path, "import-activities", "acts.csv", "--skipped", "no/s.txt", "--again"
    )
    assert nowhere.returncode == 2 and "there is no folder no" in nowhere.stderr
    with sqlite3.connect(tmp_path / "lf.db") as db:  # refused before it imported anything
        assert db.execute("SELECT count(*) FROM imports").fetchone() == (1,)
    twice = leadflow(tmp_path, "import-activities", "acts.csv", "--skipped", "skipped.txt")
    assert twice.returncode == 2 and "imported already" in twice.stderr
    assert not (tmp_path / "skipped.txt").exists()
    written = leadflow(
        tmp_path, "import-activities", "acts.csv", "--skipped", "skipped.txt", "--again"
    )
    assert written.returncode == 0, written.stderr
    lines = (tmp_path / "skipped.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 15 and lines[14].startswith("line 16: ") and "ghost14@acme.io" in lines[14]


def test_activities_of_types_the_playbook_does_not_score_are_kept_and_counted(
    tmp_path: Path,
) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo"))
    rows = [
        "webinar_attended,2026-11-20T10:00:00Z,ann.lee@acme.com",
        "Webinar Attended,2026-11-20T11:00:00Z,ann.lee@acme.com",
        "webinar-atended,2026-11-20T12:00:00Z,ann.lee@acme.com",
        "webinar-atended,2026-11-20T13:00:00Z,bob@globex.com",
        "booth_scan,2026-11-20T14:00:00Z,bob@globex.com",
    ]
    (tmp_path / "acts.csv").write_text("type,at,email\n" + "\n".join(rows), encoding="utf-8")
    saas = str(ROOT / "examples" / "playbooks" / "b2b-saas.yaml")
    result = leadflow(tmp_path, "import-activities", "acts.csv", "--playbook", saas)
    said = " ".join(ok(result).split() + result.stderr.split())
    assert "Recorded 5 activities; skipped 0." in said
    assert "3 of them earn no points" in said
    assert "'webinar-atended' (2), 'booth_scan' (1)" in said
    with sqlite3.connect(tmp_path / "lf.db") as db:
        assert db.execute("SELECT count(*) FROM activities").fetchone() == (5,)


def test_a_file_of_a_delimiter_no_guess_gets_right_is_read_with_delimiter(
    tmp_path: Path,
) -> None:
    """Comma, semicolon, tab and pipe are sniffed (a comma in a column name no longer
    outvotes the semicolons of every line); another is given with --delimiter."""
    (tmp_path / "de.csv").write_text(
        "Name;E-Mail;Straße, Hausnummer;PLZ\nAnn Lee;ann@acme.de;Hauptstr 5;10115\n",
        encoding="utf-8",
    )
    ok(leadflow(tmp_path, "import", "de.csv", "--source", "expo"))
    (tmp_path / "crm.csv").write_text(
        "email^first_name^company\nbob@globex.com^Bob^Globex, Inc.\n", encoding="utf-8"
    )
    for bad in ("^^", "ß", '"'):
        refused = leadflow(tmp_path, "import", "crm.csv", "--source", "crm", "--delimiter", bad)
        assert refused.returncode == 2 and "--delimiter" in refused.stderr
        assert "is not a delimiter" in refused.stderr
    ok(leadflow(tmp_path, "import", "crm.csv", "--source", "crm", "--delimiter", "^"))
    with sqlite3.connect(tmp_path / "lf.db") as db:
        payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM inquiries")]
        people = db.execute("SELECT email, first_name FROM people ORDER BY id").fetchall()
    assert payloads == [
        {
            "Name": "Ann Lee",
            "E-Mail": "ann@acme.de",
            "Straße, Hausnummer": "Hauptstr 5",
            "PLZ": "10115",
        },
        {"email": "bob@globex.com", "first_name": "Bob", "company": "Globex, Inc."},
    ]
    assert people == [("ann@acme.de", "Ann"), ("bob@globex.com", "Bob")]

    (tmp_path / "acts.tsv").write_text(
        "type\tat\temail\npage_view\t2026-11-20T10:00:00Z\tbob@globex.com\n", encoding="utf-8"
    )
    done = leadflow(tmp_path, "import-activities", "acts.tsv", "--delimiter", "tab")
    assert "Recorded 1 activities; skipped 0." in " ".join(ok(done).split() + done.stderr.split())


def test_blank_lines_are_skipped_and_the_summary_counts_them(tmp_path: Path) -> None:
    (tmp_path / "blank.csv").write_text(
        "email,first_name\na@x.com,Ann\n\n\nb@x.com,Bob\n,\n\n", encoding="utf-8"
    )
    result = leadflow(tmp_path, "import", "blank.csv", "--source", "expo")
    ok(result)
    assert re.search(r"rows read\s+│\s+2 │", result.stderr), result.stderr
    assert re.search(r"blank lines skipped\s+│\s+4 │", result.stderr), result.stderr
    assert "quarantined" not in result.stderr
    assert "The quarantine is empty" in leadflow(tmp_path, "quarantine", "list").stderr
    listed = json.loads(ok(leadflow(tmp_path, "imports", "--format", "json")))
    assert [(i["rows"], i["taken"]) for i in listed] == [(2, 2)]


def test_a_value_longer_than_128_kb_is_imported_whole(tmp_path: Path) -> None:
    """A pasted e-mail thread in a description: the csv module's own limit (131,072
    characters) made a good file fail, with a traceback, or as a quote never closed."""
    said = "Can we talk about pricing for the whole team, and about the rollout? " * 120
    thread = "\n".join(f"On day {i}, Ann wrote: {said}" for i in range(25))
    assert len(thread) > 200_000
    quoted = '"' + thread.replace('"', '""') + '"'
    (tmp_path / "long.csv").write_text(
        f"email,first_name,description\nann@acme.com,Ann,{quoted}\nbob@globex.com,Bob,short\n",
        encoding="utf-8",
    )
    result = leadflow(tmp_path, "import", "long.csv", "--source", "expo")
    ok(result)
    assert re.search(r"rows read\s+│\s+2 │", result.stderr), result.stderr
    with sqlite3.connect(tmp_path / "lf.db") as db:
        payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM inquiries")]
    assert [p["description"] for p in payloads] == [thread, "short"]


STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_every_moment_is_written_in_one_form_iso_8601_in_utc_to_the_second(
    tmp_path: Path,
) -> None:
    """``export`` wrote ``2026-11-24T17:33:08.521080`` (no zone), ``quarantine list``
    ``2026-11-24 17:33:08``, ``quarantine show`` ``2026-11-24 17:33:08.521080``: one moment
    three ways, none saying it is UTC. Now ``2026-11-24T17:33:08Z`` in each, which people
    read and ``datetime.fromisoformat`` parses."""
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    ok(leadflow(tmp_path, "import", "leads.csv", "--source", "expo"))

    def rows(*args: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(ok(leadflow(tmp_path, *args)))))

    inquiries = rows("export", "inquiries", "-o", "-")
    people = rows("export", "people", "-o", "-")
    accounts = rows("export", "accounts", "-o", "-")
    waiting = rows("quarantine", "list", "--format", "csv")
    (listed,) = json.loads(ok(leadflow(tmp_path, "quarantine", "list", "--format", "json")))
    shown = json.loads(ok(leadflow(tmp_path, "quarantine", "show", "1")))
    imported = json.loads(ok(leadflow(tmp_path, "imports", "--format", "json")))
    merged = rows("merges", "--format", "csv")
    moments = [
        *(i["received_at"] for i in inquiries),
        *(p[c] for p in people for c in ("created_at", "updated_at")),
        *(a["created_at"] for a in accounts),
        *(w["received"] for w in waiting),
        listed["received"],
        shown["received_at"],
        *(i[c] for i in imported for c in ("started", "finished")),
        *(m["at"] for m in merged),
    ]
    assert len(moments) == 4 + 2 * 2 + 2 + 1 + 1 + 1 + 2 + 2
    assert all(STAMP.fullmatch(m) for m in moments), moments
    assert all(datetime.fromisoformat(m).utcoffset() == timedelta(0) for m in moments)
    assert inquiries[0]["received_at"] == listed["received"] == shown["received_at"]
    table = ok(leadflow(tmp_path, "quarantine", "list"))
    assert shown["received_at"] in table
