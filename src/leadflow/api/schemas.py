"""Request and response bodies, one family per resource.

Capture bodies are read from the raw text (so an unreadable one can be kept in
the quarantine exactly as received) and validated here; ``where`` in an error
names the item and field, e.g. ``inquiries[3].email``.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
)

from leadflow.api.errors import from_validation
from leadflow.domain.values import STRIP_CHARS
from leadflow.errors import InvalidInput

MAX_BATCH = 1_000
M = TypeVar("M", bound=BaseModel)


def _scalar(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("a field must be text, a number, true/false or null")


Scalar = Annotated[
    Any, PlainValidator(_scalar, json_schema_input_type=str | int | float | bool | None)
]


def named_source(value: object, default: str | None) -> object:
    """A source without the spaces around it; ``default`` for null. One of spaces alone
    names nothing: refused, rather than stored as sent."""
    if value is None:
        return default
    if isinstance(value, str):
        value = value.strip(STRIP_CHARS)
        if not value:
            said = f"leave it out for '{default}'" if default else "leave it out"
            raise ValueError(f"is blank: name where it came from, or {said}")
    return value


# ------------------------------------------------------------------ inquiries


class InquiryCreate(BaseModel):
    """One inquiry: any fields (text, numbers, true/false or null) plus where it came from."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Scalar] = Field(init=False)

    source: str = Field("api", min_length=1, max_length=200)
    campaign: str | None = Field(None, max_length=200)
    # Named for the API's description; checked as every field is (a number where an
    # address belongs is an address that cannot be read, as under any other spelling).
    email: Scalar = None
    phone: Scalar = None

    @field_validator("source", mode="before")
    @classmethod
    def _source_given_or_api(cls, value: object) -> object:
        return named_source(value, "api")  # null, as for campaign: not given


class InquiriesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inquiries: list[InquiryCreate] = Field(min_length=1, max_length=MAX_BATCH)


ENVELOPE = ("source", "campaign")  # describe the inquiry; not among its fields


class InquiryPublic(BaseModel):
    status: Literal["captured", "repeated", "quarantined"]
    inquiry_id: int | None
    person_id: int | None
    grade: str | None
    route: str | None
    quarantine_id: int | None = None
    error: str | None = None


class InquiriesPublic(BaseModel):
    data: list[InquiryPublic]
    count: int


# ------------------------------------------------------------------ activities


class ActivityCreate(BaseModel):
    """What a person did; who by ``person_id``, ``email``, ``phone`` or ``external_id``."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=60)
    at: datetime | None = None
    person_id: int | None = Field(None, ge=1, le=2**63 - 1)
    email: str | None = None
    phone: str | int | None = None
    external_id: str | None = Field(None, description="A source's own id, as 'source:id'.")
    source: str | None = Field(None, max_length=200)
    details: dict[str, Any] | None = None

    @field_validator("type", "email", "phone", "external_id", "source")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains a NUL character, which no text in the database may")
        return value

    @field_validator("source", mode="before")
    @classmethod
    def _source_named(cls, value: object) -> object:
        return named_source(value, None)


class ActivitiesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activities: list[ActivityCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ActivityPublic(BaseModel):
    activity_id: int
    person_id: int
    grade: str
    route: str
    engagement: float
    scored: bool = Field(
        description="Whether the active playbook gives this type of activity points; one it"
        " does not is kept, and earns nothing"
    )


class ActivitiesPublic(BaseModel):
    data: list[ActivityPublic]
    count: int


# ------------------------------------------------------------------ forms


class FormCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    source: str | None = Field(None, max_length=200)
    thank_you_url: str | None = Field(None, max_length=2000)
    field_map: dict[str, str] = Field(
        default_factory=dict, description="Posted name to field, e.g. {'00N5e00000abcde': 'budget'}"
    )
    honeypot: str = Field("website_url", min_length=1, max_length=100)


class FormPublic(BaseModel):
    key: str
    name: str
    source: str
    thank_you_url: str | None
    field_map: dict[str, str]
    honeypot: str
    active: bool
    created_at: datetime
    action: str = Field(description="The address to post the form to.")


class FormsPublic(BaseModel):
    data: list[FormPublic]
    count: int


class FormReceivedPublic(BaseModel):
    """The same for every accepted post (captured, quarantined or caught by the honeypot)."""

    status: Literal["received"] = "received"
    redirect: str | None


# ------------------------------------------------------------------ reps

HOURS_HELP = "A time zone and weekly hours, e.g. 'Europe/Berlin Mon-Fri 09:00-17:00'."


class RepCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    email: str
    team: str | None = None
    capacity: int | None = Field(None, description="Open leads it can hold; null: no limit.")
    territories: list[str] = Field(default_factory=list)
    working_hours: str | None = Field(None, description=HOURS_HELP)
    away_from: date | None = Field(None, description="First day out of office.")
    away_until: date | None = Field(None, description="Last day out of office.")


class RepUpdate(BaseModel):
    """The fields to change; a field left out stays, null clears an optional one."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    email: str | None = None
    team: str | None = None
    capacity: int | None = None
    territories: list[str] | None = None
    working_hours: str | None = Field(None, description=HOURS_HELP)
    away_from: date | None = None
    away_until: date | None = None
    active: bool | None = None


class RepPublic(BaseModel):
    id: int
    name: str
    email: str
    team: str | None
    capacity: int | None
    territories: list[str]
    working_hours: str | None
    away_from: date | None
    away_until: date | None
    active: bool
    created_at: datetime
    updated_at: datetime


class RepsPublic(BaseModel):
    data: list[RepPublic]
    count: int


class Health(BaseModel):
    status: Literal["ok"] = "ok"


# ------------------------------------------------------------------ reading bodies


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words: an array, a string, a number, true..."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return "an object"


MAX_DEPTH = 32
"""The most arrays and objects a body may nest (an inquiry is an object of values, a
batch one level more): deeper is refused before anything walks it."""


_TOO_DEEP = f"the body nests arrays or objects more than {MAX_DEPTH} levels deep"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: no JSON a database keeps can say it again
        raise ValueError(f"the number {text} is out of range")
    return value


def _depth(value: object) -> int:
    """How deeply arrays and objects nest in ``value`` (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_object(raw: bytes) -> tuple[str, dict[str, Any]]:
    """The body as text and as a JSON object; InvalidInput says what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the body is not UTF-8 text ({error.reason})", where="body") from None
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except ValueError as error:
        raise InvalidInput(f"the body is not valid JSON: {error}", where="body") from None
    except RecursionError:
        raise InvalidInput(_TOO_DEEP, where="body") from None
    if _depth(value) > MAX_DEPTH:
        raise InvalidInput(_TOO_DEEP, where="body")
    if not isinstance(value, dict):
        raise InvalidInput(f"the body must be a JSON object, not {json_kind(value)}", where="body")
    return text, value


def validated(model: type[M], data: object, *prefix: int | str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise from_validation(error, prefix) from None


def request_body(item: type[BaseModel], plural: str) -> dict[str, Any]:
    """OpenAPI for a body read by hand: one object, or ``{plural: [...]}`` of up to 1,000."""
    one = item.model_json_schema()
    many = {
        "type": "object",
        "title": f"{item.__name__} batch",
        "properties": {
            plural: {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_BATCH}
        },
        "required": [plural],
        "additionalProperties": False,
    }
    schema = {"anyOf": [one, many]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
