"""The vectorised path rates exactly like the single-lead path, on any input.

Hypothesis builds tables of messy leads (odd case, spaces, hyphens, garbage,
blanks, thousands separators, impossible dates, unicode) with activities of
every age, including the future, and each row's batch result must equal the
single-lead rating: grade, route, every score, segment, reasons and issues.
Both ways of parsing a field are held to it: by dictionary (each distinct
value parsed once, then looked up) and by expressions (``lookup_limit=0``),
as are tables where some fields have too many distinct values to look up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.adapters.playbook_file import load_playbook
from leadflow.analytics import lookup
from leadflow.analytics.batch import _points, rate_frame
from leadflow.domain.playbook import FieldDef, Playbook
from leadflow.domain.rating import Activity, rate

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = {
    "btd": ROOT / "examples/playbooks/btd.yaml",
    "b2b-saas": ROOT / "examples/playbooks/b2b-saas.yaml",
    "kitchen-sink": ROOT / "tests/fixtures/kitchen-sink.yaml",
}
NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def _messy_word(word: str) -> st.SearchStrategy[str]:
    """A valid word as people type it: any case, padded, spaces or hyphens for underscores."""

    def dress(args: tuple[str, str, str, str]) -> str:
        case, sep, left, right = args
        text = word.replace("_", sep)
        text = {"upper": text.upper(), "title": text.title(), "keep": text}[case]
        return left + text + right

    pads = st.sampled_from(["", " ", "  ", "\t", "\xa0", "\n"])
    return st.tuples(
        st.sampled_from(["upper", "title", "keep"]),
        st.sampled_from(["_", " ", "-", " - "]),
        pads,
        pads,
    ).map(dress)


def _number_text() -> st.SearchStrategy[str]:
    ints = st.integers(-(10**16), 10**16)
    return st.one_of(
        ints.map(str),
        ints.map(lambda n: f"+{n}" if n >= 0 else str(n)),
        ints.map(lambda n: f"{n:,}"),
        ints.map(lambda n: f"{n}.0"),
        ints.map(lambda n: f"{n}."),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(-1e7, 1e7).map(lambda x: f"{x:.3f}"),
        st.sampled_from(
            [
                "1e3",
                "1E2",
                ".5",
                "-.5",
                "1,00",
                "12,345.6",
                "0x10",
                "1_000",
                "٣",
                "nan",
                "inf",
                "--1",
                "30 days",
                "١٢",
                "1e400",
                "soon",
            ]
        ),
    )


def _date_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.dates().map(lambda d: d.isoformat()),
        st.dates(datetime(2020, 1, 1).date(), datetime(2027, 3, 1).date()).map(
            lambda d: d.isoformat()
        ),
        st.sampled_from(
            [
                "2024-02-30",
                "0000-01-01",
                "2024-1-05",
                "2024/01/05",
                "20240105",
                "2024-13-01",
                "9999-12-31",
                "0001-01-01",
            ]
        ),
    )


def _raw_value(f: FieldDef) -> st.SearchStrategy[object]:
    words: list[str] = list(f.choices) + [str(k) for k in f.lookup]
    if f.type in ("number", "integer"):
        typed = _number_text()
    elif f.type == "date":
        typed = _date_text()
    elif words:
        typed = st.sampled_from(sorted(set(words))).flatmap(_messy_word)
    else:
        typed = st.sampled_from(["hello", "Hello", "EMEA", "north america", "vip", "Europe"])
    return st.one_of(
        typed,
        typed,
        st.none(),
        st.sampled_from(["", " ", "\t", "n/a", "unknown", "?"]),
        st.text(max_size=8),
    )


def _leads(pb: Playbook) -> st.SearchStrategy[list[dict[str, object]]]:
    row = st.fixed_dictionaries({name: _raw_value(f) for name, f in pb.fields.items()})
    return st.lists(row, min_size=1, max_size=12)


def _activities(pb: Playbook, rows: int) -> st.SearchStrategy[list[tuple[int, str, int]]]:
    kinds = list(pb.engagement.activities) if pb.engagement else []
    kind = st.one_of(
        st.sampled_from(kinds or ["visit"]).flatmap(_messy_word), st.sampled_from(["unknown_kind"])
    )
    seconds = st.integers(-5 * 86_400, 400 * 86_400)
    return st.lists(st.tuples(st.integers(0, rows - 1), kind, seconds), max_size=30)


LIMITS = {"lookup": 50_000, "expressions": 0, "mixed": 3}
"""``lookup_limit`` per way of parsing: all by dictionary, none, only fields with few values."""


def _compare(
    pb: Playbook,
    leads: list[dict[str, object]],
    acts: list[tuple[int, str, int]],
    now: datetime,
    lookup_limit: int = LIMITS["lookup"],
) -> None:
    frame = pl.DataFrame(
        {name: [None if r[name] is None else str(r[name]) for r in leads] for name in pb.fields},
        schema={name: pl.String for name in pb.fields},
    )
    activities = pl.DataFrame(
        {
            "__row": [a[0] for a in acts],
            "type": [a[1] for a in acts],
            "at": [now - timedelta(seconds=a[2]) for a in acts],
        },
        schema={"__row": pl.UInt32, "type": pl.String, "at": pl.Datetime("us", "UTC")},
    )
    batch = rate_frame(
        pb, frame, now=now, activities=activities, lookup_limit=lookup_limit
    ).collect()
    for i, (lead, got) in enumerate(zip(leads, batch.iter_rows(named=True), strict=True)):
        mine = [Activity(t, now - timedelta(seconds=s)) for row, t, s in acts if row == i]
        want = rate(pb, lead, mine, now=now)
        assert got["grade"] == want.grade, (lead, got, want)
        assert got["route"] == want.route, (lead, got, want)
        assert got["segment"] == want.segment, (lead, got, want)
        assert (got["score"], got["fit"], got["qualification"], got["engagement"]) == (
            want.score,
            want.fit,
            want.qualification,
            want.engagement,
        ), (lead, got, want)
        assert got["reasons"] == "; ".join(want.reasons), (lead, got, want)
        assert got["data_issues"] == "; ".join(want.data_issues), (lead, got, want)


@pytest.mark.parametrize("parsing", sorted(LIMITS))
@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_batch_equals_single(name: str, parsing: str, data: st.DataObject) -> None:
    pb = load_playbook(PLAYBOOKS[name])
    leads = data.draw(_leads(pb))
    acts = data.draw(_activities(pb, len(leads)))
    shift = data.draw(st.integers(0, 3 * 365 * 86_400))
    _compare(pb, leads, acts, NOW - timedelta(seconds=shift), LIMITS[parsing])


@pytest.mark.parametrize("parsing", sorted(LIMITS))
@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=25)
@given(data=st.data())
def test_batch_equals_single_without_activities(
    name: str, parsing: str, data: st.DataObject
) -> None:
    """No activities: reasons and issues are then joined per distinct combination, by key."""
    pb = load_playbook(PLAYBOOKS[name])
    leads = data.draw(_leads(pb).map(lambda rows: rows * 3))
    _compare(pb, leads, [], NOW, LIMITS[parsing])


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=25)
@given(data=st.data())
def test_keys_joined_per_row(name: str, data: st.DataObject) -> None:
    """With too many distinct keys for a lookup, the texts are joined per row, alike."""
    pb = load_playbook(PLAYBOOKS[name])
    leads = data.draw(_leads(pb))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lookup, "JOINED_LIMIT", 0)
        _compare(pb, leads, [], NOW)


@pytest.mark.parametrize("parsing", sorted(LIMITS))
def test_examples_agree_between_paths(parsing: str) -> None:
    for path in PLAYBOOKS.values():
        pb = load_playbook(path)
        leads = [{n: ex.facts.get(n) for n in pb.fields} for ex in pb.spec.examples]
        if leads:
            _compare(pb, leads, [], NOW, LIMITS[parsing])


def test_points_are_exact_tenths() -> None:
    """Whole tenths become the float Python's ``tenths / 10`` gives, never a neighbour."""
    tenths = list(range(-300_000, 300_001))
    got = pl.DataFrame({"t": tenths}).select(_points(pl.col("t"))).to_series().to_list()
    assert got == [t / 10 for t in tenths]
