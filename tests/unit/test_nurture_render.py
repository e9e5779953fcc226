"""Nurture emails are rendered from templates compiled once, not once per person."""

from __future__ import annotations

import pytest

from leadflow.domain import nurture
from leadflow.domain.nurture import Email, html_body, render


def test_an_email_is_compiled_once_and_rendered_for_everyone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[str] = []
    original = nurture.TEMPLATES.from_string

    def counting(source: str) -> object:
        compiled.append(source)
        return original(source)

    monkeypatch.setattr(nurture.TEMPLATES, "from_string", counting)
    nurture.template.cache_clear()
    email = Email("welcome", "Hi {{ first_name }}", "Hello {{ first_name }} at {{ company }}")
    got = [render(email, {"first_name": f"Pat{n}", "company": "Acme"}) for n in range(200)]
    assert got[7] == ("Hi Pat7", "Hello Pat7 at Acme")
    assert sorted(compiled) == sorted([email.subject, email.body])


def test_the_sandbox_still_refuses_unsafe_templates() -> None:
    from jinja2.exceptions import SecurityError

    email = Email("bad", "x", "{{ ''.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        render(email, {})


def test_the_html_part_is_the_text_escaped_with_its_links_as_anchors_and_the_pixel() -> None:
    text = (
        "Hello <Bo> & co,\nread https://x.test/t/abc/0.\n\n"
        "  \n--\nUnsubscribe: https://x.test/u/abc\n"
    )
    page = html_body(text, "https://x.test/t/abc/open.gif?a=1&b=2")
    assert (
        "<p>Hello &lt;Bo&gt; &amp; co,<br>\n"
        'read <a href="https://x.test/t/abc/0">https://x.test/t/abc/0</a>.</p>\n'
        '<p>--<br>\nUnsubscribe: <a href="https://x.test/u/abc">https://x.test/u/abc</a></p>\n'
        '<img src="https://x.test/t/abc/open.gif?a=1&amp;b=2" width="1" height="1" alt="">'
    ) in page
    assert page.startswith("<!doctype html>")
