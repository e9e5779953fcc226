"""Settings: an invalid value is an error naming its variable, not a traceback."""

from __future__ import annotations

import pytest

from leadflow.config import Settings
from leadflow.errors import InvalidInput


def test_the_region_is_checked_when_the_settings_are_read() -> None:
    assert Settings(default_region="de").default_region == "DE"
    with pytest.raises(InvalidInput, match=r"unknown phone region 'XX'") as refused:
        Settings(default_region="XX")
    assert refused.value.where == "LEADFLOW_DEFAULT_REGION"


def test_an_invalid_setting_names_its_variable_and_value() -> None:
    with pytest.raises(InvalidInput) as refused:
        Settings(match_name_threshold=10)
    assert refused.value.where == "LEADFLOW_MATCH_NAME_THRESHOLD"
    assert str(refused.value).endswith("greater than or equal to 50, got 10")


def test_several_invalid_settings_are_named_together() -> None:
    with pytest.raises(InvalidInput) as refused:
        Settings(default_region="XX", smtp_port=0)
    assert refused.value.where is None
    assert "LEADFLOW_DEFAULT_REGION: unknown phone region" in str(refused.value)
    assert "; LEADFLOW_SMTP_PORT: " in str(refused.value)


def test_a_secret_is_never_repeated_in_the_error() -> None:
    with pytest.raises(InvalidInput) as refused:
        Settings(smtp_password=["hunter2"])
    assert refused.value.where == "LEADFLOW_SMTP_PASSWORD"
    assert "hunter2" not in str(refused.value)
