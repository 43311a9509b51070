"""Running a parsed template on a value, with text/template's rules.

``.`` is the current value (``range`` and ``with`` move it), ``$`` the
value the template started with.  Evaluating a field of a map that has no
such key gives ``<no value>``; of a struct (any other JSON object) it is
an error, as the docker CLI reports it: ``template: :1:2: executing "" at
<.Foo>: map has no entry for key "Foo"`` (exit status 1).
"""

from __future__ import annotations

from collections.abc import Callable

from .funcs import BUILTINS, SIGNATURES, CallError, go_sprintf, kind_matches
from .parse import (
    Action,
    Branch,
    Chain,
    Command,
    Field,
    Identifier,
    Literal,
    LoopControl,
    Node,
    Pipeline,
    Text,
    Variable,
)
from .values import MISSING, GoMap, go_str, truth


class TemplateError(Exception):
    """A template that parsed but failed on this value (docker: exit 1)."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Executor:
    def __init__(self, src: str, funcs: dict[str, Callable] | None = None):
        self.src = src
        self.funcs = {**BUILTINS, **(funcs or {})}
        self.out: list[str] = []

    def error(self, node: Node, at: str, message: str) -> TemplateError:
        line = self.src.count("\n", 0, node.pos) + 1
        col = node.pos - (self.src.rfind("\n", 0, node.pos) + 1)
        return TemplateError(f'template: :{line}:{col}: executing "" at <{at}>: {message}')

    # -- the tree --------------------------------------------------------------------
    def run(self, nodes: list[Node], dot, scope: list[dict]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.out.append(node.text)
            elif isinstance(node, Action):
                value = self.pipeline(node.pipe, dot, scope)
                if not node.pipe.decl:
                    self.out.append(go_str(value))
            elif isinstance(node, Branch):
                self.branch(node, dot, scope)
            elif isinstance(node, LoopControl):
                raise _Break() if node.kind == "break" else _Continue()

    def branch(self, node: Branch, dot, scope: list[dict]) -> None:
        inner = [*scope, {}]
        if node.kind == "range":
            value = self.pipeline(node.pipe, dot, inner, declare=False)
            items = _range_items(value)
            if items is None:
                raise self.error(node.pipe, node.pipe.text, f"range can't iterate over {go_str(value)}")
            if not items:
                if node.else_body is not None:
                    self.run(node.else_body, dot, scope)
                return
            for key, element in items:
                frame = {}
                if len(node.pipe.decl) == 1:
                    frame[node.pipe.decl[0]] = element
                elif len(node.pipe.decl) == 2:
                    frame[node.pipe.decl[0]] = key
                    frame[node.pipe.decl[1]] = element
                try:
                    self.run(node.body, element, [*scope, frame])
                except _Break:
                    break
                except _Continue:
                    continue
            return
        value = self.pipeline(node.pipe, dot, inner)
        if truth(value):
            self.run(node.body, value if node.kind == "with" else dot, inner)
        elif node.else_body is not None:
            self.run(node.else_body, dot, inner)

    def pipeline(self, pipe: Pipeline, dot, scope: list[dict], declare: bool = True):
        value = None
        for i, command in enumerate(pipe.commands):
            value = self.command(command, dot, scope, None if i == 0 else (value,))
        if pipe.decl and declare:
            for name in pipe.decl:
                if pipe.is_assign:
                    for frame in reversed(scope):
                        if name in frame:
                            frame[name] = value
                            break
                    else:
                        raise self.error(pipe, pipe.text, f"undefined variable: {name}")
                else:
                    scope[-1][name] = value
        return value

    def command(self, command: Command, dot, scope: list[dict], piped: tuple | None):
        first = command.args[0]
        if isinstance(first, Identifier):
            fn = self.funcs.get(first.name)
            if fn is None:
                raise self.error(first, first.name, f'function "{first.name}" not defined')
            if first.name in ("and", "or") and len(command.args) + (1 if piped else 0) > 1:
                return self.short_circuit(first.name, command, dot, scope, piped)
            args = [self.operand(a, dot, scope) for a in command.args[1:]]
            nodes: list[Node | None] = list(command.args[1:])
            if piped is not None:
                args += list(piped)
                nodes += [None] * len(piped)
            for kind, arg, arg_node in zip(SIGNATURES.get(first.name, ()), args, nodes, strict=False):
                if not kind_matches(kind, arg):
                    where = arg_node if arg_node is not None else command
                    at = _node_text(arg_node) if arg_node is not None else command.text
                    raise self.error(where, at, f"expected {kind}; found {go_str(arg)}")
            try:
                return fn(*args)
            except CallError as e:
                raise self.error(command, command.text, f"error calling {first.name}: {e}") from None
            except TypeError as e:
                raise self.error(command, command.text, f"wrong arguments for {first.name}: {e}") from None
        if len(command.args) > 1 or piped is not None:
            raise self.error(first, command.text, f"can't give argument to non-function {command.text}")
        return self.operand(first, dot, scope)

    def short_circuit(self, name: str, command: Command, dot, scope: list[dict], piped: tuple | None):
        """``and``/``or`` evaluate their arguments only as far as needed (Go 1.18)."""
        value = None
        pending = [*command.args[1:], *([Literal(command.pos, piped[0], "")] if piped else [])]
        for node in pending:
            value = self.operand(node, dot, scope)
            if truth(value) != (name == "and"):
                return value
        return value

    def operand(self, node: Node, dot, scope: list[dict]):
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Field):
            return self.fields(node, dot, node.names, node.text)
        if isinstance(node, Variable):
            name = node.names[0]
            for frame in reversed(scope):
                if name in frame:
                    return self.fields(node, frame[name], node.names[1:], node.text)
            raise self.error(node, node.text, f"undefined variable: {name}")
        if isinstance(node, Pipeline):
            return self.pipeline(node, dot, scope)
        if isinstance(node, Chain):
            return self.fields(node, self.pipeline(node.node, dot, scope), node.names, node.text)  # type: ignore[arg-type]
        if isinstance(node, Identifier):
            fn = self.funcs.get(node.name)
            if fn is None:
                raise self.error(node, node.name, f'function "{node.name}" not defined')
            try:
                return fn()
            except (CallError, TypeError) as e:
                raise self.error(node, node.name, f"error calling {node.name}: {e}") from None
        raise self.error(node, "?", "unexpected node")

    def fields(self, node: Node, value, names: list[str], text: str):
        for name in names:
            if isinstance(value, GoMap):
                value = value.get(name, MISSING)
            elif isinstance(value, dict):
                if name not in value:
                    raise self.error(node, text, f'map has no entry for key "{name}"')
                value = value[name]
            elif value is None or value is MISSING:
                raise self.error(node, text, f"nil pointer evaluating interface {{}}.{name}")
            else:
                raise self.error(node, text, f"can't evaluate field {name} in type {_kind(value)}")
        return value


def _node_text(node: Node) -> str:
    text = getattr(node, "text", None)
    if isinstance(text, str):
        return text
    return getattr(node, "name", "?")


def check_functions(src: str, nodes: list[Node], funcs: dict) -> None:
    """Go resolves function names when it parses: an unknown one is a parse error."""
    from .parse import TemplateSyntaxError

    def visit(node) -> None:
        if isinstance(node, Identifier):
            if node.name not in funcs:
                line = src.count("\n", 0, node.pos) + 1
                raise TemplateSyntaxError(f'template: :{line}: function "{node.name}" not defined')
        elif isinstance(node, (Action,)):
            visit(node.pipe)
        elif isinstance(node, Pipeline):
            for command in node.commands:
                visit(command)
        elif isinstance(node, Command):
            for arg in node.args:
                visit(arg)
        elif isinstance(node, Chain):
            visit(node.node)
        elif isinstance(node, Branch):
            visit(node.pipe)
            for child in [*node.body, *(node.else_body or [])]:
                visit(child)

    for node in nodes:
        visit(node)


def _kind(value) -> str:
    from .values import go_type

    return go_type(value)


def _range_items(value) -> list[tuple[object, object]] | None:
    if value is None or value is MISSING:
        return []
    if isinstance(value, list):
        return list(enumerate(value))
    if isinstance(value, dict):
        return [(k, value[k]) for k in sorted(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [(i, i) for i in range(value)]
    return None


__all__ = ["Executor", "TemplateError", "go_sprintf"]
