"""``stepbox build``: from a Dockerfile to an image, one step per instruction.

Reading order:

* text to instructions -- :mod:`.directives` and :mod:`.lexer` (logical
  lines), :mod:`.instructions` and :mod:`.parser` (typed instructions, grouped
  into stages), :mod:`.substitution` (``${VAR:-x}`` where Docker applies it);
* what the build may see -- :mod:`.dockerignore` and :mod:`.context`;
* the build -- :mod:`.builder` (the plan of steps), :mod:`.state` (what it
  remembers), :mod:`.dispatch` (what each instruction does), with
  :mod:`.metadata` (config-only instructions), :mod:`.copying` and
  :mod:`.tree` (COPY/ADD), :mod:`.running` (RUN in a container) and
  :mod:`.cache` (the layer cache);
* :mod:`.errors` -- what a build can fail with, and where.
"""
