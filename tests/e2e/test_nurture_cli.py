"""``leadflow nurture report`` through the real CLI on a SQLite file, in its three formats.

Two prospects are captured and their touches written through the services; the numbers
are counted by hand (see test_nurture_report.py for the definitions).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.adapters.store.engine import make_engine, upgrade
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture
from leadflow.services.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
BTD = (ROOT / "src" / "leadflow" / "playbooks" / "btd.yaml").read_text()
NURTURE = """
nurture:
  tracks:
    - name: not_yet
      steps:
        - email: welcome
  emails:
    welcome: {subject: Welcome, body: "Hello."}
contact_policy:
  caps:
    - {channel: email, side: marketing, max: 2, per: 7d}
"""
MONDAY = datetime(2026, 11, 23, 9, tzinfo=UTC)


def leadflow(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEADFLOW_DATABASE_URL": f"sqlite:///{tmp / 'lf.db'}",
        "LEADFLOW_PLAYBOOK": str(tmp / "playbook.yaml"),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "leadflow", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _prepare(tmp: Path) -> list[int]:
    (tmp / "playbook.yaml").write_text(BTD + NURTURE)
    pb = parse_playbook(BTD + NURTURE, "playbook.yaml")
    engine = make_engine(f"sqlite:///{tmp / 'lf.db'}")
    upgrade(engine)
    settings = CaptureSettings(now=lambda: MONDAY)
    people = []
    for n in (1, 2):
        values = {"email": f"p{n}@firm{n}.com", "first_name": f"Pat{n}", "budget": "none"}
        cmd = CaptureInquiry(values, json.dumps(values), "web", "api", MONDAY)
        with UnitOfWork(engine) as uow:
            people.append(capture(uow, pb, cmd, settings).person_id or 0)
    first, second = people
    rows = [
        (first, 0, "email", "sent", None),
        (first, 1, "email", "sent", None),
        (first, 2, "email", "deferred", "cap: at most 2 marketing emails per week"),
        (first, 7, "call", "sent", None),
        (second, 3, "email", "sent", None),
        (second, 14, "email", "sent", None),  # after --until
    ]
    with UnitOfWork(engine) as uow:
        NurtureStore(uow.store.connection).add_touches(
            [
                {
                    "person_id": person,
                    "at": MONDAY + timedelta(days=days),
                    "channel": channel,
                    "side": "marketing",
                    "stage": "prospect",
                    "status": status,
                    "reason": reason,
                }
                for person, days, channel, status, reason in rows
            ]
        )
        uow.commit()
    engine.dispose()
    return people


def test_the_report_as_json_csv_and_tables(tmp_path: Path) -> None:
    first, second = _prepare(tmp_path)
    window = ("--since", "2026-11-23", "--until", "2026-12-07")
    done = leadflow(tmp_path, "nurture", "report", *window, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["leads"], report["sent"], report["deferred"]) == (2, 4, 1)
    # Lead-weeks: first 2 (week 1) and 1 (week 2), second 1: [1, 1, 2].
    assert report["weekly"][-1] == {
        "stage": "any",
        "channel": "any",
        "lead_weeks": 3,
        "touches": 4,
        "median": 1.0,
        "p90": 2,
        "max": 2,
    }
    assert [(m["person_id"], m["touches"]) for m in report["most"]] == [(first, 3), (second, 1)]
    assert report["held"][0]["times"] == 1 and report["held"][0]["cap"] is True

    done = leadflow(tmp_path, "nurture", "report", *window, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows[0] == dict.fromkeys(
        ["part", "stage", "channel", "status", "reason", "lead", "measure", "value"], ""
    ) | {"part": "totals", "measure": "leads", "value": "2"}
    emails = {
        r["measure"]: r["value"]
        for r in rows
        if (r["part"], r["stage"], r["channel"]) == ("weekly", "prospect", "email")
    }
    assert emails == {  # emails a lead-week: first 2, second 1
        "lead_weeks": "2",
        "touches": "3",
        "median": "1.5",
        "p90": "2",
        "max": "2",
    }

    done = leadflow(tmp_path, "nurture", "report", *window)
    assert done.returncode == 0, done.stderr
    assert (
        "from 2026-11-23 to 2026-12-07 (not included): 2 leads touched; 4 touches sent"
        in done.stdout
    )
    assert "cap: at most 2 marketing emails per week" in done.stdout
    assert "Pat1" in done.stdout

    refused = leadflow(tmp_path, "nurture", "report", "--since", "last week")
    assert refused.returncode != 0
    assert "'last week' is not a day like 2027-03-01" in refused.stderr
    assert "--since" in refused.stderr


def test_run_as_of_a_moment_judges_quiet_hours_then(tmp_path: Path) -> None:
    quiet = '  quiet_hours: {start: "20:00", end: "08:00", default_timezone: UTC}\n'
    (tmp_path / "playbook.yaml").write_text(BTD + NURTURE + quiet)
    pb = parse_playbook(BTD + NURTURE + quiet, "playbook.yaml")
    engine = make_engine(f"sqlite:///{tmp_path / 'lf.db'}")
    upgrade(engine)
    for n in (1, 2):  # two prospects enrolled on Monday morning, the welcome due at once
        values = {"email": f"p{n}@firm{n}.com", "first_name": f"Pat{n}", "budget": "none"}
        cmd = CaptureInquiry(values, json.dumps(values), "web", "api", MONDAY)
        with UnitOfWork(engine) as uow:
            capture(uow, pb, cmd, CaptureSettings(now=lambda: MONDAY))
    engine.dispose()

    night = leadflow(tmp_path, "nurture", "run", "--now", "2026-11-23T22:00Z")
    assert night.returncode == 0, night.stderr
    assert "0 sent, 2 deferred" in night.stderr
    morning = leadflow(tmp_path, "nurture", "run", "--now", "2026-11-24T10:00Z")
    assert morning.returncode == 0, morning.stderr
    assert "2 sent, 0 deferred" in morning.stderr
    listed = leadflow(tmp_path, "nurture", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(e["status"], e["next due"]) for e in json.loads(listed.stdout)] == [
        ("finished", None),  # its one step sent: nothing is due, null rather than ""
        ("finished", None),
    ]
    bad = leadflow(tmp_path, "nurture", "run", "--now", "tomorrow")
    assert bad.returncode != 0
    assert "--now" in bad.stderr and "ISO 8601" in bad.stderr
