"""A database leadflow cannot connect to is an error naming the setting, with the server's
own words and without the password; an error after the connection is made is not."""

from __future__ import annotations

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
