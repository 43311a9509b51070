"""su on the simulator against REAL busybox (on the real kernel: the uid,
gid and groups it sets are the kernel's): root switching to other users
with -c, -s, -l/-, -m/-p and arguments; a non-root caller refused as
busybox refuses without its set-uid bit; unknown users, bad shells."""

from __future__ import annotations

import pytest

CASES = [
    # the image's users have /bin/false as shell: -c runs "false -c id"
    "su -c id nobody; echo $?; su nobody -s /bin/sh -c 'id; echo $HOME $USER $SHELL $LOGNAME; pwd'; "
    "su nosuch; echo $?; su -s /bin/sh mail -c 'id; ps -o user,comm | head -2'; su -s /nosuch mail; echo $?; "
    "su -s /bin/sh -c 'echo $0 $1 $2' nobody a b; su -s /bin/sh nobody -c 'exit 3'; echo $?; "
    "echo 'echo in; id -u' | su -s /bin/sh nobody; su -x; echo $?",
    # not root: busybox is not set-uid, so su refuses before asking a password
    "su nobody -s /bin/sh -c 'su -c id root </dev/null; echo $?; echo | su -c id root; echo $?; "
    "echo x | su; echo $?; su -c id nobody; echo $?; su -x; echo $?'",
    # login shells (-sh), a cleared environment, busybox's PATHs, home directories
    "su - nobody -s /bin/sh -c 'pwd; env | sort'; su -l -s /bin/sh -c 'echo $0' nobody; "
    "su -c 'id; echo $PATH $HOME; pwd' -l; su -l -s /bin/sh www-data -c pwd; echo $?; "
    "su - -c 'echo $USER $HOME'; TERM=xx FOO=1 su - -c 'env | sort'; su root sh -c 'echo $0'; "
    "su -m -c 'echo $SHELL $HOME'; cd /; su -l -s /bin/sh daemon -c pwd; su -s /bin/sh -l bin -c 'echo $PATH; pwd'; "
    "SHELL=/bin/ash su -p nobody -c 'echo $0 $USER'",
]


@pytest.mark.parametrize("script", CASES)
def test_su_cases(same, script):
    same(script)
