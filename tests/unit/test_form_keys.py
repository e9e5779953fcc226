"""A form's key is typed after ``leadflow forms deactivate`` and ``activate``: one that
began with '-' was read as an option (``No such option: -A``), one key in 64."""

from __future__ import annotations

import re

from leadflow.services.forms import new_form_key


def test_a_form_key_never_begins_with_a_hyphen() -> None:
    keys = [new_form_key() for _ in range(2_000)]  # 31 of them would, drawn as before
    assert not [key for key in keys if key.startswith("-")]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", key) for key in keys)
    assert len(set(keys)) == len(keys)
