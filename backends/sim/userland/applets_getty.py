"""getty -- after busybox 1.35's loginutils/getty.c (with libbb's
print_login_issue and print_login_prompt).

``getty [-hiLmnw] [-I INIT] [-H HOST] [-f ISSUE] [-l LOGIN] [-t SEC]
BAUD[,BAUD]... TTY [TERM]`` (or ``TTY BAUD...``; TTY ``-`` is stdin): the
arguments are checked first, with ordinary errors on stderr ("bad speed",
"too many alternate speeds", -t's number, the usage).  Then stdout and
stderr become /dev/null, TTY is opened as stdin (``/dev/`` in front of a
bare name; chown 0:0, mode 0620) and duplicated to stdout and stderr, and
set raw: no echo, no line editing, output still ``\\n`` -> ``\\r\\n``.
From there an error is busybox's die_func: the message goes to the
terminal (and syslog) and getty sleeps 10 seconds before it exits 1.
It writes -I's string, waits for CR or LF (-w), prints the issue file
(/etc/issue or -f's; not with -i) after an empty line, with its escapes
(``\\s \\n \\h \\r \\v \\m \\o \\O \\D \\d \\t \\l``, ``%`` alike), then
"HOST login: ", and reads the name byte by byte, echoing it itself
(BS/DEL erase, ^U kills the line, ^C/^D end getty with status 0, NUL
switches to the next speed if there are several, CR or LF ends the name,
an empty name asks again).  The terminal gets back its line editing
(ICRNL if the name ended with CR) and getty execs ``LOGIN -- NAME``
(``LOGIN --`` with -n).  -t SEC ends it (status 0) if no name was read
in time.

Not modelled (SIMPLIFICATIONS.md): the simulator has no sessions or
process groups, so setsid/TIOCSCTTY/tcsetpgrp have nothing to do; no line
speeds or c_cflag (the speeds are checked, -h -L change nothing), -m's
baud detection reads what is waiting after a second and changes nothing;
no utmp record (-H), no syslog copy of the errors.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..sys_api import O_RDWR, Sys, Termios
from . import timefmt
from .applet_table import applet
from .libc import Die, UsageError, complain, getopt, show_usage, xatou
from .spawn import bb_execvp

Gen = Generator[Any, Any, Any]

SPEEDS = frozenset(
    [0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600]
    + [115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000]
    + [2500000, 3000000, 3500000, 4000000]
)
MAX_SPEED = 10
ISSUE = "/etc/issue"
LOGIN_PROGRAM = "/bin/login"
LINE_MAX = 128  # bb_common_bufsiz1 is far larger; a name longer than this is cut here too
DIE_SLEEP = 10

# <asm-generic/termbits.h>
ICRNL, IXON, IXOFF = 0o400, 0o2000, 0o10000
OPOST, ONLCR = 0o1, 0o4
ISIG, ICANON, ECHO, ECHOE, ECHOK, ECHOCTL, ECHOKE = 0o1, 0o2, 0o10, 0o20, 0o40, 0o1000, 0o4000
VINTR, VQUIT, VERASE, VKILL, VEOF, VTIME, VMIN, VSWTC, VEOL = 0, 1, 2, 3, 4, 5, 6, 7, 11


class _Done(Exception):
    """exit(status) from deep inside (^C, ^D, end of input, -t's alarm)."""

    def __init__(self, status: int) -> None:
        self.status = status


def _bad_speed(text: str) -> bool:
    """bcode() < 0: not all digits, too big for an int, or no such speed."""
    return not (text.isdigit() and text.isascii()) or int(text) > 2**31 - 1 or int(text) not in SPEEDS


@applet("getty")
def getty_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "I:LH:f:hil:mt:wn", permute=True)
    except UsageError as e:
        if e.message:
            yield from complain(sys, "getty", e.message)
        yield from show_usage(sys, "getty")
        return 1
    try:
        timeout = xatou(opts.value("t") or "", 0, 2**31 - 1) if "t" in opts else 0
    except Die as e:
        yield from complain(sys, "getty", e.message or "")
        return 1
    args = opts.operands
    if len(args) < 2:
        yield from show_usage(sys, "getty")
        return 1
    initstring = _escapes(opts.value("I") or "") if "I" in opts else None
    tty_name, speeds = args[0], args[1]
    if args[0][:1].isdigit():  # "baudrate tty", BSD style
        tty_name, speeds = args[1], args[0]
    count = 0
    for speed in speeds.split(","):
        if _bad_speed(speed):
            yield from complain(sys, "getty", f"bad speed: {speed}")
            return 1
        count += 1
        if count > MAX_SPEED:
            yield from complain(sys, "getty", "too many alternate speeds")
            return 1
    if len(args) > 2:
        sys.env["TERM"] = args[2]
    # setsid(), and a session leader's TIOCNOTTY: no sessions in the simulator
    try:
        return (yield from _on_the_tty(sys, opts, tty_name, count, initstring, timeout))
    except _Done as done:
        return done.status
    except _Dying as dying:
        # die_func: logmode BOTH -- stderr (the terminal by now) with msg_eol "\r\n"
        try:
            sys.write(2, f"{dying.name}: {dying.message}\r\n".encode("latin-1", "replace"))
        except OSError:
            pass
        yield from sys.sleep(DIE_SLEEP)
        return 1


class _Dying(Exception):
    def __init__(self, name: str, message: str) -> None:
        self.name, self.message = name, message


def _on_the_tty(
    sys: Sys, opts: Any, tty_name: str, numspeed: int, initstring: str | None, timeout: int
) -> Gen:
    n = sys.open("/dev/null", O_RDWR)
    sys.dup2(n, 1)
    sys.dup2(n, 2)
    while n > 2:
        try:
            sys.close(n)
        except OSError:
            pass
        n -= 1
    name = "getty"
    if tty_name != "-":
        if not tty_name.startswith("/"):
            tty_name = "/dev/" + tty_name
        short = tty_name[5:] if tty_name.startswith("/dev/") else tty_name
        try:
            sys.close(0)
        except OSError:
            pass
        try:
            sys.open(tty_name, O_RDWR)
        except OSError as e:
            raise _Dying(name, f"can't open '{tty_name}': {_strerror(e)}") from None
        for change in (lambda: sys.chown(tty_name, 0, 0), lambda: sys.chmod(tty_name, 0o620)):
            try:
                change()
            except OSError:
                pass
    else:
        try:
            tty_name = sys.ttyname(0)
        except OSError:
            pass
        short = tty_name[5:] if tty_name.startswith("/dev/") else tty_name
    name = f"getty: {short}"  # applet_name from here on
    sys.dup2(0, 1)
    sys.dup2(0, 2)
    try:
        attrs = sys.tcgetattr(0)
    except OSError as e:
        raise _Dying(name, f"tcgetattr: {_strerror(e)}") from None
    try:
        sys.tcflush(0)
    except OSError:
        pass
    cc = dict(attrs.cc)
    cc[VMIN], cc[VTIME] = 1, 0
    tty = _Tty(sys, name, Termios(0, OPOST | ONLCR, 0, tuple(sorted(cc.items()))))
    tty.apply()
    if initstring is not None:
        _write(sys, initstring.encode("latin-1"))
    if "m" in opts:
        yield from sys.sleep(1)  # auto_baud: what the modem said in a second; no speeds to set here
        if sys.poll_in(0):
            yield from sys.read(0, 255)
    tty.deadline = sys.time() + timeout if timeout else None
    if "w" in opts:
        while True:
            c = yield from tty.getc(safe=True)
            if c is None or c in (b"\n", b"\r"):
                break
    logname = None
    if "n" not in opts:
        while True:
            logname = yield from _get_logname(sys, tty, opts, tty_name, numspeed)
            if logname is not None:
                break
            # a BREAK: the next speed (cfsetspeed and tcsetattr; no speeds here)
            tty.apply()
    tty.finalize()
    login = opts.value("l") or LOGIN_PROGRAM
    argv = [login, "--"] + ([logname] if logname is not None else [])
    try:
        yield from bb_execvp(sys, argv)
    except OSError:
        pass
    raise _Dying(name, f"can't execute '{login}'")


class _Tty:
    def __init__(self, sys: Sys, name: str, attrs: Termios) -> None:
        self.sys, self.name, self.attrs = sys, name, attrs
        self.eol = b"\r"
        self.deadline: float | None = None

    def apply(self) -> None:
        try:
            self.sys.tcsetattr(0, self.attrs)
        except OSError as e:
            raise _Dying(self.name, f"tcsetattr: {_strerror(e)}") from None

    def set_cc(self, index: int, value: int) -> None:
        cc = dict(self.attrs.cc)
        cc[index] = value
        self.attrs = Termios(self.attrs.iflag, self.attrs.oflag, self.attrs.lflag, tuple(sorted(cc.items())))

    def finalize(self) -> None:
        """finalize_tty_attrs: line editing back, then the newline."""
        a = self.attrs
        iflag = a.iflag | IXON | IXOFF | (ICRNL if self.eol == b"\r" else 0)
        lflag = a.lflag | ICANON | ISIG | ECHO | ECHOE | ECHOK | ECHOKE | ECHOCTL
        cc = dict(a.cc)
        cc.update({VINTR: 3, VQUIT: 0x1C, VEOF: 4, VEOL: 10, VSWTC: 0, VKILL: 0x15})
        self.attrs = Termios(iflag, a.oflag, lflag, tuple(sorted(cc.items())))
        self.apply()
        _write(self.sys, b"\n")

    def getc(self, safe: bool = False) -> Gen:
        """One byte; None at end of input or error.  -t's alarm (the
        handler finalizes and exits 0) is a deadline on the clock."""
        while self.deadline is not None and not self.sys.poll_in(0):
            if self.sys.time() >= self.deadline:
                self.finalize()
                raise _Done(0)
            yield from self.sys.sleep(0.1)
        try:
            data = yield from self.sys.read(0, 1)
        except OSError:
            return None
        return data or None


def _get_logname(sys: Sys, tty: _Tty, opts: Any, tty_name: str, numspeed: int) -> Gen:
    yield from sys.sleep(0.1)
    try:
        sys.tcflush(0)
    except OSError:
        pass
    line = bytearray()
    while not line:
        if "i" not in opts:
            yield from _print_issue(sys, opts.value("f") or ISSUE, tty_name)
        _write(sys, (sys.gethostname() + " login: ").encode("latin-1", "replace"))
        line = bytearray()
        while True:
            c = yield from tty.getc()
            if c is None:
                # read() < 1: EINTR/EIO (a hangup) or end of file exit 0 silently
                tty.finalize()
                raise _Done(0)
            if c in (b"\r", b"\n"):
                tty.eol = c
                break
            if c in (b"\x08", b"\x7f"):
                tty.set_cc(VERASE, c[0])
                if line:
                    _write(sys, b"\x08 \x08")
                    line.pop()
            elif c == b"\x15":
                while line:
                    _write(sys, b"\x08 \x08")
                    line.pop()
            elif c in (b"\x03", b"\x04"):
                tty.finalize()
                raise _Done(0)
            elif c == b"\0" and numspeed > 1:
                return None
            elif c[0] >= 0x20 and len(line) < LINE_MAX - 1:
                _write(sys, c)
                line += c
    return line.decode("latin-1")


def _print_issue(sys: Sys, path: str, tty_name: str) -> Gen:
    """libbb's print_login_issue: "\\r\\n", then the file with its escapes."""
    _write(sys, b"\r\n")
    try:
        fd = sys.open(path, 0)
    except OSError:
        return
    data = bytearray()
    try:
        while True:
            chunk = yield from sys.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        sys.close(fd)
    sysname, nodename, release, version, machine = sys.uname()
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        i += 1
        piece = b"\n\r" if c == 10 else bytes([c])
        if c in (0x5C, 0x25):  # \ or %
            if i >= len(data):
                piece = b"\xff"  # fgetc's EOF (-1) stored as a char
            else:
                e = chr(data[i])
                i += 1
                fields = {"s": sysname, "S": sysname, "n": nodename, "h": nodename, "r": release}
                fields.update({"v": version, "m": machine, "l": tty_name})
                fields.update(dict.fromkeys("DoO", _domainname(sys)))
                if e in fields:
                    piece = fields[e].encode("latin-1", "replace")
                elif e in "dt":
                    zone = yield from timefmt.load_zone(sys)
                    tm = timefmt.localtime(zone, int(sys.wall_time()))
                    piece = timefmt.strftime("%A, %d %B %Y" if e == "d" else "%H:%M:%S", tm).encode()
                else:
                    piece = bytes([data[i - 1]])
        out += piece
    _write(sys, bytes(out))


def _domainname(sys: Sys) -> str:
    """uname's domainname: the UTS namespace's NIS domain name, "(none)" unset."""
    getter = getattr(sys, "getdomainname", None)
    return getter() if getter is not None else "(none)"


def _write(sys: Sys, data: bytes) -> None:
    try:
        sys.write(1, data)
    except OSError:
        pass


def _strerror(e: OSError) -> str:
    from .libc import strerror

    return strerror(e)


def _escapes(text: str) -> str:
    """strcpy_and_process_escape_sequences for -I."""
    from .applets_lines import _escapes as process

    return "".join(process(text))
