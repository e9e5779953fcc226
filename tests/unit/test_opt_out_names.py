"""The names an opt-out arrives under: Web-to-Lead's boxes, Salesforce's API names and
report labels, HubSpot's property, leadflow's own; read as a yes or not, and mapped onto
the contact policy's fields when the playbook has them."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import pytest

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.bootstrap import bundled_playbook
from leadflow.errors import InvalidInput
from leadflow.services.capture import split_fields
from leadflow.services.forms import DEFAULT_HONEYPOT, Form, translate, unread_targets
from leadflow.services.handoff import contact_notes
from leadflow.services.imports import check_targets, column_names
from leadflow.services.opt_outs import opted_out_in

B2B = bundled_playbook("b2b-saas")  # its contact policy names do_not_email, do_not_call
BANT = bundled_playbook("bant")  # no consent field
BTD = resources.files("leadflow.playbooks").joinpath("btd.yaml").read_text(encoding="utf-8")
FORM = Form("k", "Contact", "web", None, {}, DEFAULT_HONEYPOT, True, datetime.now(UTC))


@pytest.mark.parametrize(
    ("name", "channel"),
    [
        ("emailOptOut", "email"),
        ("HasOptedOutOfEmail", "email"),
        ("Email Opt Out", "email"),
        ("Unsubscribed from all email", "email"),
        ("hs_email_optout", "email"),
        ("do_not_email", "email"),
        ("doNotCall", "call"),
        ("DoNotCall", "call"),
        ("Do Not Call", "call"),
        ("do_not_contact", "any"),
    ],
)
def test_each_usual_name_opts_out_under_any_playbook(name: str, channel: str) -> None:
    for pb in (B2B, BANT):
        assert opted_out_in(pb, {"email": "a@b.com", name: "1"}) == (channel,)


@pytest.mark.parametrize("yes", ["1", "true", "TRUE", " Yes ", "y", "on", "x", True, 1])
def test_a_yes_opts_out(yes: object) -> None:
    assert opted_out_in(BANT, {"emailOptOut": yes}) == ("email",)


@pytest.mark.parametrize("no", ["0", "false", "no", "off", "", " ", None, False, 0, "maybe"])
def test_anything_but_a_yes_does_not(no: object) -> None:
    assert opted_out_in(BANT, {"emailOptOut": no, "DoNotCall": no}) == ()


def test_the_usual_names_fill_the_contact_policys_fields_when_the_playbook_has_them() -> None:
    fields = {"Email": "a@b.com", "HasOptedOutOfEmail": "true", "Do Not Call": "1"}
    assert split_fields(B2B, fields)[1] == {"do_not_email": "true", "do_not_call": "1"}
    assert split_fields(BANT, fields) == ({"email": "a@b.com"}, {})


def test_a_policy_field_of_another_name_takes_them_and_its_own_columns_opt_out() -> None:
    text = (
        "fields:\n"
        "  no_marketing: {type: boolean, label: No marketing, columns: [Marketing Opt Out]}\n"
    )
    yaml = BTD.replace("fields:\n", text, 1) + "contact_policy:\n  do_not_email: no_marketing\n"
    pb = parse_playbook(yaml, "btd-no-marketing.yaml")
    assert split_fields(pb, {"emailOptOut": "1"})[1] == {"no_marketing": "1"}
    assert opted_out_in(pb, {"Marketing Opt Out": "yes"}) == ("email",)
    assert opted_out_in(pb, {"no_marketing": "yes"}) == ("email",)


def test_web_to_lead_boxes_become_leadflows_names() -> None:
    posted = [("email", "a@b.com"), ("emailOptOut", "1"), ("doNotCall", "1"), ("oid", "00D")]
    assert translate(FORM, posted) == {"email": "a@b.com", "do_not_email": "1", "do_not_call": "1"}


def test_the_presets_map_salesforces_and_hubspots_columns() -> None:
    sf = ["HasOptedOutOfEmail", "DoNotCall", "Email Opt Out", "Do Not Call"]
    assert column_names(sf, "salesforce", {}) == ["do_not_email", "do_not_call"] * 2
    hubspot = ["Unsubscribed from all email", "Marketing contact status"]
    assert column_names(hubspot, "hubspot", {}) == ["do_not_email", "Marketing contact status"]


def test_a_map_may_name_an_opt_out_whatever_the_playbook() -> None:
    check_targets(BANT, {"Opt out": "do_not_email", "No calls": "DoNotCall"})
    with pytest.raises(InvalidInput, match="opt-outs: do_not_email, do_not_call, do_not_contact"):
        check_targets(BANT, {"Opt out": "do_not_mail"})
    assert unread_targets(BANT, {"00N1": "do_not_call"}) == []


def test_contact_notes_say_what_the_consent_says() -> None:
    assert contact_notes(B2B, {"do_not_call": "yes"}, ()) == ("Do not call",)
    assert contact_notes(BANT, {}, {"email"}) == ("Do not email",)
    assert contact_notes(BANT, {}, {"any", "email"}) == ("Do not contact",)
    # A fact no playbook field holds is no consent: the opt-out is in ``opted`` instead.
    assert contact_notes(BANT, {"hasoptedoutofemail": "true"}, ()) == ()
