"""Read a playbook file: YAML in, a compiled :class:`Playbook` out.

Every problem names the file, the line and the field::

    examples/playbooks/broken.yaml:14: grades[1].when: unknown name 'budgt' ...

YAML is read with YAML 1.2 booleans (only ``true``/``false``), so the words
people write in playbooks (``yes``, ``no``, ``on``, ``off``, ``y``, ``n``)
stay words, and dates stay text until a field says they are dates.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from leadflow.domain import schema
from leadflow.domain.playbook import Location, Playbook, PlaybookInvalid, compile_playbook
from leadflow.errors import InvalidInput, PlaybookError, PlaybookProblem


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and numbers, and no implicit timestamps."""


_REPLACED = ("bool", "timestamp", "int", "float")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# Decimal integers only, and no leading zeros: "010" is a code and stays text.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)


def load_playbook(path: str | Path) -> Playbook:
    """Load, validate and compile a playbook file; raises :class:`PlaybookError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput("no such playbook file", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read the playbook: {error}", where=str(path)) from None
    pb = parse_playbook(text, str(path))
    if pb.spec.model is not None:  # a model file is named relative to its playbook
        model = pb.spec.model.model_copy(update={"file": str(path.parent / pb.spec.model.file)})
        pb = dataclasses.replace(pb, spec=pb.spec.model_copy(update={"model": model}))
    return pb


def parse_playbook(text: str, name: str = "<playbook>") -> Playbook:
    data, lines, duplicates = _read_yaml(text, name)
    problems = [PlaybookProblem(name, line, field, message) for line, field, message in duplicates]
    if not isinstance(data, dict):
        problems.append(
            PlaybookProblem(name, 1, "", "a playbook is a mapping of keys (name:, ...)")
        )
        raise PlaybookError(problems)
    try:
        spec = schema.PlaybookSpec.model_validate(data)
    except ValidationError as error:
        problems.extend(_validation_problems(error, lines, name))
        raise PlaybookError(_unique(problems)) from None
    if problems:
        raise PlaybookError(problems)
    try:
        return compile_playbook(spec, data)
    except PlaybookInvalid as error:
        raise PlaybookError(
            [
                PlaybookProblem(name, _line(lines, p.where), _path(p.where), p.message)
                for p in error.problems
            ]
        ) from None


def _read_yaml(text: str, name: str) -> tuple[Any, dict[Location, int], list[tuple[int, str, str]]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        raise PlaybookError([_syntax_problem(error, name)]) from None
    except yaml.YAMLError as error:
        raise PlaybookError([PlaybookProblem(name, None, "", f"YAML: {error}")]) from None
    finally:
        loader.dispose()
    lines: dict[Location, int] = {}
    duplicates: list[tuple[int, str, str]] = []
    if node is not None:
        _index(node, (), lines, duplicates)
    return data, lines, duplicates


def _syntax_problem(error: yaml.MarkedYAMLError, name: str) -> PlaybookProblem:
    """Point at where the broken construct began (an unclosed quote, a bracket)."""
    what = error.problem or "not valid YAML"
    problem, context = error.problem_mark, error.context_mark
    if (
        context is not None
        and error.context
        and problem is not None
        and context.line != problem.line
    ):
        where = f"{error.context}, which starts here"
        message = f"YAML syntax: {what} at line {problem.line + 1} ({where})"
        return PlaybookProblem(name, context.line + 1, "", message)
    mark = problem or context
    return PlaybookProblem(name, mark.line + 1 if mark else None, "", f"YAML syntax: {what}")


def _index(
    node: yaml.Node,
    where: Location,
    lines: dict[Location, int],
    duplicates: list[tuple[int, str, str]],
) -> None:
    lines.setdefault(where, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            line = key.start_mark.line + 1
            if name in seen:
                duplicates.append(
                    (line, _path((*where, name)), f"key appears twice (first at line {seen[name]})")
                )
            seen[name] = line
            lines[(*where, name)] = line
            _index(value, (*where, name), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*where, i), lines, duplicates)


def _line(lines: Mapping[Location, int], where: Sequence[str | int]) -> int | None:
    for end in range(len(where), -1, -1):
        line = lines.get(tuple(where[:end]))
        if line is not None:
            return line
    return None


def _path(where: Sequence[str | int]) -> str:
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _validation_problems(
    error: ValidationError, lines: Mapping[Location, int], name: str
) -> Iterator[PlaybookProblem]:
    for e in error.errors(include_url=False):
        where = _real_path(e["loc"], lines)
        message = e["msg"]
        if e["type"] == "extra_forbidden":
            message = f"unknown key '{where[-1]}'" + _suggest(str(where[-1]), where[:-1])
        elif e["type"] == "missing":
            message = f"required key '{e['loc'][-1]}' is missing"
            where = where[:-1] if where and where[-1] == e["loc"][-1] else where
        yield PlaybookProblem(name, _line(lines, where), _path(where), _lower_first(message))


def _real_path(loc: Sequence[str | int], lines: Mapping[Location, int]) -> Location:
    """Pydantic's location without the union-member names it inserts (``list[str]`` ...)."""
    real: list[str | int] = []
    for part in loc:
        candidate = (*real, part)
        if candidate in lines or not _looks_like_type_name(part):
            real.append(part)
    return tuple(real)


def _looks_like_type_name(part: str | int) -> bool:
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool"))


def _model_at(where: Sequence[str | int]) -> type[BaseModel] | None:
    """The schema model that describes the mapping at ``where`` in the playbook."""
    model: Any = schema.PlaybookSpec
    for part in where:
        if isinstance(model, type) and issubclass(model, BaseModel):
            info = model.model_fields.get(str(part))
            if info is None:
                return None
            model = info.annotation
        else:
            model = _inner(model)
            if model is None:
                return None
    while not (isinstance(model, type) and issubclass(model, BaseModel)):
        model = _inner(model)
        if model is None:
            return None
    return model


def _inner(annotation: Any) -> Any:
    """The model inside a container or optional type (list[X], dict[str, X], X | None)."""
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        if get_args(arg):
            found = _inner(arg)
            if found is not None:
                return found
    return None


def _suggest(key: str, where: Sequence[str | int]) -> str:
    """A close key that is valid at this place in the playbook."""
    model = _model_at(where)
    if model is None:
        return ""
    close = difflib.get_close_matches(key, sorted(model.model_fields), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _unique(problems: list[PlaybookProblem]) -> list[PlaybookProblem]:
    seen: set[tuple[int | None, str, str]] = set()
    out = []
    for p in problems:
        key = (p.line, p.field, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
