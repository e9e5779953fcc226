"""Import a file of inquiries in bulk: what ``capture`` does per inquiry, per chunk of rows.

1. ``bulk_prepare.prepare``: the whole file, column by column: identity
   normalised, facts trimmed, rows for the quarantine marked (the JSON texts
   of payloads and events are made per chunk).
2. Per slice of rows, one transaction (``bulk_turns``: on SQLite as many rows as fit
   about half a second, at most :data:`CHUNK_ROWS`):

   a. ``bulk_resolve``: each row's person by the matching rules, in file
      order, against what the database and the earlier rows know;
   b. people folded: new people made from their rows, known people updated
      (identifiers, names, company, the latest non-blank value of each
      fact, the inquiry count);
   c. the opt-outs the rows carry kept (``opt_outs``), each touched person
      rated once, with ``rate_frame`` (the batch twin of ``rate``), over their
      facts and activities, moved and routed, and the new opt-outs honoured;
   d. inquiries, people, accounts, keys, blocks, merges, events (merged,
      captured per row; rated per person) and quarantine items written with
      the database's bulk paths (``adapters.store.bulk``).

Committing per slice keeps each write lock short, so captures from the API
go on while a large import runs; an import that stops half-way keeps the
slices it committed. A person who appears in several rows of a slice is
rated once with all of them, where captures one by one would rate after
each (and log a ``lead.rated`` event each time); the stored rating is the same.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import polars as pl

from leadflow.adapters.identity.emails import ROLE_LOCAL_PARTS
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.bulk import BulkStore
from leadflow.adapters.store.engine import json_text
from leadflow.adapters.store.funnel_store import FunnelStore
from leadflow.adapters.store.repository import Store
from leadflow.analytics.batch import rate_frame
from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import Activity, evaluate
from leadflow.services import opt_outs
from leadflow.services.bulk_funnel import fold_chunk, gap_lists
from leadflow.services.bulk_lifecycle import EnvsOf, advance_chunk
from leadflow.services.bulk_prepare import OPT_CHANNELS, json_object
from leadflow.services.bulk_resolve import MemoryIndex, Resolved
from leadflow.services.handoff import Runtime
from leadflow.services.identity import DEFAULT_PHONE_NAME_FLOOR
from leadflow.services.import_runs import claim, refuse_running

CHUNK_ROWS = 100_000
"""The most rows per transaction: fewer, larger ones rewrite the random-order indexes
(keys, blocks) fewer times; on SQLite the time budget of ``bulk_turns`` keeps them
smaller, so that the write lock is never held for long."""

_SEPARATORS = ("\x1f", "\x1e", "\x1d", "\x1c", "\ue000", "\ue001")
"""Separators for the rating's reasons, the first that occurs in no fact value."""


@dataclass
class ChunkResult:
    new_people: int
    merged: Counter[str]
    quarantined: Counter[str]
    unread: Counter[str]  # "email", "phone": kept inquiries that gave one not read


@dataclass(frozen=True)
class Target:
    """What every chunk of one import shares (``batch``: its ``imports`` row, when its
    columns give each inquiry's fields; ``fields``: the parsed fields as JSON;
    ``campaign``: the one ``--campaign`` gives every row, kept with a quarantined row)."""

    pb: Playbook
    source: str
    now: datetime
    threshold: float
    fields: pl.Expr
    runtime: Runtime = field(default_factory=Runtime)
    batch: str | None = None
    campaign: str | None = None
    phone_floor: float = DEFAULT_PHONE_NAME_FLOOR


@dataclass(frozen=True)
class Ids:
    """Where the new people, accounts and inquiries of a chunk take their ids from."""

    people: Iterator[int]
    accounts: Iterator[int]
    inquiries: Iterator[int]

    @classmethod
    def of(cls, bulk: BulkStore) -> Ids:
        return cls(bulk.ids(t.people), bulk.ids(t.accounts), bulk.ids(t.inquiries))


@dataclass(frozen=True)
class Plan:
    """A chunk decided: each row with its person, account and merge rule, ids given."""

    rows: pl.DataFrame
    resolved: Resolved


def plan_chunk(
    index: MemoryIndex,
    target: Target,
    chunk: pl.DataFrame,
    ids: Ids,
    stop: Callable[[], bool] | None = None,
) -> Plan:
    """Decide the rows of ``chunk``, or with ``stop`` the first of them, up to where it
    said to stop (``Plan.rows`` has them)."""
    resolved = index.resolve(
        chunk, target.threshold, ids.people, ids.accounts, stop, target.phone_floor
    )
    if len(resolved.person) < chunk.height:
        chunk = chunk.head(len(resolved.person))
    rows = _with_resolution(chunk, resolved)
    kept = rows.get_column("reason").is_null().to_list()
    inquiry = [next(ids.inquiries) if k else None for k in kept]
    return Plan(rows.with_columns(id=pl.Series(inquiry, dtype=pl.Int64)), resolved)


@dataclass(frozen=True)
class ImportFile:
    """The file an import reads, for its ``imports`` row: its name, SHA-256, rows and
    columns (``[header, name]`` pairs); whether those columns give each row's fields
    (names that are unique); the campaign it gives every row; and, for an import that
    goes on from one that stopped, that import's id and the rows it took."""

    name: str
    checksum: str
    rows: int
    columns: list[list[str]]
    gives_fields: bool
    campaign: str | None = None
    import_id: int | None = None
    taken: int = 0
    seen: int = 0  # the latest import of the file when this one looked (0: none)


def record_import(bulk: BulkStore, target: Target, file: ImportFile) -> tuple[Target, int]:
    """The import's ``imports`` row, made once (or the stopped one it resumes, now in this
    process's name); the target that names it when its columns give the rows' fields, and
    its id. Refused when another import of the file is running."""
    refuse_running(bulk, file.checksum, "inquiries", file.seen)
    import_id = file.import_id
    if import_id is None:
        import_id = bulk.insert_import(
            target.now,
            target.source,
            file.columns,
            file.name,
            file.checksum,
            file.rows,
            campaign=file.campaign,
        )
    else:
        claim(bulk, import_id, file.taken, file.name)
    return (replace(target, batch=str(import_id)) if file.gives_fields else target), import_id


def write_chunk(bulk: BulkStore, target: Target, plan: Plan) -> ChunkResult:
    resolved, rows = plan.resolved, plan.rows
    at = bulk.stamp(target.now)
    kept = rows.filter(pl.col("reason").is_null())

    bulk.insert(t.accounts, _accounts(resolved, at))
    made = {account for account, *_ in resolved.new_accounts}
    bulk.set_account_domains([(a, d) for a, d in resolved.adopted if a not in made])
    people, updates, facts = _people(bulk, target.pb, kept, resolved, at)
    bulk.insert(t.people, people)
    bulk.update_people(updates)
    bulk.insert(
        t.inquiries,
        kept.select(
            "id",
            received_at=pl.lit(at),
            channel=pl.lit("import"),
            source=pl.lit(target.source),
            campaign="campaign",
            external_id="external_id",
            payload="payload",
            # An imported row's fields are its import's columns over its payload.
            fields=pl.lit("null") if target.batch else target.fields,
            person_id="person_id",
            account_id="account_id",
            batch=pl.lit(target.batch, pl.String),
        ),
    )
    bulk.insert(
        t.person_keys,
        # In key order: the index takes sorted rows page by page, not at random.
        pl.DataFrame(resolved.new_keys, schema=["kind", "value", "person_id"], orient="row").sort(
            "kind", "value"
        ),
    )
    bulk.insert(
        t.person_blocks,
        pl.DataFrame(resolved.new_blocks, schema=["block", "person_id"], orient="row").sort(
            "block", "person_id"
        ),
        skip_existing=True,
    )
    merges = kept.filter(pl.col("rule").is_not_null())
    bulk.insert(
        t.merges,
        merges.select(
            at=pl.lit(at),
            inquiry_id="id",
            person_id="person_id",
            rule="rule",
            score="score",
            detail="detail",
        ),
    )
    # Kept before the hand-off (a rep told of a lead is told of its opt-outs), honoured
    # once the leads have moved, as ``capture_in`` does.
    said = opt_outs.source_of("import", target.source)
    store = Store(bulk.connection)
    opted = opt_outs.record(store, _opted_out(kept), target.now, said)
    # Read once for the rating and for the environments the hand-off may need.
    activities = (
        bulk.activities(facts.get_column("person_id").to_list())
        if target.pb.engagement is not None
        else []
    )
    ratings = _rate(target, facts, activities, at)
    bulk.delete_ratings(updates.get_column("id").to_list() if not updates.is_empty() else [])
    bulk.insert(t.lead_state, ratings)
    gaps = gap_lists(target.pb, facts, ratings.get_column("segment"))
    logged = _events(kept, ratings.with_columns(gaps), target.pb.version, at)
    FunnelStore(bulk.connection).catch_up()  # a server's captures, folded before ours
    bulk.insert(t.events, logged)
    moved = advance_chunk(
        bulk.connection,
        target.pb,
        ratings,
        target.now,
        target.runtime,
        bulk.stamp,
        _envs_of(target, facts, activities),
        resolved.new_people,
    )
    bulk.delete_people_rows(t.lifecycle, moved.replaced)
    bulk.insert(t.lifecycle, moved.lifecycle)
    bulk.insert(t.events, moved.events)
    opt_outs.honour(store, opted, target.now, said, end_tracks=False)
    fold_chunk(bulk, pl.concat([logged, moved.events], how="vertical_relaxed"), resolved.new_people)
    quarantined = rows.filter(pl.col("reason").is_not_null())
    bulk.insert(
        t.quarantine,
        quarantined.select(
            received_at=pl.lit(at),
            channel=pl.lit("import"),
            source=pl.lit(target.source),
            campaign=pl.lit(target.campaign, pl.String),
            payload="payload",
            fields=target.fields,
            reason="reason",
            error="error",
        ),
    )
    return ChunkResult(
        new_people=len(resolved.new_people),
        merged=Counter(merges.get_column("rule").to_list()),
        quarantined=Counter(quarantined.get_column("reason").to_list()),
        unread=_unread(rows.filter(pl.col("reason").is_null())),
    )


def _unread(kept: pl.DataFrame) -> Counter[str]:
    """How many kept inquiries gave an email or a phone that could not be read (each is
    a data issue of its inquiry; its raw text stays in the payload)."""
    counts = kept.select(
        email=pl.col("email_issue").is_not_null().sum(),
        phone=pl.col("phone_issue").is_not_null().sum(),
    ).row(0, named=True)
    return Counter({name: int(n) for name, n in counts.items() if n})


def _opted_out(kept: pl.DataFrame) -> dict[int, list[str]]:
    """The channels each person's rows opt them out of (``bulk_prepare``'s ``opt:*``)."""
    said = [f"opt:{channel}" for channel in OPT_CHANNELS]
    rows = (
        kept.filter(pl.any_horizontal(said))
        .group_by("person_id", maintain_order=True)
        .agg(pl.col(said).any())
    )
    return {
        int(person): [c for c, yes in zip(OPT_CHANNELS, flags, strict=True) if yes]
        for person, *flags in rows.iter_rows()
    }


def _with_resolution(chunk: pl.DataFrame, resolved: Resolved) -> pl.DataFrame:
    return chunk.with_columns(
        person_id=pl.Series(resolved.person, dtype=pl.Int64),
        account_id=pl.Series(resolved.account, dtype=pl.Int64),
        rule=pl.Series(resolved.rule, dtype=pl.String),
        score=pl.Series(resolved.score, dtype=pl.Float64),
        detail=pl.Series(resolved.detail, dtype=pl.String),
    )


def _accounts(resolved: Resolved, at: str) -> pl.DataFrame:
    """The chunk's new accounts, those that took a domain in it with their domain."""
    adopted = dict(resolved.adopted)
    frame = pl.DataFrame(
        [(a, adopted.get(a, domain), *rest) for a, domain, *rest in resolved.new_accounts],
        schema={"id": pl.Int64, "domain": pl.String, "name": pl.String, "name_key": pl.String},
        orient="row",
    )
    return frame.with_columns(created_at=pl.lit(at))


FIRST_WINS = ("email", "phone")  # but a personal email wins over a role address
LATEST_WINS = ("first_name", "last_name", "name_key", "company", "company_key", "account_id")


def _people(
    bulk: BulkStore, pb: Playbook, kept: pl.DataFrame, resolved: Resolved, at: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """New people to insert, known people's new values, and every touched person's facts.

    ``apply_inquiry`` per row, folded: email and phone keep the first value
    known, but a role address gives way to the first personal one
    (``capture.contact_email``); names, company and account take the latest given,
    each fact the latest non-blank value; the inquiry count adds up.
    """
    fields = [f"fact:{f}" for f in pb.fields]
    personal = pl.col("email").filter(~pl.col("role_address")).drop_nulls().first()
    folded = kept.group_by("person_id", maintain_order=True).agg(
        *(pl.col(c).drop_nulls().first() for c in FIRST_WINS),
        personal.alias("__personal"),
        *(pl.col(c).drop_nulls().last() for c in LATEST_WINS),
        *(pl.col(c).drop_nulls().last() for c in fields),
        count=pl.len(),
    )
    folded = folded.with_columns(email=pl.coalesce("__personal", "email"))
    new = pl.Series(resolved.new_people, dtype=pl.Int64)
    fresh = folded.filter(pl.col("person_id").is_in(new.implode()))
    known = folded.filter(~pl.col("person_id").is_in(new.implode()))

    people = fresh.select(
        id="person_id",
        created_at=pl.lit(at),
        updated_at=pl.lit(at),
        **{c: c for c in (*FIRST_WINS, *LATEST_WINS)},
        facts=_facts_object(pb),
        inquiry_count="count",
    )
    facts = fresh.select("person_id", *(pl.col(c).alias(c[5:]) for c in fields))
    if known.is_empty():
        return people, known.select(id="person_id"), facts

    stored = bulk.people(known.get_column("person_id").to_list())
    both = known.join(stored, left_on="person_id", right_on="id", suffix="_was")
    role_kept = pl.col("email_was").str.extract("^([^@+]*)", 1).is_in(sorted(ROLE_LOCAL_PARTS))
    both = both.with_columns(
        email_was=pl.when(role_kept.fill_null(False) & pl.col("__personal").is_not_null())
        .then(pl.col("__personal"))
        .otherwise(pl.col("email_was"))
    )
    merged_facts = [
        _merge_facts(was, {f: row[f"fact:{f}"] for f in pb.fields})
        for was, row in zip(
            both.get_column("facts").to_list(), both.iter_rows(named=True), strict=True
        )
    ]
    updates = both.select(
        id="person_id",
        updated_at=pl.lit(at),
        **{c: pl.coalesce(f"{c}_was", c) for c in FIRST_WINS},
        **{c: pl.coalesce(c, f"{c}_was") for c in LATEST_WINS},
        facts=pl.Series([json_text(f) for f in merged_facts], dtype=pl.String),
        inquiry_count=pl.col("inquiry_count") + pl.col("count"),
    )
    known_facts = pl.DataFrame(
        [{f: _text(facts_of.get(f)) for f in pb.fields} for facts_of in merged_facts],
        schema={f: pl.String for f in pb.fields},
    ).with_columns(person_id=both.get_column("person_id"))
    return people, updates, pl.concat([facts, known_facts.select(facts.columns)]).sort("person_id")


def _merge_facts(stored: str | None, latest: dict[str, str | None]) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(stored) if stored else {}
    facts.update({k: v for k, v in latest.items() if v is not None})
    return facts


def _text(value: object) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(value)


def _facts_object(pb: Playbook) -> pl.Expr:
    return json_object([(f, pl.col(f"fact:{f}")) for f in pb.fields], drop_nulls=True)


def _rate(target: Target, facts: pl.DataFrame, activities: Activities, at: str) -> pl.DataFrame:
    """``rerate`` for every touched person at once: ``lead_state`` rows."""
    pb = target.pb
    separator = next(s for s in _SEPARATORS if not _occurs(facts, s))
    rated = rate_frame(
        pb,
        facts.drop("person_id"),
        now=target.now,
        activities=_activities(activities, facts),
        separator=separator,
    ).collect()
    return pl.DataFrame({"person_id": facts.get_column("person_id")}).with_columns(
        rated.select(
            "grade",
            "score",
            "route",
            "fit",
            "qualification",
            "engagement",
            "segment",
            reasons=_json_list(pl.col("reasons"), separator),
            data_issues=_json_list(pl.col("data_issues"), separator),
            playbook_version=pl.lit(pb.version),
            rated_at=pl.lit(at),
        )
    )


Activities = list[tuple[int, str, datetime]]
"""(person, type, when) of the chunk's people's activities (``BulkStore.activities``)."""


def _envs_of(target: Target, facts: pl.DataFrame, activities: Activities) -> EnvsOf:
    """People's environments from the chunk's facts (as stored after it) and activities:
    what ``lead_env`` reads from the database, without a query per person."""
    by_person: dict[int, list[Activity]] = {}
    for person, kind, at in activities:
        by_person.setdefault(person, []).append(Activity(kind, at))

    def envs_of(people: Sequence[int]) -> dict[int, dict[str, object]]:
        wanted = facts.filter(pl.col("person_id").is_in(list(people)))
        return {
            int(row["person_id"]): evaluate(
                target.pb, row, by_person.get(int(row["person_id"]), []), now=target.now
            )[1]
            for row in wanted.iter_rows(named=True)
        }

    return envs_of


def _activities(rows: Activities, facts: pl.DataFrame) -> pl.DataFrame | None:
    """The activities as ``rate_frame`` takes them: by the row of their person in ``facts``."""
    if not rows:
        return None
    people = facts.get_column("person_id")
    frame = pl.DataFrame(
        rows,
        schema={"person_id": pl.Int64, "type": pl.String, "at": pl.Datetime("us", "UTC")},
        orient="row",
    )
    where = pl.DataFrame({"person_id": people}).with_row_index("__row")
    return frame.join(where, on="person_id").select("__row", "type", "at")


def _occurs(facts: pl.DataFrame, text: str) -> bool:
    return (
        bool(
            facts.select(
                pl.any_horizontal(
                    pl.col(pl.String).str.contains(text, literal=True).any().fill_null(False)
                )
            ).item()
        )
        if facts.width > 1
        else False
    )


def _json_list(texts: pl.Expr, separator: str) -> pl.Expr:
    """Texts joined with ``separator`` back into their lists, as JSON arrays."""
    encoded = pl.struct(texts.str.split(separator).alias("v")).struct.json_encode()
    array = encoded.str.slice(5, encoded.str.len_chars() - 6)
    return pl.when(texts.is_null() | (texts == "")).then(pl.lit("[]")).otherwise(array)


def _events(kept: pl.DataFrame, ratings: pl.DataFrame, version: str, at: str) -> pl.DataFrame:
    """``person.merged`` and ``inquiry.captured`` per row in file order, then ``lead.rated``."""
    merged = kept.filter(pl.col("rule").is_not_null()).select(
        "__row",
        order=pl.lit(0),
        type=pl.lit("person.merged"),
        person_id="person_id",
        inquiry_id="id",
        data=pl.struct("rule", "score", "detail").struct.json_encode(),
    )
    captured = kept.select(
        "__row",
        order=pl.lit(1),
        type=pl.lit("inquiry.captured"),
        person_id="person_id",
        inquiry_id="id",
        data="captured",
    )
    rated = ratings.select(
        person_id="person_id",
        inquiry_id=pl.lit(None, pl.Int64),
        data=pl.struct(
            "grade", "route", "score", "missing", "unanswered", playbook_version=pl.lit(version)
        ).struct.json_encode(),
        type=pl.lit("lead.rated"),
    )
    rows = pl.concat([merged, captured]).sort("__row", "order")
    return pl.concat(
        [
            rows.select("type", "person_id", "inquiry_id", "data"),
            rated.select("type", "person_id", "inquiry_id", "data"),
        ]
    ).select(
        at=pl.lit(at), type="type", person_id="person_id", inquiry_id="inquiry_id", data="data"
    )
