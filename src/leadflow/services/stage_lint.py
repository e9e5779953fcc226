"""Lint the stage graph: stages no lead can reach or leave, and the hand-off both ways.

Problems that stop the playbook from loading (an unknown stage under
``next``, a name used twice, no inquiry stage) are errors of the compiler;
what is found here is legal but probably a mistake (warnings), or worth
knowing (notes).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from leadflow.domain.stages import EVENTS, SIDES, StageModel


def lint_stages(model: StageModel) -> tuple[list[str], list[str]]:
    """Warnings and notes about the stage graph."""
    warnings = _unreachable(model) + _dead_ends(model) + _no_way_to_close(model)
    warnings += _owner_against_type(model) + _no_way_back(model) + _ambiguous(model)
    notes = [
        f"stage '{s.name}' has no entry criteria (on, when): a person moves leads into it"
        for s in model.stages
        if s.manual and s is not model.initial
    ]
    return warnings, notes


def _reachable(model: StageModel, start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(model[name].next)
    return seen


def _unreachable(model: StageModel) -> list[str]:
    start = model.initial
    seen = _reachable(model, [start.name])
    return [
        f"stage '{s.name}' cannot be reached from '{start.name}': no path of next stages "
        "leads there"
        for s in model.stages
        if s.name not in seen
    ]


def _dead_ends(model: StageModel) -> list[str]:
    return [
        f"stage '{s.name}' is a dead end: it lists no next stage, and a {s.type} stage "
        "is not final (only won, lost and disqualified are)"
        for s in model.stages
        if not s.next and not s.terminal
    ]


def _no_way_to_close(model: StageModel) -> list[str]:
    """Stages that have a way out, but whose ways all loop without reaching a final stage."""
    final = {s.name for s in model.stages if s.terminal}
    if not final:
        return []
    return [
        f"leads in stage '{s.name}' can never reach {', '.join(sorted(final))}: "
        "every path from it goes round in a loop"
        for s in model.stages
        if s.next and not s.terminal and not _reachable(model, s.next) & final
    ]


def _owner_against_type(model: StageModel) -> list[str]:
    out = []
    for s in model.stages:
        side = SIDES[s.type]
        if side is not None and s.owner != side:
            out.append(
                f"stage '{s.name}' is {s.type} but owned by {s.owner}: "
                f"a {s.type} stage belongs to {side} (the hand-off to sales is at sales-accepted)"
            )
    return out


def _no_way_back(model: StageModel) -> list[str]:
    """Sales can hand a lead back to marketing: some sales stage leads to a marketing one."""
    working = [s for s in model.stages if not s.terminal]
    sales = [s for s in working if s.owner == "sales"]
    marketing = {s.name for s in working if s.owner == "marketing"}
    if not sales or not marketing:
        return []
    if any(set(s.next) & marketing for s in model.stages if s.owner == "sales"):
        return []
    return [
        "sales cannot hand a lead back to marketing: no stage owned by sales lists a "
        "marketing stage under next (a recycled stage is the usual way back)"
    ]


def _ambiguous(model: StageModel) -> list[str]:
    """Two next stages entered on the same event with nothing to choose between them."""
    out = []
    for s in model.stages:
        targets = [model[n] for n in s.next if any(t.name == n for t in model.stages)]
        for a, b in itertools.combinations(targets, 2):
            both = [e for e in a.on if e in b.on]
            if both and a.condition is None and b.condition is None:
                out.append(
                    f"from stage '{s.name}', both '{a.name}' and '{b.name}' are entered when "
                    f"{EVENTS.get(both[0], both[0])}, and no condition (when) tells them apart"
                )
    return out
