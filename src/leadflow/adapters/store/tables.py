"""The database tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

The event log and the raw inquiries are the record; ``people.facts`` and
``lead_state`` are projections of them that can be rebuilt with any playbook.

::

    inquiries ──┐ every inquiry exactly as received (payload), with source,
                │ campaign, channel, received_at and idempotency key
                ├─► people ◄── person_keys (email, phone, external ids: how a
                │      │        person is found again)
                │      └─► accounts (companies, by registrable domain / name)
                ├─► merges (an inquiry joined an existing person: rule, score;
                │           undone_at when split off again)
    activities, answers ──► people
    events: append-only log of what happened (captured, merged, rated, ...); an
            inquiry.captured event says where the inquiry came from (source, channel,
            campaign, form) and points to it: what it said is the inquiry's own payload
    lead_state: the current rating per person (grade, score, route, reasons)
    quarantine: what could not be processed, with its error, for replay
    imports: an imported file's columns and the names they are captured under
    api_keys, forms: who may capture, and the forms that post here
    reps: the people leads are routed to (team, capacity, territories, hours, away)
    lifecycle: the current stage, owner and deadlines per person (a projection of events)
    timers: what the worker must do when (SLA deadlines, recontact dates)
    webhooks ──► deliveries: where events are POSTed, and the outbox / delivery log
    emails: the outbox and log of the emails leadflow sends (to reps, to escalate)
    users: who signs in to the web pages, with a role (admin, marketing, manager, rep)
    site_secrets: keys leadflow generates for itself (the session cookies' signing key)
    funnel: what the reports count per person (a projection of events: first inquiry,
            stage types reached, hand-off times, outcome); handbacks: each rejection
            and recycle, with its reason
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and must be
# spelled INTEGER to be the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")
When = DateTime(timezone=True)


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _partial(name: str, *columns: str, present: str) -> Index:
    """An index of the rows whose ``present`` column is set (a query naming a value of
    that column uses it; the rows without one cost it nothing)."""
    where = text(f"{present} IS NOT NULL")
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("domain", String(253), unique=True),
    Column("name", String(300)),
    Column("name_key", String(300), index=True),
    Column("created_at", When, nullable=False),
    # The rep who owns the company: its next leads go to them (routing.account_owner).
    Column("owner_rep_id", Id, ForeignKey("reps.id")),
)

people = Table(
    "people",
    metadata,
    _id(),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    Column("email", String(320)),
    Column("phone", String(32)),
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("name_key", String(400)),
    Column("company", String(300)),
    Column("company_key", String(300)),
    Column("account_id", Id, ForeignKey("accounts.id")),
    Column("facts", JSON, nullable=False, default=dict),
    Column("inquiry_count", Integer, nullable=False, default=0),
)

# Exact identifiers: each (kind, value) belongs to one person. kind is email, phone or
# external (value "source:id"): a source's own id identifies within that source.
person_keys = Table(
    "person_keys",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("value", String(400), primary_key=True),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False, index=True),
)

# Blocking keys: the people of one company (by domain or name key), compared by name
# only within their block; the people other than its key's owner who gave a phone
# number ("phone:+4420..."), of whom a call from it joins the name that can be theirs;
# and the people once called a name ("name:ann lee"), which is still theirs.
person_blocks = Table(
    "person_blocks",
    metadata,
    Column("block", String(400), primary_key=True),
    Column("person_id", Id, ForeignKey("people.id"), primary_key=True),
    Index("ix_person_blocks_person_id", "person_id"),
)

inquiries = Table(
    "inquiries",
    metadata,
    _id(),
    Column("received_at", When, nullable=False),
    Column("channel", String(20), nullable=False),  # api | form | import | replay
    Column("source", String(200), nullable=False),
    Column("campaign", String(200)),
    Column("form_key", String(64)),
    Column("external_id", String(200)),
    Column("idempotency_key", String(200)),
    Column("payload", Text, nullable=False),  # exactly as received
    Column("fields", JSON, nullable=False),  # the fields parsed from it
    Column("person_id", Id, ForeignKey("people.id"), index=True),
    Column("account_id", Id, ForeignKey("accounts.id")),
    # The import it came with (imports.id, as text); its fields are then JSON null when
    # the import's columns give them from the payload (``repository.inquiry_fields``).
    Column("batch", String(64)),
    UniqueConstraint("idempotency_key", name="uq_inquiries_idempotency_key"),
    # import-outcomes finds a CRM's closed deal by the id the CRM gave the inquiry.
    Index("ix_inquiries_external_id", "external_id"),
    Index("ix_inquiries_source_id", "source", "id"),  # the web's inquiry search (0009)
)

# An imported file: the name each of its columns is captured under, in the file's order
# ([header, name] pairs). A row's parsed fields are its payload's values under those
# names, nulls left out, so they are stored here once instead of on every inquiry.
# Which file it was (inquiries or activities; its name and SHA-256), its rows, how many of
# them are taken (set in the transaction that writes them) and when it finished: a file
# imported already is refused, one that stopped half-way resumes after its rows (0016).
imports = Table(
    "imports",
    metadata,
    _id(),
    Column("started_at", When, nullable=False),
    Column("source", String(200), nullable=False),
    Column("columns", JSON, nullable=False),
    Column("kind", String(20), nullable=False, server_default="inquiries"),  # or activities
    Column("file", String(1000)),
    Column("checksum", String(64), index=True),
    Column("rows", Integer),
    Column("taken", Integer, nullable=False, server_default="0"),
    Column("finished_at", When),
    Column("campaign", String(200)),
    Column("runner", String(300)),  # host:pid of the process that imports it
    Column("seen_at", When),  # when that process last committed rows of it
)

merges = Table(
    "merges",
    metadata,
    _id(),
    Column("at", When, nullable=False),
    Column("inquiry_id", Id, ForeignKey("inquiries.id"), nullable=False, index=True),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False, index=True),
    Column("rule", String(40), nullable=False),
    Column("score", Float, nullable=False),
    Column("detail", Text),
    Column("undone_at", When),
    Column("split_person_id", Id, ForeignKey("people.id")),
)

activities = Table(
    "activities",
    metadata,
    _id(),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False),
    Column("type", String(60), nullable=False),
    Column("at", When, nullable=False),
    Column("source", String(200)),
    Column("payload", Text),
    Index("ix_activities_person_at", "person_id", "at"),
)

answers = Table(
    "answers",
    metadata,
    _id(),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False, index=True),
    Column("field", String(100), nullable=False),
    Column("value", Text),
    Column("at", When, nullable=False),
    Column("by", String(200)),
    Column("channel", String(20)),  # form | call | email | api | import
)

events = Table(
    "events",
    metadata,
    _id(),
    Column("at", When, nullable=False),
    Column("type", String(60), nullable=False),
    Column("person_id", Id, index=True),
    Column("inquiry_id", Id),
    Column("data", JSON),
)

lead_state = Table(
    "lead_state",
    metadata,
    Column("person_id", Id, ForeignKey("people.id"), primary_key=True),
    Column("grade", String(20), nullable=False),
    Column("score", Float, nullable=False),
    Column("route", String(20), nullable=False),
    Column("fit", Float, nullable=False),
    Column("qualification", Float, nullable=False),
    Column("engagement", Float, nullable=False),
    Column("segment", String(100)),
    Column("reasons", JSON, nullable=False),
    Column("data_issues", JSON, nullable=False),
    Column("playbook_version", String(40), nullable=False),
    Column("rated_at", When, nullable=False),
    Index("ix_lead_state_grade", "grade"),
)

quarantine = Table(
    "quarantine",
    metadata,
    _id(),
    # Unbounded text: the quarantine must take whatever the rest of the database refused.
    Column("received_at", When, nullable=False),
    Column("channel", Text, nullable=False),
    Column("source", Text),
    # The campaign it was given beside its fields (an import's --campaign, the API's
    # envelope): a replay is captured under it.
    Column("campaign", Text),
    Column("form_key", Text),
    Column("payload", Text, nullable=False),  # exactly as received
    Column("fields", JSON),  # the fields parsed from it, when it could be parsed
    Column("reason", String(40), nullable=False),
    Column("error", Text, nullable=False),
    Column("replayed_at", When),
    Column("inquiry_id", Id, ForeignKey("inquiries.id")),
    # A retry with the same Idempotency-Key finds this item instead of making another.
    Column("idempotency_key", String(200), index=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("scope", String(20), nullable=False),
    Column("name", String(200)),
    Column("created_at", When, nullable=False),
    Column("revoked_at", When),
)

forms = Table(
    "forms",
    metadata,
    _id(),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("thank_you_url", String(2000)),
    Column("field_map", JSON, nullable=False, default=dict),
    Column("honeypot", String(100), nullable=False, default="website_url"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", When, nullable=False),
)

# The people leads are routed to. A deactivated rep stays (its leads keep their owner);
# it only gets no new ones.
reps = Table(
    "reps",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),  # normalised, lower case
    Column("team", String(100), index=True),
    Column("capacity", Integer),  # open leads it can hold; null: no limit
    Column("territories", JSON, nullable=False, default=list),
    Column("working_hours", String(300)),  # "Europe/Berlin Mon-Fri 09:00-17:00"
    Column("away_from", Date),  # out of office, both days included
    Column("away_until", Date),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
    # Round robin: the rep whose last turn is the oldest goes next (0: never had one).
    Column("last_turn", BigInteger, nullable=False, default=0, server_default="0"),
)

# Where each lead stands in the hand-off: a projection of the events (stage.changed,
# lead.routed, lead.accepted, ...), kept current in the transaction that logs them.
lifecycle = Table(
    "lifecycle",
    metadata,
    Column("person_id", Id, ForeignKey("people.id"), primary_key=True),
    Column("stage", String(60), nullable=False),
    Column("stage_since", When, nullable=False),
    Column("side", String(10), nullable=False),  # marketing | sales
    Column("team", String(100)),
    Column("owner_rep_id", Id, ForeignKey("reps.id")),
    Column("sales_ready_at", When),  # speed to lead starts here
    Column("routed_at", When),
    Column("accepted_at", When),
    Column("first_contact_at", When),
    Column("accept_due", When),
    Column("contact_due", When),
    Column("reason", String(100)),  # the last hand-back or disqualification reason
    Column("note", Text),
    Column("recontact_on", Date),
    Column("updated_at", When, nullable=False),
    Index("ix_lifecycle_stage", "stage"),
    # The web's lists (0009): a rep's queue by deadline, a team's board and pool, and the
    # leads sales handed back (held until their recontact date), newest first. Each holds
    # only the rows its lists read (0011): most leads, in nurture, have no owner, team
    # or deadline, and a capture then writes no page of these indexes.
    _partial("ix_lifecycle_owner_accept_due", "owner_rep_id", "accept_due", present="owner_rep_id"),
    _partial("ix_lifecycle_team_owner_stage", "team", "owner_rep_id", "stage", present="team"),
    _partial("ix_lifecycle_team_accept_due", "team", "accept_due", present="accept_due"),
    _partial("ix_lifecycle_team_contact_due", "team", "contact_due", present="contact_due"),
    Index(
        "ix_lifecycle_held_stage_since",
        "stage_since",
        sqlite_where=text("recontact_on IS NOT NULL"),
        postgresql_where=text("recontact_on IS NOT NULL"),
    ),
)

# Work for the worker: an SLA deadline, a recontact date. Each runs once; on PostgreSQL
# workers claim due rows with FOR UPDATE SKIP LOCKED.
timers = Table(
    "timers",
    metadata,
    _id(),
    Column("kind", String(30), nullable=False),  # accept_sla | contact_sla | recontact
    Column("person_id", Id, ForeignKey("people.id"), nullable=False, index=True),
    Column("due_at", When, nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    Column("status", String(12), nullable=False, default="pending"),  # pending|done|stale
    Column("done_at", When),
    Column("worker", String(100)),
    Column("result", Text),
    Index("ix_timers_status_due_at", "status", "due_at"),
)

# Outgoing webhooks: where events are POSTed. The secret is stored as it is, because every
# delivery is signed with it; a removed webhook is only deactivated (its deliveries stay).
# A webhook with a rep gets only the events whose data names that rep (``rep_id``).
webhooks = Table(
    "webhooks",
    metadata,
    _id(),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False, default=list),  # ["lead.captured", ...]
    Column("secret", String(100), nullable=False),
    Column("rep_id", Id, ForeignKey("reps.id"), index=True),  # null: every rep's events
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", When, nullable=False),
)

# The outbox and delivery log: one row per event per webhook, written in the transaction
# of the change that caused it, then claimed and sent (and retried) by a dispatcher.
# status: pending -> sending (claimed until claimed_until) -> delivered | pending | failed.
deliveries = Table(
    "deliveries",
    metadata,
    _id(),
    Column("webhook_id", Id, ForeignKey("webhooks.id"), nullable=False, index=True),
    Column("event", String(50), nullable=False),
    Column("body", Text, nullable=False),  # the exact JSON text sent, and signed
    Column("status", String(20), nullable=False),  # pending, sending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", When, nullable=False),
    Column("claimed_until", When),  # while sending: another process may claim it after
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", When, nullable=False),
    Column("delivered_at", When),
    Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

# The email outbox and log, claimed and sent like deliveries. kind says why it was sent
# (lead.routed, sla.breached); person_id is the lead it is about, when there is one.
emails = Table(
    "emails",
    metadata,
    _id(),
    Column("to", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text),  # an HTML alternative (nurture emails), sent with the text
    Column("kind", String(50), nullable=False),
    Column("person_id", Id, ForeignKey("people.id"), index=True),
    Column("status", String(20), nullable=False),  # pending, sending, sent, failed, withdrawn
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", When, nullable=False),
    Column("claimed_until", When),
    Column("last_error", Text),
    Column("created_at", When, nullable=False),
    Column("sent_at", When),
    Index("ix_emails_status_next_attempt_at", "status", "next_attempt_at"),
)

# The conditions of the nurture page's partial indexes. Its queries spell them with these
# same literals: a partial index serves a query whose condition is the index's, not one
# with bound parameters in its place (SQLite; PostgreSQL's generic plans alike). An open
# enrollment (active or paused) is spelled as "neither finished nor exited" so that
# SQLite, without statistics, cannot take ix_enrollments_status_due_at for it instead.
ENROLLMENT_OPEN = "status NOT IN ('finished', 'exited')"
TOUCH_HELD = "status IN ('deferred', 'skipped')"

# Nurture: who is in which track, at which step, and when the next one is due.
enrollments = Table(
    "enrollments",
    metadata,
    _id(),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False, index=True),
    Column("track", String(100), nullable=False),
    Column("step", Integer, nullable=False, default=0),  # the next step's index
    Column("status", String(12), nullable=False),  # active | paused | finished | exited
    Column("due_at", When),  # when the next step is due (null: none)
    Column("entered_at", When, nullable=False),
    Column("last_step_at", When),
    Column("exited_at", When),
    Column("exit_reason", String(100)),
    Index("ix_enrollments_status_due_at", "status", "due_at"),
    # The nurture page (0013): who is in a track now, at which step and when, over the
    # open enrollments only (a few percent of them once most have finished).
    Index(
        "ix_enrollments_open_track_step",
        "track",
        "step",
        "due_at",
        "id",
        "status",
        sqlite_where=text(ENROLLMENT_OPEN),
        postgresql_where=text(ENROLLMENT_OPEN),
    ),
    Index(
        "ix_enrollments_open_track_due",
        "track",
        "due_at",
        "id",
        "step",
        "status",
        sqlite_where=text(ENROLLMENT_OPEN),
        postgresql_where=text(ENROLLMENT_OPEN),
    ),
)

# Every message and call that reached a person (or was held back, and why): what the
# contact policy's caps count and the customer-experience report shows. An email's token
# names it in its tracking links and its unsubscribe link.
touches = Table(
    "touches",
    metadata,
    _id(),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False),
    Column("at", When, nullable=False),
    Column("channel", String(20), nullable=False),  # email | call | mail | event | webhook
    Column("side", String(10), nullable=False),  # marketing | sales
    Column("stage", String(60)),
    Column("status", String(12), nullable=False),  # sent | deferred | skipped
    Column("reason", Text),
    Column("track", String(100)),
    Column("step", Integer),
    Column("subject", String(500)),
    Column("token", String(40), unique=True),
    Column("links", JSON),
    Index("ix_touches_person_id_at", "person_id", "at"),
    Index(  # what the contact policy held back lately, for the nurture page (0013)
        "ix_touches_held_at",
        "at",
        "status",
        "reason",  # the policy's own words, short
        "person_id",
        sqlite_where=text(TOUCH_HELD),
        postgresql_where=text(TOUCH_HELD),
    ),
)

# What a person said about being contacted, by channel (email, call, mail, any).
preferences = Table(
    "preferences",
    metadata,
    Column("person_id", Id, ForeignKey("people.id"), primary_key=True),
    Column("channel", String(10), primary_key=True),
    Column("opted_out", Boolean, nullable=False),
    Column("at", When, nullable=False),
    Column("source", String(100), nullable=False),  # unsubscribe link, inquiry (api: web)...
)

# Work for people: a call to make, a letter to send. Nurture's call steps and the
# qualification-call queue.
tasks = Table(
    "tasks",
    metadata,
    _id(),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # call | mail
    Column("purpose", Text, nullable=False),
    Column("status", String(10), nullable=False),  # open | done | cancelled
    Column("due_at", When, nullable=False),
    Column("created_at", When, nullable=False),
    Column("done_at", When),
    Column("by", String(200)),
    Column("note", Text),
    Column("track", String(100)),
    Index("ix_tasks_status_due_at", "status", "due_at"),
)

# Who signs in to the web pages. A sales rep is linked to its rep (whose leads it works);
# a sales manager to a team. The password is kept only as an argon2 hash. A deactivated
# user cannot sign in, and its open sessions end at their next request.
users = Table(
    "users",
    metadata,
    _id(),
    Column("email", String(320), nullable=False, unique=True),  # normalised, lower case
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),  # admin | marketing | manager | rep
    Column("password_hash", String(200), nullable=False),
    Column("rep_id", Id, ForeignKey("reps.id"), index=True),
    Column("team", String(100)),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", When, nullable=False),
    Column("updated_at", When, nullable=False),
)

# Secrets leadflow makes for itself on first use, shared by every process through the
# database: the key that signs the web's session cookies when LEADFLOW_SECRET_KEY is unset.
site_secrets = Table(
    "site_secrets",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("created_at", When, nullable=False),
)

# What the reports count, one narrow row per person: a fold of its events
# (``domain/funnel.py``), kept current by the code that logs them (``funnel_store.py``).
# Times are Unix seconds (UTC): reports subtract them on either database as integers.
# ``reached_<type>``: the first entry into a stage of that type; ``seconds_<type>``: the
# time spent in that type over the visits that have ended (null: never left one).
Epoch = BigInteger
STAGE_COLUMNS = (
    "inquiry",
    "nurture",
    "marketing_qualified",
    "sales_accepted",
    "sales_qualified",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "disqualified",
)

funnel = Table(
    "funnel",
    metadata,
    Column("person_id", Id, ForeignKey("people.id"), primary_key=True),
    Column("first_at", Epoch),  # the first inquiry: the lead's cohort
    Column("month", String(7)),  # of the first inquiry, "2026-11"
    Column("source", String(200)),
    Column("campaign", String(200)),
    Column("form_key", String(64)),
    Column("inquiries", Integer, nullable=False, default=0),
    Column("grade", String(20)),
    Column("route", String(20)),
    Column("missing", Text),  # ",budget,timeframe,": blank and needed by a rule
    Column("unanswered", Text),  # ",budget,industry,": every playbook field left blank
    Column("stage_type", String(30)),
    Column("stage_since", Epoch),
    *(Column(f"reached_{name}", Epoch) for name in STAGE_COLUMNS),
    *(Column(f"seconds_{name}", Epoch) for name in STAGE_COLUMNS),
    Column("ready_at", Epoch),
    Column("routed_at", Epoch),
    Column("last_routed_at", Epoch),
    Column("rep_id", Id),
    Column("accepted_at", Epoch),
    Column("last_accepted_at", Epoch),
    Column("contacted_at", Epoch),
    Column("handbacks", Integer, nullable=False, default=0),
    Column("opportunity_at", Epoch),
    Column("opportunity_value", Float),
    Column("outcome", String(10)),  # won | lost
    Column("outcome_at", Epoch),
    Column("outcome_value", Float),
    Column("outcome_reason", String(200)),
    Column("currency", String(3)),
)

# The velocity report's rows: the positive durations of each lead that has one (null: not
# known, or zero: zeros are counted in funnel_counts), with the lead's groups. Kept with
# the funnel row.
VELOCITY_COLUMNS = (
    *(f"in_{name}" for name in STAGE_COLUMNS),
    "speed_to_lead",
    "time_to_accept",
    "to_sales_ready",
)
VELOCITY_ORDERED = (None, "source")
"""The groups whose durations each measure keeps in order (None: all leads; 0014): the
velocity report reads a median or p90 there at its rank instead of reading every row."""


def velocity_index(measure: str, group: str | None) -> str:
    return f"ix_funnel_times_{group}_{measure}" if group else f"ix_funnel_times_{measure}"


def _velocity_indexes() -> list[Index]:
    """Per measure and ordered group: (group, measure, first_at) of the rows where the
    measure is known; ``first_at`` is there for a period's filter to be read from it too."""
    return [
        _partial(velocity_index(m, g), *([g] if g else []), m, "first_at", present=m)
        for m in VELOCITY_COLUMNS
        for g in VELOCITY_ORDERED
    ]


funnel_times = Table(
    "funnel_times",
    metadata,
    Column("person_id", Id, ForeignKey("people.id"), primary_key=True),
    Column("first_at", Epoch),
    Column("source", String(200)),
    Column("campaign", String(200)),
    Column("form_key", String(64)),
    Column("rep_id", Id),
    Column("grade", String(20)),
    Column("month", String(7)),
    *(Column(name, BigInteger) for name in VELOCITY_COLUMNS),
    *_velocity_indexes(),
)

# The funnel rows added up per dimension (all, source, campaign, form, rep, grade, month),
# group and day of the first inquiry, kept current with them (``funnel_counts.py``): the
# funnel, sources and gaps reports read these instead of a million rows.
_COUNTED = (
    "leads",
    "inquiries",
    *(f"reached_{name}" for name in STAGE_COLUMNS),
    *(f"both_{name}" for name in STAGE_COLUMNS[1:7]),
    "ready",
    "routed",
    "accepted",
    "handed_back",
    "won",
    "lost",
)
_ZEROS = (
    *(f"zero_in_{name}" for name in STAGE_COLUMNS),
    "zero_speed_to_lead",
    "zero_time_to_accept",
    "zero_to_sales_ready",
)
funnel_counts = Table(
    "funnel_counts",
    metadata,
    Column("dim", String(10), primary_key=True),
    Column("key", String(200), primary_key=True),  # "" for none
    Column("day", Integer, primary_key=True),  # days since 1970-01-01 (UTC)
    *(Column(name, BigInteger, nullable=False, default=0) for name in (*_COUNTED, *_ZEROS)),
    Column("revenue", Float, nullable=False, default=0.0),
)
gap_counts = Table(
    "gap_counts",
    metadata,
    Column("dim", String(10), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("field", String(100), primary_key=True),
    Column("unanswered", BigInteger, nullable=False, default=0),
    Column("missing", BigInteger, nullable=False, default=0),
)

# Each rejection and recycle (lead.rejected, lead.recycled), for the recycle report.
handbacks = Table(
    "handbacks",
    metadata,
    _id(),
    Column("person_id", Id, ForeignKey("people.id"), nullable=False, index=True),
    Column("at", Epoch, nullable=False),
    Column("kind", String(10), nullable=False),  # rejected | recycled
    Column("reason", String(100)),
    Column("rep_id", Id),
)

# The events logged but not yet folded into the reports' rows above: no row, or one,
# present while ``leadflow serve`` folds its captures' events behind them on SQLite
# (``funnel_store``: readers and other writers fold the backlog first). ``after``: every
# event with a greater id is not folded yet, every other one is.
fold_backlog = Table(
    "fold_backlog",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("after", Id, nullable=False),
)
