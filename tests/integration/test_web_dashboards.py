"""The dashboards and the backtest page over HTTP, on SQLite and PostgreSQL, on the
hand-computed history of ``test_reports.py`` (five leads on Monday: P1 won, P2 rejected
for bad timing and back the next day, P3 and P4 nurtured, P5 lost; every number below is
worked out there).

The charts are checked as drawn (the SVG's bars, their lengths and the values beside
them), the tables cell by cell, and the CSV byte for byte against ``leadflow report NAME
--format csv`` run on the same database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from test_backtest import STRICTER_A
from test_handoff import MONDAY
from test_reports import history
from test_web import Site, csrf, sign_in
from typer.testing import CliRunner

from leadflow.adapters.store.engine import make_engine
from leadflow.cli.main import app as cli
from leadflow.config import Settings
from leadflow.web.charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH

PLOT = WIDTH - LABEL_WIDTH - VALUE_WIDTH


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    """The history, marketing (mia), a sales manager (boss) and a rep (ann) as users."""
    desk, _ = history(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    made = Site(engine, desk, settings)
    made.user("mia@acme.example", "marketing")
    made.user("boss@acme.example", "manager", team="general")
    made.user("ann@acme.example", "rep")
    yield made


@pytest.fixture
def marketing(site: Site) -> Iterator[Any]:
    with site.client() as client:
        sign_in(client, "mia@acme.example")
        yield client


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts, by its data-testid or data-section;
    every SVG bar (rect with a tooltip) as (chart, width, tooltip)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.bars: list[tuple[str, float, str]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._chart = ""
        self._rect: float | None = None
        self._title: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("data-testid") or a.get("data-section") or "?"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "figure":
            self._chart = a.get("data-chart") or ""
        elif tag == "rect" and a.get("width") and a.get("x") and self._chart:
            self._rect = float(a["width"] or 0)
        elif tag == "title" and self._rect is not None:
            self._title = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "title" and self._title is not None and self._rect is not None:
            self.bars.append((self._chart, self._rect, "".join(self._title)))
            self._title, self._rect = None, None
        elif tag == "rect":  # a legend's swatch: no tooltip
            self._rect = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._title):
            if part is not None:
                part.append(data)


def body(table: list[list[str]]) -> list[list[str]]:
    return [row for row in table[1:] if row]  # without the header row


def test_the_funnel_dashboard_draws_the_report_with_its_numbers(marketing: Any) -> None:
    page = marketing.get("/dashboard")
    assert page.status_code == 200
    parsed = Tables(page.text)
    assert body(parsed.tables["report"]) == [
        ["marketing", "inquiry", "5", "-", "-"],
        ["marketing", "prospect", "2", "2", "40.0%"],
        ["marketing", "marketing qualified", "3", "0", "0.0%"],
        ["sales", "sales accepted", "2", "2", "66.7%"],
        ["sales", "sales qualified", "2", "2", "100.0%"],
        ["sales", "opportunity", "2", "2", "100.0%"],
        ["sales", "won", "1", "1", "50.0%"],
        ["hand-off", "sales ready", "3", "3", "60.0%"],
    ]
    bars = {title: width for chart, width, title in parsed.bars if chart == "funnel"}
    # the scale ends at 5 (the inquiries): each bar is its share of the plot
    assert bars == {
        "inquiry: 5": PLOT,
        "prospect: 2 (40.0%)": PLOT * 2 / 5,
        "marketing qualified: 3 (0%)": PLOT * 3 / 5,
        "sales accepted: 2 (66.7%)": PLOT * 2 / 5,
        "sales qualified: 2 (100%)": PLOT * 2 / 5,
        "opportunity: 2 (100%)": PLOT * 2 / 5,
        "won: 1 (50.0%)": PLOT / 5,
        "sales ready: 3 (60.0%)": PLOT * 3 / 5,
    }
    assert '<svg viewBox="0 0 600' in page.text and 'role="img"' in page.text
    stages = {row[0]: row[2] for row in body(parsed.tables["funnel"])}  # where they stand now
    assert (stages["Won"], stages["Lost"], stages["Prospect"]) == ("1", "1", "2")
    assert 'href="/dashboard/funnel.csv"' in page.text


def test_sources_show_acceptance_and_win_rate_per_source(marketing: Any) -> None:
    page = marketing.get("/dashboard/sources")
    assert page.status_code == 200
    parsed = Tables(page.text)
    rows = {row[0]: row for row in body(parsed.tables["report"])}
    header = parsed.tables["report"][0]
    web = dict(zip(header, rows["web"], strict=True))
    assert (web["leads"], web["acceptance rate"], web["win rate"]) == ("2", "50.0%", "100.0%")
    assert (web["rejection reasons"], web["revenue"]) == ("bad_timing 1", "12,000.00")
    expo = dict(zip(header, rows["expo"], strict=True))
    assert (expo["leads"], expo["acceptance rate"], expo["win rate"]) == ("3", "100.0%", "0.0%")
    bars = {title: width for chart, width, title in parsed.bars if chart == "sources"}
    assert bars == {
        "expo, acceptance rate: 100%": PLOT,
        "expo, win rate: 0%": 0.0,
        "web, acceptance rate: 50.0%": PLOT / 2,
        "web, win rate: 100%": PLOT,
    }


def test_velocity_shows_speed_to_lead_and_recycle_the_hand_back(marketing: Any) -> None:
    page = marketing.get("/dashboard/velocity")
    parsed = Tables(page.text)
    rows = {row[0]: row[1:] for row in body(parsed.tables["report"])}
    # P1 50 minutes, P5 2 hours: median 85 minutes, p90 2 hours
    assert rows["speed to lead (sales ready to first contact)"] == ["2", "1.4h", "2.0h"]
    assert rows["time to accept (routed to accepted)"] == ["2", "40m", "1.0h"]
    bars = {title: width for chart, width, title in parsed.bars if chart == "velocity"}
    # the longest time is P2's 23.5 hours recycled: the scale ends at 1 day
    assert bars["speed to lead, 90th percentile: 2.0h"] == pytest.approx(PLOT * 7200 / 86_400, 0.01)
    assert bars["time in recycled, median: 23.5h"] == pytest.approx(PLOT * 84_600 / 86_400, 0.01)

    recycle = Tables(marketing.get("/dashboard/recycle").text)
    assert body(recycle.tables["report"]) == [
        ["rejected", "bad_timing", "1", "1", "0", "0", "0", "0", "0"]
    ]
    drawn = {title for chart, _, title in recycle.bars if chart == "recycle"}
    assert "rejected: bad_timing, hand-backs: 1" in drawn
    assert "rejected: bad_timing, routed again: 1" in drawn


def test_since_until_and_by_are_applied(marketing: Any) -> None:
    monday, tuesday = MONDAY.date().isoformat(), MONDAY.date().replace(day=24).isoformat()
    later = Tables(marketing.get("/dashboard", params={"since": tuesday}).text)
    assert body(later.tables["report"])[0][2] == "0"  # every first inquiry was on Monday
    that_day = Tables(marketing.get("/dashboard", params={"since": monday, "until": tuesday}).text)
    assert body(that_day.tables["report"])[0][2] == "5"
    months = Tables(marketing.get("/dashboard", params={"by": "month"}).text)
    assert {row[0] for row in body(months.tables["report"])} == {"2026-11"}
    by_grade = marketing.get("/dashboard/sources", params={"by": "grade"})
    rows = {row[0]: row for row in body(Tables(by_grade.text).tables["report"])}
    assert set(rows) == {"A", "C"} and rows["A"][1] == "3"  # P1, P2, P5
    assert 'value="grade" selected' in by_grade.text  # the form says what is shown
    # the tabs and the CSV link carry the filters
    assert f'href="/dashboard/velocity?since={tuesday}&amp;by=grade"' not in by_grade.text
    assert 'href="/dashboard/velocity?by=grade"' in by_grade.text
    assert 'href="/dashboard/sources.csv?by=grade"' in by_grade.text
    empty = marketing.get("/dashboard/velocity", params={"since": tuesday})
    assert empty.status_code == 200 and "No leads in this period." in empty.text


def _cli_csv(engine: Engine, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """``leadflow report ... --format csv`` on this database, in process (the engines the
    command makes are disposed of afterwards: a command's process would end)."""
    url = engine.url
    if engine.dialect.name == "postgresql":  # the test's own schema
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    made: list[Engine] = []

    def make(*given: Any, **options: Any) -> Engine:
        made.append(make_engine(*given, **options))
        return made[-1]

    monkeypatch.setattr("leadflow.adapters.store.engine.make_engine", make)
    env = {"LEADFLOW_DATABASE_URL": url.render_as_string(hide_password=False)}
    try:
        result = CliRunner().invoke(cli, ["report", *args, "--format", "csv"], env=env)
    finally:
        for one in made:
            one.dispose()
    assert result.exit_code == 0, result.output
    return str(result.stdout)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("funnel", {}),
        ("funnel", {"by": "source", "until": "2026-11-24"}),
        ("sources", {"by": "campaign"}),
        ("velocity", {"by": "grade"}),
        ("recycle", {"since": "2026-11-23"}),
    ],
)
def test_the_csv_download_is_the_clis_csv(
    site: Site, marketing: Any, monkeypatch: pytest.MonkeyPatch, name: str, params: dict[str, str]
) -> None:
    response = marketing.get(f"/dashboard/{name}.csv", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert f"leadflow-{name}-by-" in response.headers["content-disposition"]
    options = [x for k, v in params.items() for x in (f"--{k}", v)]
    assert response.text == _cli_csv(site.engine, monkeypatch, name, *options)
    assert response.text.count("\n") > 1  # a header and rows


@pytest.mark.parametrize(
    ("path", "params", "said"),
    [
        ("/dashboard", {"by": "colour"}, "by: cannot group by 'colour'"),
        ("/dashboard/sources", {"since": "2026-13-01"}, "since: '2026-13-01' is not a date"),
        ("/dashboard/velocity", {"until": "soon"}, "until: 'soon' is not a date"),
        (
            "/dashboard/recycle",
            {"since": "2026-11-24", "until": "2026-11-23"},
            "until (2026-11-23) must be after since (2026-11-24)",
        ),
        ("/dashboard/funnel.csv", {"by": "colour"}, "cannot group by"),
    ],
)
def test_a_bad_filter_is_a_clear_422_on_the_form(
    marketing: Any, path: str, params: dict[str, str], said: str
) -> None:
    response = marketing.get(path, params=params)
    assert response.status_code == 422
    assert said in unescape(response.text)
    assert 'role="alert"' in response.text
    if not path.endswith(".csv"):  # the form keeps what was typed
        for value in params.values():
            assert f'value="{value}"' in response.text


def test_who_may_read_the_dashboards_and_run_a_backtest(site: Site) -> None:
    pages = ["/dashboard", "/dashboard/sources", "/dashboard/velocity", "/dashboard/recycle"]
    with site.client() as client:
        for path in [*pages, "/dashboard/sources.csv", "/definitions/backtest"]:
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith(
                "/signin?next=/d"
            ), path
    with site.client() as rep:
        sign_in(rep, "ann@acme.example")
        for path in [*pages, "/dashboard/funnel.csv", "/definitions/backtest"]:
            assert rep.get(path).status_code == 403, path
        token = csrf(rep, "/queue")
        refused = rep.post("/definitions/backtest", data={"csrf_token": token, "candidate": "x"})
        assert refused.status_code == 403
        assert "Dashboards" not in rep.get("/queue").text  # not in its menu
    with site.client() as manager:
        sign_in(manager, "boss@acme.example")
        for path in [*pages, "/dashboard/recycle.csv"]:
            assert manager.get(path).status_code == 200, path
        assert manager.get("/definitions/backtest").status_code == 403
        assert "Backtest a candidate" not in manager.get("/definitions").text
    with site.client() as marketing:
        sign_in(marketing, "mia@acme.example")
        assert marketing.get("/dashboard/gaps").status_code == 404
        moved = marketing.get("/dashboard/funnel", params={"by": "grade"})
        assert (moved.status_code, moved.headers["location"]) == (307, "/dashboard?by=grade")
        assert marketing.get("/dashboard/nope.csv").status_code == 404
        assert 'href="/definitions/backtest"' in marketing.get("/definitions").text


def _backtest(client: Any, token: str | None = "session", **data: Any) -> Any:
    files = data.pop("files", None)
    if token == "session":
        token = csrf(client, "/definitions/backtest")
    form = {"csrf_token": token, **data} if token else data
    return client.post("/definitions/backtest", data=form, files=files)


def test_a_backtest_form_without_the_csrf_token_is_refused(marketing: Any) -> None:
    for token in (None, "forged"):
        response = _backtest(marketing, token, candidate=STRICTER_A, action="run")
        assert response.status_code == 403 and "CSRF" in response.text


def test_raising_the_a_threshold_shows_the_a_leads_moving_to_b(marketing: Any) -> None:
    form = marketing.get("/definitions/backtest")
    assert form.status_code == 200 and "This takes a while." in form.text
    assert 'enctype="multipart/form-data"' in form.text
    response = _backtest(marketing, candidate=STRICTER_A, since="2026-11-23", action="run")
    assert response.status_code == 200, response.text
    parsed = Tables(response.text)
    matrix = parsed.tables["Grade transitions (rows: baseline, columns: candidate)"]
    assert matrix[0] == ["", "candidate A", "candidate B", "candidate C", "candidate D"]
    assert body(matrix)[0] == ["baseline A", "0", "3", "0", "0"]  # P1, P2, P5: A to B
    assert body(matrix)[2] == ["baseline C", "0", "0", "2", "0"]
    assert re.search(r'data-testid="changed">3<', response.text)
    assert "5 leads, 6 inquiries replayed" in response.text
    assert 'value="2026-11-23"' in response.text  # the form as sent stays
    assert "timeframe_days &lt;= 30" in response.text  # the candidate's text too


def test_bad_yaml_or_an_invalid_playbook_is_shown_and_the_text_kept(marketing: Any) -> None:
    broken = "name: candidate\ngrades: [A, B\n"
    response = _backtest(marketing, candidate=broken, action="run")
    assert response.status_code == 422
    assert "The candidate is not a valid playbook" in response.text
    assert re.search(r"line \d+:", response.text)
    assert f">{broken}</textarea>" in unescape(response.text)

    misspelt = STRICTER_A.replace("timeframe_days <= 30", "timeframe_dayz <= 30")
    response = _backtest(marketing, candidate=misspelt, since="2026-11-23", action="run")
    assert response.status_code == 422
    assert "timeframe_dayz" in response.text and re.search(r"line \d+:", response.text)
    assert misspelt in unescape(response.text) and 'value="2026-11-23"' in response.text

    bad_day = _backtest(marketing, candidate=STRICTER_A, since="23/11/2026", action="run")
    assert bad_day.status_code == 422
    assert "since: &#39;23/11/2026&#39; is not a date" in bad_day.text
    assert STRICTER_A in unescape(bad_day.text)
    empty = _backtest(marketing, candidate="  ", action="run")
    assert empty.status_code == 422 and "the candidate is empty" in empty.text


def test_an_uploaded_candidate_is_run_and_shown_and_the_report_downloads(marketing: Any) -> None:
    upload = {"playbook_file": ("stricter.yaml", STRICTER_A.encode(), "text/yaml")}
    response = _backtest(marketing, candidate="", action="run", files=upload)
    assert response.status_code == 200, response.text
    assert body(Tables(response.text).tables["Sales workload"]) == [["3", "3", "+0 (+0.0%)"]]
    assert STRICTER_A in unescape(response.text)  # now in the textarea, to edit
    broken = {"playbook_file": ("broken.yaml", b"name: [", "text/yaml")}
    refused = _backtest(marketing, candidate="ignored", action="run", files=broken)
    assert refused.status_code == 422
    assert ">name: [</textarea>" in refused.text  # the file's text, to fix in place
    named = STRICTER_A.replace("name: ", 'name: "Stricter A, für \\"Q3\\"" #', 1)
    download = _backtest(marketing, candidate=named, action="html")
    assert download.status_code == 200, download.text
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="backtest-Stricter-A-f-r-Q3-2026'
    )
    assert "<td>baseline A</td>" in download.text and "<script" not in download.text


def test_a_candidate_starts_from_a_bundled_playbook(marketing: Any) -> None:
    page = marketing.get("/definitions/backtest", params={"start": "bant"})
    assert page.status_code == 200
    assert 'value="bant" selected' in page.text
    textarea = unescape(page.text.split("<textarea")[1].split("</textarea>")[0])
    bant = Path(__file__).parents[2] / "src/leadflow/playbooks/bant.yaml"
    assert textarea.split(">", 1)[1] == bant.read_text(encoding="utf-8")
