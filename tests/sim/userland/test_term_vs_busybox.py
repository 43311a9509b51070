"""more, less and stty on the simulator against REAL busybox, with no
terminal on either side (stdin and stdout are pipes or files): the pagers
copy like cat, stty checks its settings and then fails on the missing
tty.  Hypothesis writes stty command lines from setting names, numbers
and junk."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CASES = [
    "printf 'a\\nb\\n' > f; more f; echo $?; less f f; echo $?; echo in | more; echo in | less -; "
    "more nosuch f; echo $?; less /tmp; echo $?; more -x; echo $?; less -Z f; echo $?; more -dflsu f; "
    "less -EMmN~IFSRsX f; LESS=FRX less f; more < f | wc -c",
    "stty; echo $?; stty -a; stty -g; stty raw -echo; stty -F /dev/null; stty -F /nonexist; stty -F; "
    "stty -F/dev/null size; stty -F /dev/null -F /dev/null; stty -F /tmp; echo $?",
    "stty bogus; stty -x; stty -raw; stty -sane; stty -cs8; stty cs8 -parenb; stty 9600; stty 135; "
    "stty 38400 speed size; stty ispeed 135; stty ospeed x; stty rows; stty rows 0; stty cols 2k; "
    "stty columns -1; stty line 5",
    "stty intr; stty intr ^C; stty erase '^?'; stty kill undef; stty eof ^-; stty quit 300; "
    "stty min 256; stty min 1b; stty time x; stty susp ab; stty -a -g; stty -ag; stty -a raw; "
    "stty -g 9600; stty -; stty - -a; echo $?",
    "stty 500:5:bf:8a3b:3:1c:7f:15:4:0:1:0:11:13:1a:0:12:f:17:16:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0; "
    "stty 500:5:bf:8a3b:3; stty 0x500:5:bf:8a3b:3:1c:7f:15:4:0:1:0:11:13:1a:0:12:f:17:16:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:g; "
    "stty < /dev/null; stty <&-; echo x | stty -a; stty dsusp 1; stty status 1",
]


@pytest.mark.parametrize("script", CASES)
def test_term_cases(same, script):
    same(script)


WORDS = st.sampled_from(
    """raw -raw sane -sane echo -echo cs7 -cs7 ek tabs -tabs lcase LCASE crtscts -crtscts iutf8 tab2
    intr min time eof rows cols columns line size speed ispeed ospeed -a -g -F -ag -aF -x 9600 0 50
    134 135 4000000 4000001 ^C ^? undef ^- 255 256 1k 2b x - -- /dev/null""".split()
)


@settings(max_examples=60, deadline=None)
@given(st.lists(WORDS, max_size=5))
def test_generated_stty_command_lines(same, words):
    same("stty " + " ".join(f"'{w}'" for w in words) + " < /dev/null; echo $?")
