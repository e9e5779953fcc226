"""Outcomes and reports end to end, through the real CLI on a SQLite file: accept,
qualify, outcomes by hand and from a CRM's file, then the reports as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from test_handoff_cli import leadflow, ok, refused, setup  # pytest puts this folder on sys.path

DEALS = """email,outcome,value,currency,date,reason
dee@hooli.com,lost,,,2026-11-20,price
nobody@nowhere.com,won,500,EUR,2026-11-21,
"""


def test_outcomes_by_hand_and_from_a_file_reach_the_reports(tmp_path: Path) -> None:
    setup(tmp_path)  # Ann (A) and Dee (A) are routed, Bob (B) too; Cy (D) is nurtured
    ok(leadflow(tmp_path, "accept", "1"))
    ok(leadflow(tmp_path, "qualify", "1"))
    opened = ok(leadflow(tmp_path, "outcome", "1", "opportunity", "--value", "9000"))
    assert "Now in stage opportunity" in opened.stderr
    won = ok(leadflow(tmp_path, "outcome", "1", "won", "--value", "12000", "--currency", "eur"))
    assert "12,000.00 EUR" in won.stderr and "Now in stage won" in won.stderr

    (tmp_path / "deals.csv").write_text(DEALS, encoding="utf-8")
    fed = leadflow(tmp_path, "import-outcomes", "deals.csv")
    assert fed.returncode == 1, fed.stderr  # a row matched no lead: listed, not dropped
    assert "2 rows: 1 recorded, 1 unmatched" in fed.stderr
    assert "line 2: lead 4: the stage did not move" in fed.stderr  # Dee had no opportunity
    assert "unmatched line 3 (email=nobody@nowhere.com): no lead with email" in fed.stdout

    (tmp_path / "bad.csv").write_text("person_id,outcome,value\n1,won,-5\nx,closed,1\n", "utf-8")
    refused(leadflow(tmp_path, "import-outcomes", "bad.csv"), "line 2, column value")
    refused(leadflow(tmp_path, "import-outcomes", "bad.csv"), "line 3, column outcome")
    (tmp_path / "bad.txt").write_text("person_id;outcome;value\n\n1;won;-5,0\n", "utf-8")
    told = leadflow(tmp_path, "import-outcomes", "bad.txt", "--delimiter", ";")
    refused(told, "line 3, column value: '-5,0' is negative")  # a blank line counts as a line

    funnel = json.loads(ok(leadflow(tmp_path, "report", "funnel", "--format", "json")).stdout)
    steps = {row["step"]: row["leads"] for row in funnel["rows"]}
    assert (steps["inquiry"], steps["sales accepted"], steps["won"]) == (4, 1, 1)
    assert steps["sales ready"] == 3
    text = ok(leadflow(tmp_path, "report", "sources", "--format", "csv")).stdout
    (expo,) = list(csv.DictReader(io.StringIO(text)))
    assert (expo["source"], expo["won"], expo["lost"], expo["revenue"]) == (
        "expo",
        "1",
        "1",
        "12000.0",
    )
    table = ok(leadflow(tmp_path, "report", "velocity", "--by", "grade")).stdout
    assert "speed to lead" not in table  # nobody was contacted
    assert "time to accept" in table
    ranked = ok(leadflow(tmp_path, "rank", "--last", "2", "--format", "json")).stdout
    assert [row["rank"] for row in json.loads(ranked)["rows"]] == [1, 2]
    again = ok(leadflow(tmp_path, "report", "funnel", "--rebuild", "--format", "json"))
    assert "Rebuilt the reports' rows of 4 leads" in again.stderr
    assert json.loads(again.stdout)["rows"] == funnel["rows"]  # the log folds to the same
    refused(leadflow(tmp_path, "report", "funnels"), "no report 'funnels'")
    refused(leadflow(tmp_path, "report", "funnel", "--by", "colour"), "cannot group by 'colour'")
