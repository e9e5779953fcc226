"""Nurture tracks, compiled: who enters which track, and its steps.

::

    nurture:
      tracks:
        - name: not_yet
          label: Not ready yet
          when: grade in (c, d)            # the playbook's language over the rating
          steps:
            - email: welcome               # an email of emails: below
            - email: case_study
              after: 3d
              unless_engaged: true         # skipped when they engaged since the last step
            - call: qualify budget and timing
              after: 7d
        - name: bad_timing
          reasons: [bad_timing, no_budget] # leads sales handed back for these reasons
          steps: [...]
      emails:
        welcome:
          subject: "Welcome, {{ first_name or 'there' }}"
          body: |
            ...{{ unsubscribe_url }}

A lead enters a track when it arrives in one of the track's stages (by default every
stage of type nurture or recycled): a lead handed back with a reason enters the first
track that lists the reason; any other lead the first track whose ``when`` holds (a track
without ``when`` and without ``reasons`` takes any lead). It leaves when it is promoted
(leaves the track's stages), unsubscribes from everything, is disqualified, or finishes
the steps. Email bodies are Jinja2 templates, rendered in a sandbox.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from jinja2 import Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from leadflow.domain import expr
from leadflow.domain.policy import delay
from leadflow.domain.schema import NurtureSpec, StepSpec
from leadflow.domain.stages import StageModel

Where = tuple[str | int, ...]
Report = Callable[[Where, str], None]

KINDS = ("email", "call", "mail", "event", "webhook")
CHANNELS = {
    "email": "email",
    "event": "email",
    "call": "call",
    "mail": "mail",
    "webhook": "webhook",
}
"""The channel each kind of step reaches the person by (what caps and consent look at)."""

TEMPLATES = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class Step:
    kind: str  # email | call | mail | event | webhook
    target: str  # the email's key, the task's purpose, the webhook's name
    after: timedelta
    unless_engaged: bool

    @property
    def channel(self) -> str:
        return CHANNELS[self.kind]

    def words(self) -> str:
        return {
            "email": f"email '{self.target}'",
            "event": f"event invitation '{self.target}'",
            "call": f"call: {self.target}",
            "mail": f"mail: {self.target}",
            "webhook": f"webhook nurture.step '{self.target}'",
        }[self.kind]


@dataclass(frozen=True)
class Track:
    name: str
    label: str
    description: str | None
    source: str | None
    test: expr.Evaluator | None
    stages: frozenset[str]
    reasons: frozenset[str]
    steps: tuple[Step, ...]

    def takes(self, stage: str, reason: str | None, env: expr.Env) -> bool:
        if stage not in self.stages:
            return False
        if self.reasons:
            return reason in self.reasons
        return self.test is None or self.test(env) is True


@dataclass(frozen=True)
class Email:
    key: str
    subject: str
    body: str


@dataclass(frozen=True)
class Nurture:
    tracks: tuple[Track, ...]
    emails: Mapping[str, Email]

    def track(self, name: str) -> Track | None:
        return next((t for t in self.tracks if t.name == name), None)

    def track_for(self, stage: str, reason: str | None, env: expr.Env) -> Track | None:
        """The track a lead arriving in ``stage`` enters: by its hand-back reason first."""
        if reason is not None:
            by_reason = next(
                (t for t in self.tracks if t.reasons and t.takes(stage, reason, env)), None
            )
            if by_reason is not None:
                return by_reason
        return next((t for t in self.tracks if not t.reasons and t.takes(stage, reason, env)), None)

    @property
    def stages(self) -> frozenset[str]:
        return frozenset().union(*(t.stages for t in self.tracks)) if self.tracks else frozenset()


def compile_nurture(
    spec: NurtureSpec,
    scope: expr.Scope,
    model: StageModel,
    reasons: Collection[str],
    problem: Report,
) -> Nurture:
    emails = {}
    for key, email in spec.emails.items():
        for part in ("subject", "body"):
            try:
                TEMPLATES.parse(getattr(email, part))
            except TemplateSyntaxError as error:
                problem(
                    ("nurture", "emails", key, part),
                    f"template error on line {error.lineno}: {error.message}",
                )
        emails[key] = Email(key, email.subject, email.body)
    default_stages = frozenset(s.name for s in model.stages if s.type in ("nurture", "recycled"))
    names = {s.name for s in model.stages}
    tracks = []
    seen: set[str] = set()
    for i, t in enumerate(spec.tracks):
        where: Where = ("nurture", "tracks", i)
        if t.name in seen:
            problem((*where, "name"), f"track '{t.name}' is listed twice")
        seen.add(t.name)
        test = None
        if t.when is not None:
            try:
                test = expr.evaluator(expr.compile_condition(t.when, scope))
            except expr.ExprError as error:
                problem((*where, "when"), f"{error} in condition: {t.when}")
        for k, stage in enumerate(t.stages):
            if stage not in names:
                problem((*where, "stages", k), f"'{stage}' is not a stage")
        for k, reason in enumerate(t.reasons):
            if reason not in reasons:
                problem((*where, "reasons", k), f"'{reason}' is not a reason of handoff.reasons")
        steps = [
            _step(step, emails, (*where, "steps", k), problem) for k, step in enumerate(t.steps)
        ]
        tracks.append(
            Track(
                name=t.name,
                label=t.label or t.name.replace("_", " ").capitalize(),
                description=t.description,
                source=t.when,
                test=test,
                stages=frozenset(t.stages) or default_stages,
                reasons=frozenset(t.reasons),
                steps=tuple(s for s in steps if s is not None),
            )
        )
    return Nurture(tuple(tracks), emails)


def _step(
    spec: StepSpec, emails: Mapping[str, Email], where: Where, problem: Report
) -> Step | None:
    given = [(kind, getattr(spec, kind)) for kind in KINDS if getattr(spec, kind) is not None]
    if len(given) != 1:
        problem(where, f"a step does one thing: give exactly one of {', '.join(KINDS)}")
        return None
    kind, target = given[0]
    if kind in ("email", "event") and target not in emails:
        problem((*where, kind), f"no email '{target}' in nurture.emails")
    return Step(kind, str(target), delay(spec.after), spec.unless_engaged)


def render(email: Email, context: Mapping[str, object]) -> tuple[str, str]:
    """The email's subject and body for one person (a sandboxed Jinja2 template)."""
    subject = template(email.subject).render(**context)
    body = template(email.body).render(**context)
    return " ".join(subject.split()), body


@lru_cache(maxsize=1024)
def template(source: str) -> Template:
    """The compiled template of ``source``: compiled once, rendered for every person (a
    compiled template is safe to render from many threads)."""
    return TEMPLATES.from_string(source)


LINK = re.compile(r"https?://[^\s<>\"')]*[^\s<>\"').,;:!?]")
"""A link in an email's text; a full stop or comma after it ends the sentence, not the link."""


def html_body(text: str, pixel: str) -> str:
    """The email's text as simple HTML: paragraphs, its links as anchors (the tracked ones
    already), and the open pixel at the end. Everything else is escaped."""
    paragraphs = [p for p in re.split(r"\n(?:[ \t]*\n)+", text.strip()) if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(_anchored(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    image = f'<img src="{html.escape(pixel)}" width="1" height="1" alt="">'
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"></head>\n'
        f"<body>\n{body}\n{image}\n</body></html>\n"
    )


def _anchored(line: str) -> str:
    out, start = [], 0
    for match in LINK.finditer(line):
        url = html.escape(match.group(0))
        out.append(html.escape(line[start : match.start()]))
        out.append(f'<a href="{url}">{url}</a>')
        start = match.end()
    out.append(html.escape(line[start:]))
    return "".join(out)


def steps_words(steps: Sequence[Step]) -> list[str]:
    return [s.words() for s in steps]
