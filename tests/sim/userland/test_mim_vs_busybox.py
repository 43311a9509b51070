"""mim (busybox's embedded "make in minutes" script) on the simulator
against REAL busybox: default and named targets, their arguments, shell
options passed on (-x), -f, a missing spec, an unknown target, a failing
command, blank and indented lines."""

from __future__ import annotations

import pytest

SPEC = "printf 'all:\\n\\techo all $#\\n  echo \"args: $*\"\\nb:\\n\\techo b $1\\n\\n\\tfalse\\n\\techo never\\n' > Mimfile; "

CASES = [
    "mim; echo rc $?; mkdir d; cd d; mim -f; echo rc $?; mim -f nope x; echo rc $?",
    SPEC + "mim; echo rc $?; mim b x y; echo rc $?; mim zz; echo rc $?; mim -x b 1; echo rc $?",
    SPEC + "mv Mimfile spec; mim -f spec all 1 2 3; echo rc $?; mim -e -f spec b; echo rc $?; "
    "printf 'x:\\n\\tfor i in 1 2; do echo $i; done\\n\\tcd /tmp && pwd\\nbad:\\n\\techo \"unterminated\\n' > s2; "
    "mim -f s2; echo rc $?; mim -f s2 bad; echo rc $?",
    "printf 'no targets\\necho here\\n' > Mimfile; mim; echo rc $?; : > Mimfile; mim; echo rc $?; "
    "printf 't:' > Mimfile; mim; echo rc $?",
]


@pytest.mark.parametrize("script", CASES)
def test_mim_cases(same, script):
    same(script)
