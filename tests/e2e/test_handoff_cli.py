"""The hand-off end to end, through the real CLI on a SQLite file: reps, an import that
routes, ``leadflow lead``, accept, reject, recycle, disqualify, contact, refusals, and
``leadflow worker --once`` running a recontact date that has come."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BTD = ROOT / "src" / "leadflow" / "playbooks" / "btd.yaml"

HANDOFF = """
slas:
  working_hours: UTC Mon-Sun 00:00-24:00
  grades:
    A: {accept: 2h, first_contact: 8h}
  escalation:
    accept: [notify_manager]
handoff:
  reasons: {no_budget: No budget, bad_timing: Bad timing, competitor: Competitor}
  recontact_after_days: 60
"""

LEADS = """First Name,Last Name,Email,Company,budget,decision_role,timeframe_days
Ann,Lee,ann.lee@acme.com,Acme,approved,Decision Maker,30
Bob,Smith,bob@globex.com,Globex,planned,influencer,200
Cy,Young,cy@initech.com,Initech,none,researcher,400
Dee,Ray,dee@hooli.com,Hooli,approved,decision maker,20
"""


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


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert words in result.stderr, result.stderr


def view(tmp: Path, lead: int) -> dict[str, Any]:
    return json.loads(ok(leadflow(tmp, "lead", str(lead), "--json")).stdout)  # type: ignore[no-any-return]


def setup(tmp: Path) -> None:
    (tmp / "playbook.yaml").write_text(BTD.read_text(encoding="utf-8") + HANDOFF, "utf-8")
    (tmp / "leads.csv").write_text(LEADS, encoding="utf-8")
    for name, email in (("Ann Rep", "ann@sales.io"), ("Bo Rep", "bo@sales.io")):
        ok(leadflow(tmp, "reps", "add", "--name", name, "--email", email))
    ok(leadflow(tmp, "import", "leads.csv", "--source", "expo"))


def test_an_imported_lead_is_shown_routed_accepted_and_contacted(tmp_path: Path) -> None:
    setup(tmp_path)
    table = ok(leadflow(tmp_path, "lead", "1")).stdout
    assert "Lead 1: Ann Lee <ann.lee@acme.com>" in table
    assert "company: Acme" in table
    assert "grade A, score 3, route sales" in table
    assert "stage: Marketing qualified lead (marketing side)" in table
    assert "owner: Ann Rep <ann@sales.io>" in table
    assert "accept by: " in table
    assert "inquiry -> marketing_qualified" in table

    lead = view(tmp_path, 1)
    routed = datetime.fromisoformat(lead["speed_to_lead"]["routed_at"])
    assert datetime.fromisoformat(lead["deadlines"]["accept_by"]) == routed + timedelta(hours=2)
    assert (lead["owner"]["email"], lead["team"]) == ("ann@sales.io", "sales")
    assert [h["to"] for h in lead["history"]] == ["inquiry", "marketing_qualified"]
    assert view(tmp_path, 2)["owner"]["email"] == "bo@sales.io"  # round robin
    assert view(tmp_path, 3)["stage"]["name"] == "prospect"  # D: nurture, no owner
    assert view(tmp_path, 3)["owner"] is None

    accepted = ok(leadflow(tmp_path, "accept", "1", "--by", "ann@sales.io"))
    assert accepted.stdout == ""
    assert "Lead 1: accept recorded; now in sales_accepted (sales side)." in accepted.stderr
    lead = view(tmp_path, 1)
    assert lead["history"][-1]["by"] == "ann@sales.io"
    accepted_at = datetime.fromisoformat(lead["speed_to_lead"]["accepted_at"])
    assert datetime.fromisoformat(lead["deadlines"]["first_contact_by"]) == accepted_at + timedelta(
        hours=8
    )

    contacted = ok(leadflow(tmp_path, "contact", "1", "--channel", "email", "--note", "Sent deck"))
    assert "Lead 1: contact recorded" in contacted.stderr
    lead = view(tmp_path, 1)
    assert lead["deadlines"]["first_contact_by"] is None
    assert lead["speed_to_lead"]["first_contact_at"] is not None
    assert lead["timeline"][-1]["data"]["channel"] == "email"


def test_reject_recycle_disqualify_and_the_worker(tmp_path: Path) -> None:
    setup(tmp_path)
    today = datetime.now(UTC).date()

    rejected = ok(
        leadflow(tmp_path, "reject", "2", "--reason", "bad_timing", "--note", "Budget frozen")
    )
    later = today + timedelta(days=60)
    assert (
        f"Lead 2: reject recorded; now in recycled (marketing side), recontact on {later}."
        in rejected.stderr
    )
    lead = view(tmp_path, 2)
    assert lead["reason"] == {"key": "bad_timing", "label": "Bad timing", "note": "Budget frozen"}
    assert (lead["owner"], lead["deadlines"]["recontact_on"]) == (None, later.isoformat())
    table = ok(leadflow(tmp_path, "lead", "2")).stdout
    assert "reason: Bad timing (Budget frozen)" in table
    assert f"recontact on: {later}" in table

    # Recycled until today: the worker's next pass finds the date has come.
    recycled = ok(
        leadflow(tmp_path, "recycle", "4", "--reason", "no_budget", "--recontact-on", str(today))
    )
    assert f"now in recycled (marketing side), recontact on {today}." in recycled.stderr
    assert view(tmp_path, 4)["owner"] is None

    disqualified = ok(leadflow(tmp_path, "disqualify", "3", "--reason", "competitor"))
    assert "Lead 3: disqualify recorded; now in disqualified" in disqualified.stderr

    worker = ok(leadflow(tmp_path, "worker", "--once"))
    assert "Worker " in worker.stderr and "sqlite:///" in worker.stderr
    assert "Timers: 1 run, 0 stale, 0 failed." in worker.stderr
    lead = view(tmp_path, 4)
    assert (lead["stage"]["name"], lead["deadlines"]["recontact_on"]) == (
        "marketing_qualified",
        None,
    )
    assert lead["owner"] is not None  # still an A lead: routed again
    assert "lead.released" in [e["type"] for e in lead["timeline"]]
    assert view(tmp_path, 2)["stage"]["name"] == "recycled"  # its date is not here yet

    again = ok(leadflow(tmp_path, "worker", "--once"))
    assert "Timers:" not in again.stderr  # each timer runs once


def test_refusals_are_plain_messages_with_exit_code_2(tmp_path: Path) -> None:
    setup(tmp_path)
    refused(
        leadflow(tmp_path, "reject", "1", "--reason", "too_expensive"),
        "'too_expensive' is not a reason in the playbook; use one of: no_budget, bad_timing, "
        "competitor",
    )
    refused(
        leadflow(tmp_path, "recycle", "1", "--reason", "no_budget", "--recontact-on", "soon"),
        "--recontact-on: 'soon' is not a date like 2027-03-01",
    )
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    refused(
        leadflow(
            tmp_path, "recycle", "1", "--reason", "no_budget", "--recontact-on", str(yesterday)
        ),
        f"recontact_on: the recontact date {yesterday} is in the past",
    )
    refused(leadflow(tmp_path, "lead", "99"), "no lead 99")
    refused(leadflow(tmp_path, "accept", "3", "--rep", "1"), "no way to accept it")
    refused(
        leadflow(tmp_path, "accept", "1", "--rep", "nobody@sales.io"), "no rep 'nobody@sales.io'"
    )
    refused(leadflow(tmp_path, "contact", "3"), "has no owner to have contacted it")
    ok(leadflow(tmp_path, "accept", "1"))
    refused(leadflow(tmp_path, "accept", "1"), "was already accepted")
    # Nothing refused left a trace.
    assert view(tmp_path, 3)["stage"]["name"] == "prospect"
    assert [e["type"] for e in view(tmp_path, 1)["timeline"]].count("lead.accepted") == 1
