"""awk for the simulated userland: busybox 1.35's awk, in four parts --
:mod:`.lexer` (tokens, read with the parser's expectations),
:mod:`.parser` (expression trees by operator priority, statement chains),
:mod:`.interp` (the evaluator, builtins, getline, printf) with
:mod:`.streams` (files, pipes, ``system``) and :mod:`.values` (variables,
busybox's hash order, C number formatting); :mod:`.main` is the applet."""
