"""sysctl -- after busybox 1.35's procps/sysctl.c: it reads and writes the
files of /proc/sys, here the simulated kernel's (backends/sim/procfs.py),
so what it shows is what the simulator models: kernel.hostname,
domainname, osrelease, ostype, version, pid_max.

A key is a path under /proc/sys with dots for slashes; busybox turns the
fewest dots it can into slashes, from the right, keeping a dot wherever
the shorter name does not exist (net.ipv4.conf.eth0.100 -> .../eth0.100),
and prints keys back with the two swapped.
"""

from __future__ import annotations

import errno
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .libc import (
    BufferedOutput,
    Die,
    UsageError,
    close_quietly,
    complain,
    dies,
    getopt,
    read_all,
    show_usage,
    strerror,
    write_all,
)

Gen = Generator[Any, Any, Any]
F_OK = 0
_SPACE = " \t\n\v\f\r"  # isspace()


class _Sysctl:
    def __init__(self, sys: Sys, flags: set[str]) -> None:
        self.sys = sys
        self.show_keys = "n" not in flags
        self.key_errors = "e" not in flags
        self.write = "w" in flags or "p" in flags
        self.quiet = "q" in flags
        self.out = BufferedOutput(sys, 1)

    def complain(self, message: str) -> Gen:
        yield from self.out.flush()  # fflush_all before the message, as libbb does
        yield from complain(self.sys, "sysctl", message)

    def _exists(self, path: str) -> bool:
        try:
            return bool(path) and self.sys.access(path, F_OK)
        except OSError:
            return False

    def dots_to_slashes(self, name: str) -> str:
        chars = list(name)
        end = name.find("=")
        end = len(chars) if end < 0 else end
        slash = name.find("/")
        slash = len(chars) if slash < 0 else slash
        dot = name.find(".")
        dot = len(chars) if dot < 0 else dot
        if slash < end and dot < slash:
            # procps's a.b/c.d form: dots and slashes simply swap
            for i in range(end):
                chars[i] = {".": "/", "/": "."}.get(chars[i], chars[i])
            return "".join(chars)
        if end == len(chars):
            chars.append("")
        end_ch = chars[end]
        chars[end] = "."  # the loop tries the whole name too
        last_good = -1
        cptr = end
        while cptr > last_good:
            if chars[cptr] == "." and self._exists("".join(chars[:cptr])):
                chars[cptr] = "/"
                last_good = cptr
                cptr = end  # start over, but never left of the last replacement
                continue
            cptr -= 1
        chars[end] = end_ch
        return "".join(chars)

    def act_on_setting(self, setting: str) -> Gen:
        sys = self.sys
        outname = "".join({"/": ".", ".": "/"}.get(c, c) for c in setting)
        eq = setting.find("=")
        writing = self.write or eq >= 0
        value = ""
        if writing:
            if eq < 0:
                yield from self.complain(f"error: '{outname}' must be of the form name=value")
                return 1
            if eq == 0:
                yield from self.complain(f"error: malformed setting '{outname}'")
                return 1
            value = setting[eq + 1 :]
            setting, outname = setting[:eq], outname[:eq]
        try:
            fd = sys.open(setting, O_WRONLY | O_CREAT | O_TRUNC if writing else O_RDONLY, 0o666)
        except OSError as e:
            if e.errno == errno.ENOENT:
                if self.key_errors:
                    yield from self.complain(f"error: '{outname}' is an unknown key")
            elif e.errno == errno.EACCES and not writing:
                return 0  # a write-only setting: skipped when reading
            else:
                verb = "sett" if writing else "read"
                yield from self.complain(f"error {verb}ing key '{outname}': {strerror(e)}")
            return 1
        try:
            if writing:
                try:
                    yield from write_all(sys, fd, value.encode("utf-8", "surrogateescape"))
                except OSError as e:
                    raise Die(f"write error: {strerror(e)}") from None
                if not self.quiet:
                    if self.show_keys:
                        self.out.write(f"{outname} = ")
                    self.out.write(value + "\n")
                return 0
            try:
                data = yield from read_all(sys, fd)
            except OSError as e:
                yield from self.complain(f"error reading key '{outname}': {strerror(e)}")
                return 1
        finally:
            close_quietly(sys, fd)
        data = data.split(b"\0", 1)[0]  # printed as a C string
        prefix = f"{outname} = ".encode("utf-8", "surrogateescape") if self.show_keys else b""
        for line in data.splitlines(keepends=True):
            self.out.write(prefix + line)
        yield from self.out.drain()
        return 0

    def act_recursive(self, path: str) -> Gen:
        sys = self.sys
        is_dir = False
        if not self.write and "=" not in path:
            try:
                is_dir = sys.stat(path).kind == "dir"
            except OSError:
                pass
        if not is_dir:
            return (yield from self.act_on_setting(path))
        try:
            names = sys.listdir(path)
        except OSError:
            return -1
        status = 0
        for name in names:
            sub = path + ("" if path.endswith("/") else "/") + name.lstrip("/")
            status |= yield from self.act_recursive(sub[2:] if sub.startswith("./") else sub)
        return status

    def preload(self, filename: str) -> Gen:
        """-p FILE: ``key = value`` lines, ``#`` and ``;`` comments, backslash
        continuations (libbb's config_read with sysctl's flags)."""
        sys = self.sys
        try:
            fd = 0 if filename == "-" else sys.open(filename, O_RDONLY)
        except OSError as e:
            yield from self.complain(f"{filename}: {strerror(e)}")
            return
        try:
            data = yield from read_all(sys, fd)
        except OSError:  # a directory: getline fails, the file has no lines
            data = b""
        finally:
            close_quietly(sys, fd)
        self.chdir("/proc/sys")
        lines = data.decode("utf-8", "surrogateescape").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        lineno = i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            lineno += 1
            while line.endswith("\\") and i < len(lines):
                line = line[:-1] + lines[i]
                i += 1
                lineno += 1
            if line.lstrip(" \t\n\v\f\r")[:1] in ("", "#", ";"):
                continue
            key, _eq, value = line.partition("=")
            if not value or value.startswith("#"):  # "key=" is one token, not two
                yield from self.complain(f"bad line {lineno}: 1 tokens found, 2 needed")
                continue
            key = self.dots_to_slashes(key.strip(_SPACE))
            yield from self.act_on_setting(key + "=" + value.strip(_SPACE))

    def chdir(self, path: str) -> None:
        try:
            self.sys.chdir(path)
        except OSError as e:
            raise Die(f"can't change directory to '{path}': {strerror(e)}") from None


@applet("sysctl")
@dies("sysctl")
def sysctl_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], "neAapwq", permute=False)
    except UsageError as e:
        yield from complain(sys, "sysctl", e.message or "")
        yield from show_usage(sys, "sysctl")
        return 1
    ctl = _Sysctl(sys, set(opts.flags))
    try:
        if "p" in opts:
            here = sys.getcwd()
            for filename in opts.operands or ["/etc/sysctl.conf"]:
                yield from ctl.preload(filename)
                ctl.chdir(here)  # the files may be relative
            return 0
        ctl.chdir("/proc/sys")
        if "A" in opts or "a" in opts:
            return (yield from ctl.act_recursive(".")) & 0xFF
        status = 0
        for arg in opts.operands:
            status |= yield from ctl.act_recursive(ctl.dots_to_slashes(arg))
        return status & 0xFF
    finally:
        yield from ctl.out.flush()
