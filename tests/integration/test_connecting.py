"""A database leadflow cannot connect to is an error naming the setting, with the server's
own words and without the password; an error after the connection is made is not."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import DBAPIError

from leadflow.adapters.store.engine import check_connection, make_engine
from leadflow.errors import InvalidInput


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"password": "wr0ng-pw"}, 'password authentication failed for user "leadflow"'),
        ({"database": "leadflow_nowhere"}, 'database "leadflow_nowhere" does not exist'),
    ],
    ids=["a wrong password", "an unknown database"],
)
def test_a_postgresql_server_that_refuses_is_one_error_naming_the_setting(
    postgres_url: str, change: dict[str, str], says: str
) -> None:
    url = make_url(postgres_url).set(**change)
    engine = make_engine(url.render_as_string(hide_password=False))
    with pytest.raises(InvalidInput) as refused:
        check_connection(engine)
    engine.dispose()
    said = str(refused.value)
    shown = url.render_as_string(hide_password=True)
    assert said.startswith(f"LEADFLOW_DATABASE_URL: cannot connect to '{shown}': "), said
    assert says in said and "\n" not in said
    assert "wr0ng-pw" not in said


def test_an_error_after_connecting_is_not_taken_for_one_in_the_setting(engine: Engine) -> None:
    check_connection(engine)
    with pytest.raises(DBAPIError), engine.connect() as connection:
        connection.execute(text("SELECT * FROM no_such_table"))


def test_a_server_that_never_answers_is_given_up_after_the_connect_timeout(
    silent_port: int,
) -> None:
    url = f"postgresql+psycopg://leadflow:s3cret@127.0.0.1:{silent_port}/leadflow"
    engine = make_engine(url, connect_timeout=2, connect_args={"application_name": "t"})
    began = time.monotonic()
    with pytest.raises(InvalidInput) as refused:
        check_connection(engine, 2)
    took = time.monotonic() - began
    engine.dispose()
    assert 1.5 < took < 10, took  # psycopg's default would wait 130 seconds
    shown = f"postgresql+psycopg://leadflow:***@127.0.0.1:{silent_port}/leadflow"
    assert str(refused.value) == (
        f"LEADFLOW_DATABASE_URL: cannot connect to '{shown}': no answer within 2 seconds"
        " (LEADFLOW_DATABASE_CONNECT_TIMEOUT): connection timeout expired"
    )


def test_a_connect_timeout_in_the_url_wins_over_the_setting(silent_port: int) -> None:
    url = f"postgresql+psycopg://leadflow@127.0.0.1:{silent_port}/leadflow?connect_timeout=3"
    engine = make_engine(url, connect_timeout=120)
    began = time.monotonic()
    with pytest.raises(InvalidInput) as refused:
        check_connection(engine, 120)
    took = time.monotonic() - began
    engine.dispose()
    assert 2.5 < took < 12, took
    assert str(refused.value).endswith(
        "?connect_timeout=3': no answer within 3 seconds (connect_timeout in the URL):"
        " connection timeout expired"
    ), refused.value
