"""The condition language of the playbook.

A condition is one line a sales leader can read::

    budget in (approved, planned) and timeframe_days <= 90
    met(has_budget, has_authority, has_timeframe) == 2
    contact_me_now is true
    days_since(last_event) < 30

It is parsed once into a small tree (:class:`Node`), bound to the playbook's
names (fields, criteria, dimension scores) and type-checked. The same bound
tree is evaluated here, one lead at a time, and compiled to a Polars
expression by ``leadflow.analytics.batch`` for a whole file at once.

Unknown values follow three-valued (Kleene) logic, as SQL and Polars do: a
comparison with an unknown value is unknown, ``false and unknown`` is false,
``true or unknown`` is true, and a rule fires only when its condition is true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from leadflow.domain.values import DATE_PATTERN, choice_key

Kind = Literal["number", "string", "bool", "date"]
Scalar = float | int | str | bool | date
Env = Mapping[str, object]
Evaluator = Callable[[Env], object]

TODAY = "__today__"
"""The name under which an evaluation environment carries the date of ``now``."""

DIMENSIONS = ("fit", "qualification", "engagement", "score")
FUNCTIONS = ("met", "days_since", "days_until")
KEYWORDS = ("and", "or", "not", "in", "is", "known", "unknown", "true", "false")


class ExprError(ValueError):
    """A condition that cannot be parsed or does not fit the playbook; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        return f"{self.message} (at character {self.column})"


# ---------------------------------------------------------------- tokens

_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<date>{DATE_PATTERN})(?![0-9A-Za-z_])
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|=|\(|\)|,|-)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            raise ExprError(f"unexpected character {source[at]!r}", at + 1)
        kind = match.lastgroup or ""
        if kind != "space":
            text = match.group()
            if kind == "name" and text.lower() in KEYWORDS:
                kind, text = "keyword", text.lower()
            tokens.append(Token(kind, text, at))
        at = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


# ---------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Const:
    value: Scalar
    kind: Kind
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Node
    right: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class InList:
    operand: Node
    values: tuple[Node, ...]
    negate: bool
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Is:
    operand: Node
    what: Literal["known", "unknown", "true", "false"]
    negate: bool
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["and", "or"]
    items: tuple[Node, ...]
    pos: int = 0


# Bound references: what a name turned out to be in the playbook.
@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    field_type: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class CriterionRef:
    name: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class DimensionRef:
    name: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Met:
    criteria: tuple[str, ...]
    pos: int = 0


@dataclass(frozen=True, slots=True)
class DaysFrom:
    """``days_since(field)`` (``sign`` 1) or ``days_until(field)`` (``sign`` -1)."""

    field: str
    sign: int
    pos: int = 0


Node = (
    Name
    | Const
    | Call
    | Compare
    | InList
    | Is
    | Not
    | BoolOp
    | FieldRef
    | CriterionRef
    | DimensionRef
    | Met
    | DaysFrom
)


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        token = self.peek()
        if token.kind == kind and (text is None or token.text == text):
            self.i += 1
            return token
        return None

    def expect(self, kind: str, text: str, what: str) -> Token:
        token = self.accept(kind, text)
        if token is None:
            found = self.peek()
            shown = repr(found.text) if found.kind != "end" else "the end"
            raise ExprError(f"expected {what}, found {shown}", found.pos + 1)
        return token

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError("the condition is empty")
        node = self.or_()
        token = self.peek()
        if token.kind != "end":
            raise ExprError(f"unexpected {token.text!r}", token.pos + 1)
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.accept("keyword", "or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items), _pos(items[0]))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.accept("keyword", "and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items), _pos(items[0]))

    def not_(self) -> Node:
        token = self.accept("keyword", "not")
        if token:
            return Not(self.not_(), token.pos)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        token = self.peek()
        if token.kind == "op" and token.text in ("==", "!=", "<=", ">=", "<", ">", "="):
            self.take()
            op = "==" if token.text == "=" else token.text
            return Compare(op, left, self.operand(), token.pos)
        negate_at = self.i
        negate = bool(self.accept("keyword", "not"))
        if self.accept("keyword", "in"):
            self.expect("op", "(", "'(' after 'in'")
            values = [self.operand()]
            while self.accept("op", ","):
                values.append(self.operand())
            self.expect("op", ")", "',' or ')'")
            return InList(left, tuple(values), negate, token.pos)
        if negate:
            self.i = negate_at
            raise ExprError("expected 'in' after 'not'", self.peek().pos + 1)
        if self.accept("keyword", "is"):
            negate = bool(self.accept("keyword", "not"))
            what = self.take()
            if what.kind != "keyword" or what.text not in ("known", "unknown", "true", "false"):
                raise ExprError("expected known, unknown, true or false after 'is'", what.pos + 1)
            return Is(left, what.text, negate, token.pos)  # type: ignore[arg-type]
        return left

    def operand(self) -> Node:
        token = self.take()
        if token.kind == "op" and token.text == "(":
            node = self.or_()
            self.expect("op", ")", "')'")
            return node
        if token.kind == "op" and token.text == "-":
            number = self.take()
            if number.kind != "number":
                raise ExprError("expected a number after '-'", number.pos + 1)
            return Const(-float(number.text), "number", token.pos)
        if token.kind == "number":
            return Const(float(token.text), "number", token.pos)
        if token.kind == "date":
            try:
                return Const(date.fromisoformat(token.text), "date", token.pos)
            except ValueError:
                raise ExprError(f"{token.text} is not a valid date", token.pos + 1) from None
        if token.kind == "string":
            return Const(token.text[1:-1], "string", token.pos)
        if token.kind == "keyword" and token.text in ("true", "false"):
            return Const(token.text == "true", "bool", token.pos)
        if token.kind == "name":
            if self.accept("op", "("):
                args: list[Node] = []
                if not self.accept("op", ")"):
                    args.append(self.operand())
                    while self.accept("op", ","):
                        args.append(self.operand())
                    self.expect("op", ")", "',' or ')'")
                return Call(token.text, tuple(args), token.pos)
            return Name(token.text, token.pos)
        shown = repr(token.text) if token.kind != "end" else "the end"
        raise ExprError(f"expected a value or a name, found {shown}", token.pos + 1)


def _pos(node: Node) -> int:
    return node.pos


def parse(source: str) -> Node:
    """Parse a condition; raises :class:`ExprError` naming the character where it went wrong."""
    return _Parser(source).parse()


# ---------------------------------------------------------------- binding and types


@dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    field_type: str
    label: str
    choices: Mapping[str, str]  # choice key -> label; empty unless a choice field
    lowercase: bool = False


@dataclass(frozen=True)
class Scope:
    """The names a condition may use."""

    fields: Mapping[str, FieldInfo]
    criteria: Mapping[str, str]  # criterion name -> label
    dimensions: bool = False

    def describe_names(self) -> str:
        names = list(self.fields)
        names += list(self.criteria)
        if self.dimensions:
            names += list(DIMENSIONS)
        return ", ".join(names) or "none"


def _kind_of_field(field_type: str) -> Kind:
    return {
        "text": "string",
        "choice": "string",
        "number": "number",
        "integer": "number",
        "boolean": "bool",
        "date": "date",
    }[field_type]  # type: ignore[return-value]


class _Binder:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def condition(self, node: Node) -> Node:
        bound, kind = self.bind(node)
        if kind != "bool":
            raise ExprError(
                "this is a value, not a condition: compare it, e.g. '>= 10'", node.pos + 1
            )
        return bound

    def bind(self, node: Node) -> tuple[Node, Kind]:
        if isinstance(node, Const):
            return node, node.kind
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Not):
            return Not(self.condition(node.operand), node.pos), "bool"
        if isinstance(node, BoolOp):
            return BoolOp(node.op, tuple(self.condition(i) for i in node.items), node.pos), "bool"
        if isinstance(node, Is):
            operand, kind = self.bind(node.operand)
            if node.what in ("true", "false") and kind != "bool":
                raise ExprError(f"'is {node.what}' needs a yes/no value", node.pos + 1)
            return Is(operand, node.what, node.negate, node.pos), "bool"
        if isinstance(node, Compare):
            left, kind = self.bind(node.left)
            right = self.literal_for(left, kind, node.right)
            if kind in ("string", "bool") and node.op not in ("==", "!="):
                raise ExprError(f"'{node.op}' compares numbers and dates only", node.pos + 1)
            return Compare(node.op, left, right, node.pos), "bool"
        if isinstance(node, InList):
            operand, kind = self.bind(node.operand)
            values = tuple(self.literal_for(operand, kind, v) for v in node.values)
            return InList(operand, values, node.negate, node.pos), "bool"
        raise ExprError("this condition is already bound")

    def name(self, node: Name) -> tuple[Node, Kind]:
        scope = self.scope
        if node.name in scope.fields:
            info = scope.fields[node.name]
            return FieldRef(node.name, info.field_type, node.pos), _kind_of_field(info.field_type)
        if node.name in scope.criteria:
            return CriterionRef(node.name, node.pos), "bool"
        if scope.dimensions and node.name in DIMENSIONS:
            return DimensionRef(node.name, node.pos), "number"
        raise ExprError(
            f"unknown name '{node.name}' (known here: {scope.describe_names()})", node.pos + 1
        )

    def call(self, node: Call) -> tuple[Node, Kind]:
        if node.func == "met":
            names: list[str] = []
            for arg in node.args:
                if not isinstance(arg, Name) or arg.name not in self.scope.criteria:
                    raise ExprError("met(...) takes criterion names", arg.pos + 1)
                names.append(arg.name)
            if not names:
                raise ExprError("met(...) needs at least one criterion", node.pos + 1)
            return Met(tuple(names), node.pos), "number"
        if node.func in ("days_since", "days_until"):
            first = node.args[0] if len(node.args) == 1 else None
            info = self.scope.fields.get(first.name) if isinstance(first, Name) else None
            if info is None or info.field_type != "date":
                raise ExprError(f"{node.func}(...) takes one date field", node.pos + 1)
            sign = 1 if node.func == "days_since" else -1
            return DaysFrom(info.name, sign, node.pos), "number"
        raise ExprError(
            f"unknown function '{node.func}' (known: {', '.join(FUNCTIONS)})", node.pos + 1
        )

    def literal_for(self, left: Node, kind: Kind, node: Node) -> Node:
        """The right-hand side of a comparison: a constant of the left side's kind.

        A bare word after a choice or text field is that field's value, so
        ``decision_role == decision_maker`` needs no quotes.
        """
        field = self.scope.fields.get(left.name) if isinstance(left, FieldRef) else None
        if isinstance(node, Name) and field is not None and kind == "string":
            node = Const(node.name, "string", node.pos)
        if not isinstance(node, Const):
            raise ExprError("compare with a constant value", node.pos + 1)
        if node.kind == "number" and kind == "number":
            return node
        if node.kind != kind:
            raise ExprError(f"expected a {kind} value here, found {node.value!r}", node.pos + 1)
        if field is not None and field.field_type == "choice":
            key = choice_key(str(node.value))
            if key not in field.choices:
                options = ", ".join(field.choices)
                raise ExprError(
                    f"'{node.value}' is not a choice of {field.name} ({options})", node.pos + 1
                )
            return Const(key, "string", node.pos)
        if field is not None and field.lowercase and isinstance(node.value, str):
            return Const(node.value.lower(), "string", node.pos)
        return node


def bind(node: Node, scope: Scope) -> Node:
    """Resolve names and check types; the result is a condition ready to evaluate."""
    return _Binder(scope).condition(node)


def compile_condition(source: str, scope: Scope) -> Node:
    return bind(parse(source), scope)


# ---------------------------------------------------------------- what a condition uses


def fields_used(node: Node) -> list[str]:
    """Field names the condition reads, in order of first use."""
    found: dict[str, None] = {}
    _walk(
        node,
        lambda n: found.setdefault(_field_name(n)) if isinstance(n, FieldRef | DaysFrom) else None,
    )
    return list(found)


def _field_name(node: Node) -> str:
    return node.field if isinstance(node, DaysFrom) else getattr(node, "name", "")


def criteria_used(node: Node) -> list[str]:
    found: dict[str, None] = {}

    def visit(n: Node) -> None:
        if isinstance(n, CriterionRef):
            found.setdefault(n.name)
        elif isinstance(n, Met):
            for name in n.criteria:
                found.setdefault(name)

    _walk(node, visit)
    return list(found)


def choices_used(node: Node) -> set[tuple[str, str]]:
    """(field, choice) pairs the condition names."""
    found: set[tuple[str, str]] = set()

    def visit(n: Node) -> None:
        if isinstance(n, Compare) and isinstance(n.left, FieldRef) and isinstance(n.right, Const):
            if n.left.field_type == "choice":
                found.add((n.left.name, str(n.right.value)))
        elif (
            isinstance(n, InList)
            and isinstance(n.operand, FieldRef)
            and n.operand.field_type == "choice"
        ):
            found.update((n.operand.name, str(v.value)) for v in n.values if isinstance(v, Const))

    _walk(node, visit)
    return found


def constants_for(node: Node) -> dict[str, list[Scalar]]:
    """Per field, the constants it is compared with (for the linter's sample leads)."""
    found: dict[str, list[Scalar]] = {}

    def visit(n: Node) -> None:
        if isinstance(n, Compare) and isinstance(n.left, FieldRef | DaysFrom):
            if isinstance(n.right, Const):
                found.setdefault(_field_name(n.left), []).append(n.right.value)
        elif isinstance(n, InList) and isinstance(n.operand, FieldRef):
            found.setdefault(n.operand.name, []).extend(
                v.value for v in n.values if isinstance(v, Const)
            )

    _walk(node, visit)
    return found


def _walk(node: Node, visit: Callable[[Node], object]) -> None:
    visit(node)
    if isinstance(node, Not):
        _walk(node.operand, visit)
    elif isinstance(node, BoolOp):
        for item in node.items:
            _walk(item, visit)
    elif isinstance(node, Compare):
        _walk(node.left, visit)
        _walk(node.right, visit)
    elif isinstance(node, InList | Is):
        _walk(node.operand, visit)


# ---------------------------------------------------------------- evaluation, one lead


def evaluator(node: Node) -> Evaluator:
    """Compile a bound condition to a function of an environment (name -> value or None)."""
    if isinstance(node, Const):
        value = node.value
        return lambda env: value
    if isinstance(node, FieldRef | CriterionRef | DimensionRef):
        name = node.name
        return lambda env: env.get(name)
    if isinstance(node, Met):
        names = node.criteria
        return lambda env: sum(1 for n in names if env.get(n) is True)
    if isinstance(node, DaysFrom):
        field, sign = node.field, node.sign

        def days(env: Env) -> object:
            value = env.get(field)
            if not isinstance(value, date):
                return None
            today = env[TODAY]
            assert isinstance(today, date)
            return sign * (today - value).days

        return days
    if isinstance(node, Not):
        inner = evaluator(node.operand)

        def negate(env: Env) -> object:
            value = inner(env)
            return None if value is None else not value

        return negate
    if isinstance(node, BoolOp):
        return _bool_op(node.op, [evaluator(i) for i in node.items])
    if isinstance(node, Compare):
        return _compare(node.op, evaluator(node.left), evaluator(node.right))
    if isinstance(node, InList):
        operand = evaluator(node.operand)
        members = frozenset(v.value for v in node.values if isinstance(v, Const))
        negated = node.negate

        def within(env: Env) -> object:
            value = operand(env)
            return None if value is None else (value in members) != negated

        return within
    if isinstance(node, Is):
        return _is(node.what, node.negate, evaluator(node.operand))
    raise ExprError(f"cannot evaluate an unbound name: {node!r}")


def _bool_op(op: str, items: list[Evaluator]) -> Evaluator:
    if op == "and":

        def all_of(env: Env) -> object:
            unknown = False
            for item in items:
                value = item(env)
                if value is False:
                    return False
                unknown = unknown or value is None
            return None if unknown else True

        return all_of

    def any_of(env: Env) -> object:
        unknown = False
        for item in items:
            value = item(env)
            if value is True:
                return True
            unknown = unknown or value is None
        return None if unknown else False

    return any_of


_OPS: dict[str, Callable[[object, object], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def _compare(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    test = _OPS[op]

    def compare(env: Env) -> object:
        a, b = left(env), right(env)
        if a is None or b is None:
            return None
        return test(a, b)

    return compare


def _is(what: str, negate: bool, operand: Evaluator) -> Evaluator:
    def check(env: Env) -> object:
        value = operand(env)
        if what == "known":
            result = value is not None
        elif what == "unknown":
            result = value is None
        else:
            result = value is (what == "true")
        return result != negate

    return check


# ---------------------------------------------------------------- plain words

_OP_WORDS = {
    "==": "is",
    "!=": "is not",
    "<": "is less than",
    "<=": "is at most",
    ">": "is more than",
    ">=": "is at least",
}


def words(node: Node, scope: Scope) -> str:
    """The condition in plain words, with the playbook's labels."""

    def label(n: Node) -> str:
        if isinstance(n, FieldRef):
            return scope.fields[n.name].label
        if isinstance(n, CriterionRef):
            return scope.criteria.get(n.name, n.name)
        if isinstance(n, DimensionRef):
            return f"the {n.name} score" if n.name != "score" else "the total score"
        if isinstance(n, DaysFrom):
            field = scope.fields[n.field].label
            return f"days since {field}" if n.sign == 1 else f"days until {field}"
        if isinstance(n, Met):
            return "the number met of: " + "; ".join(scope.criteria.get(c, c) for c in n.criteria)
        return words(n, scope)

    def value(left: Node, n: Node) -> str:
        if isinstance(n, Const):
            info = scope.fields.get(left.name) if isinstance(left, FieldRef) else None
            if info is not None and info.choices and isinstance(n.value, str):
                return info.choices.get(n.value, n.value)
            if isinstance(n.value, bool):
                return "yes" if n.value else "no"
            if isinstance(n.value, float) and n.value.is_integer():
                return str(int(n.value))
            return str(n.value)
        return words(n, scope)

    if isinstance(node, Const):
        return value(node, node)
    if isinstance(node, FieldRef) and node.field_type == "boolean":
        return f"{label(node)}: yes"
    if isinstance(node, FieldRef | CriterionRef | DimensionRef | DaysFrom | Met):
        return label(node)
    if isinstance(node, Not):
        return f"not ({words(node.operand, scope)})"
    if isinstance(node, BoolOp):
        joined = f" {node.op} ".join(
            f"({words(i, scope)})" if isinstance(i, BoolOp) else words(i, scope) for i in node.items
        )
        return joined
    if isinstance(node, Compare):
        if isinstance(node.left, Met) and node.op == "==" and isinstance(node.right, Const):
            names = "; ".join(scope.criteria.get(c, c) for c in node.left.criteria)
            return f"exactly {value(node.left, node.right)} of: {names}"
        if isinstance(node.left, Met) and node.op == ">=" and isinstance(node.right, Const):
            names = "; ".join(scope.criteria.get(c, c) for c in node.left.criteria)
            return f"at least {value(node.left, node.right)} of: {names}"
        return f"{label(node.left)} {_OP_WORDS[node.op]} {value(node.left, node.right)}"
    if isinstance(node, InList):
        options = [value(node.operand, v) for v in node.values]
        listed = options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]
        verb = "is not" if node.negate else "is"
        return f"{label(node.operand)} {verb} {listed}"
    if isinstance(node, Is):
        verb = "is not" if node.negate else "is"
        return f"{label(node.operand)} {verb} {node.what}"
    return repr(node)
