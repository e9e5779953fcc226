"""One error tree for leadflow.

::

    LeadflowError                 anything leadflow refuses, with a message a person can act on
    ├── InvalidInput              bad input: a file, a value, an option; ``where`` says where
    │   └── PlaybookError         a playbook that cannot be loaded; one line per problem
    ├── NotFound                  something named does not exist
    ├── Conflict                  the request clashes with what is already there
    └── Forbidden                 the signed-in user's role does not allow this

Interfaces catch ``LeadflowError`` once: the CLI prints it and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class LeadflowError(Exception):
    """Base of every error leadflow raises on purpose; ``where`` names the field, header
    or option it is about, when it is about one (the API's error shape gives it)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return self.message


class InvalidInput(LeadflowError):
    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class NotFound(LeadflowError):
    pass


class Conflict(LeadflowError):
    pass


class Forbidden(LeadflowError):
    """A user of the web pages asked for a lead or an action its role does not allow."""


@dataclass(frozen=True)
class PlaybookProblem:
    """One problem in a playbook file: where (file, line, field) and what."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{place}: {self.field}: {self.message}" if self.field else f"{place}: {self.message}"
        )


class PlaybookError(InvalidInput):
    def __init__(self, problems: Sequence[PlaybookProblem]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__("\n".join(str(p) for p in self.problems), where=None)
        self.file = first.file

    def __str__(self) -> str:
        return self.message
