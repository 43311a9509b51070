"""Go templates for ``--format`` and ``-f``, with text/template's semantics.

``stepbox inspect -f '{{.State.ExitCode}}' c``, ``ps --format 'table
{{.ID}}\\t{{.Names}}'``: the docker CLI formats its output with Go's
``text/template`` and a few functions of its own; so does stepbox, on the
API's JSON, with the same outputs and the same errors:

* a template that does not parse: :class:`TemplateSyntaxError`, which the
  docker CLI reports as ``template parsing error: template: :1: ...`` with
  exit status 64;
* one that fails on the value -- a field a struct does not have:
  :class:`TemplateError`, ``template parsing error: template: :1:2:
  executing "" at <.Foo>: map has no entry for key "Foo"``, status 1.

Modules: :mod:`.parse` (lexer and parser), :mod:`.execute` (the tree on a
value), :mod:`.funcs` (the functions), :mod:`.values` (how Go prints and
judges a value).
"""

from __future__ import annotations

from .execute import Executor, TemplateError, check_functions
from .funcs import BUILTINS
from .parse import TemplateSyntaxError, parse
from .values import typed


class Template:
    def __init__(self, source: str):
        self.source = source
        self.nodes = parse(source)
        check_functions(source, self.nodes, BUILTINS)

    def render(self, value) -> str:
        executor = Executor(self.source)
        executor.run(self.nodes, typed(value), [{"$": typed(value)}])
        return "".join(executor.out)


def render(source: str, value) -> str:
    """Parse ``source`` and run it on ``value`` (JSON data)."""
    return Template(source).render(value)


__all__ = ["Template", "TemplateError", "TemplateSyntaxError", "render"]
