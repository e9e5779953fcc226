"""The playbook as written: the shape of the YAML file, validated by pydantic.

Every model forbids keys it does not know, so a misspelt key is an error
that names its place instead of a setting silently ignored. Compiling this
into the executable :class:`leadflow.domain.playbook.Playbook` happens in
``playbook.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadflow.domain.values import FieldType

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=NAME_PATTERN)]
Points = Annotated[float, Field(ge=-1_000_000, le=1_000_000)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Spec):
    type: FieldType
    label: str | None = None
    description: str | None = None
    question: str | None = Field(None, description="The wording to ask on a form or a call.")
    ask: Literal["form", "call", "form_or_call"] | None = None
    choices: dict[str, str | None] | list[str] | None = None
    synonyms: dict[str, str] = {}
    unlisted: str | None = Field(
        None, description="The choice an answer that matches no choice or synonym counts as."
    )
    min: float | None = None
    max: float | None = None
    lowercase: bool = False
    columns: list[str] = Field(
        [], description="Other column names that carry this fact in a file, e.g. 'Budget Status'."
    )

    @field_validator("choices", mode="before")
    @classmethod
    def _choices_are_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    @field_validator("synonyms", mode="before")
    @classmethod
    def _synonyms_are_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value


class CriterionSpec(_Spec):
    label: str
    when: str
    points: Points = 0
    description: str | None = None
    segments: list[Identifier] | None = Field(
        None, description="Apply only to leads in these segments; all leads when absent."
    )


class ActivitySpec(_Spec):
    points: Annotated[float, Field(ge=0, le=1_000_000)]
    label: str | None = None
    max_per_period: Annotated[int, Field(ge=1)] | None = None
    max_points: Annotated[float, Field(ge=0)] | None = None


class EngagementSpec(_Spec):
    half_life_days: Annotated[float, Field(gt=0)] | None = None
    period_days: Annotated[int, Field(ge=1, le=366)] = 1
    max_points: Annotated[float, Field(ge=0)] | None = None
    activities: dict[Identifier, ActivitySpec] = {}


class CriteriaSpec(_Spec):
    fit: dict[Identifier, CriterionSpec] = {}
    qualification: dict[Identifier, CriterionSpec] = {}
    engagement: EngagementSpec | None = None


class GradeSpec(_Spec):
    grade: Annotated[str, Field(min_length=1, max_length=20)]
    when: str | None = None
    meaning: str | None = None

    @field_validator("grade", mode="before")
    @classmethod
    def _grade_is_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


class SegmentSpec(_Spec):
    name: Identifier
    label: str | None = None
    description: str | None = None
    when: str
    grades: list[GradeSpec] | None = None


class OverrideSpec(_Spec):
    when: str
    to: Literal["sales", "nurture"]
    reason: str


class RouteSpec(_Spec):
    sales: list[str] = []
    nurture: list[str] = []
    overrides: list[OverrideSpec] = []

    @field_validator("sales", "nurture", mode="before")
    @classmethod
    def _grades_are_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) for v in value]
        return value


StageType = Literal[
    "inquiry",
    "nurture",
    "marketing-qualified",
    "sales-accepted",
    "sales-qualified",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "disqualified",
]


class StageSpec(_Spec):
    name: Identifier
    label: str | None = None
    type: StageType
    owner: Literal["marketing", "sales"] | None = Field(
        None, description="The side that works leads in this stage; by default the type's side."
    )
    definition: Annotated[str, Field(min_length=1)] = Field(
        description="The written meaning of the stage, as people sign it."
    )
    on: list[Identifier] = Field(
        [], description="Events that move a lead into this stage (one of them must happen)."
    )
    when: str | None = Field(
        None, description="A condition on the lead's rating that must hold to enter this stage."
    )
    next: list[Identifier] = Field([], description="The stages a lead may move to from here.")


Duration = Annotated[str, Field(pattern=r"^\s*\d+(\.\d+)?\s*(m|min|h)\s*$")]
"""Working time: ``30m`` or ``4h`` (hours of the working day, not of the clock)."""

EscalationAction = Literal["notify_manager", "reassign", "return_to_pool"]


class TeamSpec(_Spec):
    name: Identifier
    label: str | None = None
    when: str | None = Field(
        None, description="Which leads the team takes (fields, grade, segment); the rest if absent."
    )
    method: Literal["round_robin", "least_loaded", "random"] = "round_robin"
    manager: str | None = Field(None, description="Who is told when the team misses an SLA.")


class RoutingSpec(_Spec):
    teams: list[TeamSpec] = []
    account_owner: bool = Field(
        True, description="A company whose leads a rep already owns keeps that rep."
    )
    territory_field: Identifier | None = Field(
        None, description="The field a rep's territories are matched against, e.g. country."
    )
    outside_hours: Literal["assign", "prefer_working"] = Field(
        "prefer_working",
        description="Prefer reps at work now (prefer_working), or ignore the hours (assign).",
    )


class SlaSpec(_Spec):
    accept: Duration | None = None
    first_contact: Duration | None = None


class SlasSpec(_Spec):
    working_hours: str = Field(
        "UTC Mon-Fri 09:00-17:00",
        description="The hours SLAs count in when the owner has no working hours of its own.",
    )
    grades: dict[str, SlaSpec] = {}
    escalation: dict[Literal["accept", "first_contact"], list[EscalationAction]] = {}

    @field_validator("grades", mode="before")
    @classmethod
    def _grades_are_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value


class HandoffSpec(_Spec):
    reasons: dict[Identifier, str] | None = Field(
        None, description="Why sales rejects, recycles or disqualifies a lead: key and label."
    )
    recontact_after_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        90, description="When a rejected lead is looked at again, if the rep gives no date."
    )


Delay = Annotated[str, Field(pattern=r"^\s*\d+(\.\d+)?\s*(m|min|h|d|w)\s*$")]
"""Clock time: ``30m``, ``12h``, ``3d``, ``2w``."""
Channel = Literal["email", "call", "mail", "event", "webhook"]


class StepSpec(_Spec):
    email: Identifier | None = Field(None, description="Send this email (a key of emails:).")
    call: str | None = Field(None, description="A call task for marketing, with its purpose.")
    mail: str | None = Field(None, description="A mail task (a letter, a parcel), with what.")
    event: Identifier | None = Field(
        None, description="Invite to an event: an email of emails: that carries the invitation."
    )
    webhook: Identifier | None = Field(
        None, description="Post nurture.step with this name to the webhooks subscribed."
    )
    after: Delay = Field("0d", description="How long after the previous step (or entering).")
    unless_engaged: bool = Field(
        False, description="Skip the step when the prospect engaged since the previous one."
    )


class TrackSpec(_Spec):
    name: Identifier
    label: str | None = None
    description: str | None = None
    when: str | None = Field(None, description="Which prospects enter (grade, segment, fields).")
    stages: list[Identifier] = Field(
        [], description="The stages it takes leads from; by default the nurture and recycled ones."
    )
    reasons: list[Identifier] = Field(
        [], description="Hand-back reasons whose leads enter this track (recycled leads)."
    )
    steps: list[StepSpec] = Field(min_length=1)


class EmailSpec(_Spec):
    subject: Annotated[str, Field(min_length=1)]
    body: Annotated[str, Field(min_length=1)]


class NurtureSpec(_Spec):
    tracks: list[TrackSpec] = []
    emails: dict[Identifier, EmailSpec] = {}


class CapSpec(_Spec):
    channel: Literal["email", "call", "mail", "any"]
    side: Literal["marketing", "sales", "any"] = "any"
    stage: Identifier | None = None
    max: Annotated[int, Field(ge=1, le=1000)]
    per: Delay


class QuietHoursSpec(_Spec):
    start: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] = "20:00"
    end: Annotated[str, Field(pattern=r"^\d{2}:\d{2}$")] = "08:00"
    timezone_field: Identifier | None = Field(
        None, description="The field holding the lead's IANA time zone, e.g. Europe/Berlin."
    )
    default_timezone: str = "UTC"


class ContactPolicySpec(_Spec):
    email_opt_in: Identifier | None = Field(
        None, description="A yes/no field that must be yes before any marketing email."
    )
    do_not_email: Identifier | None = None
    do_not_call: Identifier | None = None
    do_not_contact: Identifier | None = None
    contact_me_now: Identifier | None = Field(
        None, description="A yes/no field: the person asked to be contacted now."
    )
    caps: list[CapSpec] = []
    quiet_hours: QuietHoursSpec | None = None


class ExampleActivity(_Spec):
    type: str
    days_ago: Annotated[float, Field(ge=0)] = 0


class Expectation(_Spec):
    grade: str | None = None
    route: Literal["sales", "nurture"] | None = None
    segment: str | None = None
    score: float | None = None


class ExampleSpec(_Spec):
    name: str
    facts: dict[str, Any] = {}
    activities: list[ExampleActivity] = []
    expect: Expectation


class SignOff(_Spec):
    name: str
    role: str | None = None
    date: str | None = None


class ModelRefSpec(_Spec):
    file: str = Field(description="A model file from 'leadflow model train', relative to here.")
    field: Identifier = Field(
        "predicted_conversion", description="The number field the prediction fills."
    )
    version: str | None = Field(None, description="Refuse a model file of another version.")


class PlaybookSpec(_Spec):
    name: str
    description: str | None = None
    agreed_by: list[SignOff] = []
    fields: dict[Identifier, FieldSpec]
    criteria: CriteriaSpec = CriteriaSpec()
    segments: list[SegmentSpec] = []
    grades: list[GradeSpec]
    route: RouteSpec
    stages: list[StageSpec] | None = None
    routing: RoutingSpec = RoutingSpec()
    slas: SlasSpec = SlasSpec()
    handoff: HandoffSpec = HandoffSpec()
    nurture: NurtureSpec = NurtureSpec()
    contact_policy: ContactPolicySpec = ContactPolicySpec()
    examples: list[ExampleSpec] = []
    model: ModelRefSpec | None = None
