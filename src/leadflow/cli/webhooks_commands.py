"""Commands for outgoing webhooks: add, list, remove, deliveries, deliver.

``webhooks add`` prints the signing secret alone on standard output, so
``SECRET=$(leadflow webhooks add URL --events lead.routed)`` works; it cannot be shown
again. Messages go to stderr. ``webhooks deliver`` sends what is due once (webhooks, and
emails when an SMTP server is configured) and says what it did: what ``leadflow serve``
does every ``LEADFLOW_DISPATCH_INTERVAL`` seconds.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from leadflow.cli.api_commands import _settings, _uow
from leadflow.cli.main import app, err
from leadflow.cli.store_commands import FormatOption, _emit

if TYPE_CHECKING:
    from leadflow.services.outbox import Report
    from leadflow.services.webhooks import Webhook

webhooks_app = typer.Typer(
    help="Outgoing webhooks: add, list, remove, the delivery log, deliver now.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")

WebhookId = Annotated[int, typer.Argument(metavar="ID", help="The webhook's id (see list).")]


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="Where to POST the events (http or https).")],
    events: Annotated[
        str,
        typer.Option(help="Events, comma-separated: lead.routed,lead.accepted,sla.breached,..."),
    ],
    rep: Annotated[
        str | None,
        typer.Option(metavar="ID|EMAIL", help="Only this rep's events (id or email address)."),
    ] = None,
) -> None:
    """Add a webhook and print its signing secret; it is shown only this once."""
    from leadflow.services.webhooks import add_webhook

    with _uow() as uow:
        hook, secret = add_webhook(uow, url, events, datetime.now(UTC), rep)
    sys.stdout.write(secret + "\n")
    scope = f" for rep {hook.rep_id}'s leads" if hook.rep_id is not None else ""
    err.print(
        f"Added webhook {hook.id}: {escape(hook.url)} gets {', '.join(hook.events)}{scope}. "
        "The secret above signs every delivery (X-Leadflow-Signature); store it now: "
        "it cannot be shown again."
    )


@webhooks_app.command("list")
def webhooks_list(
    all_: Annotated[bool, typer.Option("--all", help="Include removed webhooks.")] = False,
    fmt: FormatOption = "table",
) -> None:
    """List webhooks: url, events, rep, active (never the secrets)."""
    from leadflow.services.webhooks import list_webhooks

    with _uow() as uow:
        hooks = list_webhooks(uow, include_inactive=all_)
    columns = ["id", "url", "events", "rep", "active", "created"]
    _emit(columns, [_row(hook, fmt) for hook in hooks], fmt)
    if not hooks and fmt == "table":
        err.print("There are no webhooks; add one with [bold]leadflow webhooks add[/].")


def _row(hook: Webhook, fmt: str) -> list[object]:
    events: object = list(hook.events) if fmt == "json" else ",".join(hook.events)
    active: object = hook.active if fmt == "json" else ("yes" if hook.active else "no")
    return [hook.id, hook.url, events, hook.rep_id, active, hook.created_at]


@webhooks_app.command("remove")
def webhooks_remove(webhook_id: WebhookId) -> None:
    """Remove a webhook: it gets no new events, and its pending deliveries are not sent.
    Its delivery log stays."""
    from leadflow.services.webhooks import remove_webhook

    with _uow() as uow:
        hook = remove_webhook(uow, webhook_id)
    err.print(f"Removed webhook {hook.id} ({escape(hook.url)}); its delivery log stays.")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    webhook: Annotated[
        int | None, typer.Option("--webhook", metavar="ID", help="Only this webhook's.")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Only pending, sending, delivered or failed ones.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    fmt: FormatOption = "table",
) -> None:
    """The delivery log, newest first: event, status, attempts, the receiver's answer."""
    from leadflow.services.webhooks import list_deliveries

    with _uow() as uow:
        found = list_deliveries(uow, webhook, status, limit)
    columns = ["id", "webhook", "event", "status", "attempts", "next_attempt", "answer"]
    columns += ["error", "created", "delivered"]
    rows: list[list[object]] = [
        [
            d.id,
            d.webhook_id,
            d.event,
            d.status,
            d.attempts,
            d.next_attempt_at if d.status == "pending" else None,
            d.last_status_code,
            d.last_error,
            d.created_at,
            d.delivered_at,
        ]
        for d in found
    ]
    _emit(columns, rows, fmt)
    if not found and fmt == "table":
        err.print("No deliveries match.")


@webhooks_app.command("deliver")
def webhooks_deliver() -> None:
    """Send the due webhook deliveries (and emails, when an SMTP server is configured)
    once, and say what happened. `leadflow serve` does this all the time."""
    from leadflow.bootstrap import engine_for
    from leadflow.services.dispatch import Dispatcher

    settings = _settings()
    engine = engine_for(settings)
    dispatcher = Dispatcher(engine, settings)
    try:
        report = dispatcher.run_once()
    finally:
        dispatcher.stop()
        engine.dispose()
    err.print(f"Webhooks: {_summary(report.webhooks, 'delivered')}.")
    if report.emails is None:
        err.print("Emails: none sent: no SMTP server is configured (LEADFLOW_SMTP_HOST).")
    else:
        err.print(f"Emails: {_summary(report.emails, 'sent')}.")


def _summary(report: Report, done: str) -> str:
    return f"{report.sent} {done}, {report.retried} to retry later, {report.failed} failed"
