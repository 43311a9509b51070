"""Applets about the system and the process's identity: hostname, id,
whoami, uname, env, mount, umount, ip.

Each asks the kernel the way the real one does -- ``gethostname``/``uname``
for the UTS namespace, ``/proc/self/status`` for groups, ``/proc/mounts``
for the mount table, ``/proc/net/dev`` for network interfaces -- so what it
prints depends on the namespaces the process is in.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from ..sys_api import Sys
from .applet_table import applet
from .libc import (
    complain,
    id_to_name,
    out,
    parse_options,
    read_text,
    show_usage,
    strerror,
)
from .spawn import exec_or_die

Gen = Generator[Any, Any, Any]


@applet("hostname")
def hostname_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "hostname", "sidfF:")
    if opts is None:
        return 1
    new = opts.operands[0] if opts.operands else None
    if "F" in opts:
        text = yield from read_text(sys, opts.value("F") or "")
        new = text.strip().splitlines()[0] if text.strip() else None
    if new is not None:
        try:
            sys.sethostname(new)
        except OSError as e:
            yield from complain(sys, "hostname", f"sethostname: {strerror(e)}")
            return 1
        return 0
    name = sys.gethostname()
    if "d" in opts or "f" in opts or ("i" in opts and "s" in opts):
        return (yield from _canonical_parts(sys, name, opts))
    if "i" in opts:
        from .applets_net_ip import hostname_addresses

        addresses = yield from hostname_addresses(sys, name)
        if not addresses:
            yield from complain(sys, "hostname", f"{name}: Host name lookup failure")
            return 1
        yield from out(sys, " ".join(addresses) + "\n")  # the image's busybox: no trailing space
        return 0
    if "s" in opts:
        name = name.split(".", 1)[0]
    yield from out(sys, name + "\n")
    return 0


def _canonical_parts(sys: Sys, name: str, opts) -> Gen:
    """hostname -f/-s/-d (in that order of precedence) with gethostbyname's
    canonical name of this host's name."""
    from .net_hostent import LookupError_, gethostbyname_name

    try:
        canonical = yield from gethostbyname_name(sys, name)
    except LookupError_ as e:
        yield from complain(sys, "hostname", f"{name}: {e}")
        return 1
    if "f" in opts:
        yield from out(sys, canonical + "\n")
    elif "s" in opts:
        yield from out(sys, canonical.split(".", 1)[0] + "\n")
    elif "." in canonical:
        yield from out(sys, canonical.split(".", 1)[1] + "\n")
    return 0


def _groups(sys: Sys) -> Gen:
    """Supplementary groups, from /proc/self/status (getgroups(2) in C)."""
    status = yield from read_text(sys, "/proc/self/status")
    m = re.search(r"^Groups:[ \t]*(.*)$", status, re.M)
    return [int(g) for g in m.group(1).split()] if m else []


@applet("whoami")
def whoami_main(sys: Sys) -> Gen:
    uid = sys.getuid()
    name = yield from id_to_name(sys, "/etc/passwd", uid)
    if name is None:
        yield from complain(sys, "whoami", f"unknown uid {uid}")
        return 1
    yield from out(sys, name + "\n")
    return 0


@applet("uname")
def uname_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "uname", "asnrvmpio")
    if opts is None:
        return 1
    sysname, nodename, release, version, machine = sys.uname()
    fields = [
        ("s", sysname),
        ("n", nodename),
        ("r", release),
        ("v", version),
        ("m", machine),
        ("p", "unknown"),
        ("i", "unknown"),
        ("o", "GNU/Linux"),
    ]
    if "a" in opts:
        wanted = [v for k, v in fields if k not in "pi"]
    else:
        wanted = [v for k, v in fields if k in opts] or [sysname]
    yield from out(sys, " ".join(wanted) + "\n")
    return 0


@applet("which")
def which_main(sys: Sys) -> Gen:
    """Search $PATH for each COMMAND (a name not found only sets status 1)."""
    opts = yield from parse_options(sys, "which", "a", need_operands=True)
    if opts is None:
        return 1
    path = sys.env.get("PATH", "/sbin:/usr/sbin:/bin:/usr/bin")
    status = 0
    for name in opts.operands:
        candidates = [name] if "/" in name else [f"{d or '.'}/{name}" for d in path.split(":")]
        found = False
        for candidate in candidates:
            try:
                runnable = sys.stat(candidate).kind.value == "file" and sys.access(candidate, 1)
            except OSError:
                runnable = False
            if runnable:
                found = True
                yield from out(sys, candidate + "\n")
                if "a" not in opts:
                    break
        status |= 0 if found else 1
    return status


@applet("env")
def env_main(sys: Sys) -> Gen:
    args = list(sys.argv[1:])
    env = dict(sys.env)
    while args and args[0].startswith("-") and args[0] != "--":
        opt = args.pop(0)
        if opt in ("-i", "-"):
            env = {}
        elif opt == "-u" and args:
            env.pop(args.pop(0), None)
        elif opt == "-0":
            pass
        else:
            yield from complain(sys, "env", f"invalid option -- '{opt[1:2]}'")
            yield from show_usage(sys, "env")
            return 1
    if args and args[0] == "--":
        args.pop(0)
    while args and "=" in args[0]:
        k, _, v = args.pop(0).partition("=")
        env[k] = v
    if not args:
        yield from out(sys, "".join(f"{k}={v}\n" for k, v in env.items()))
        return 0
    return (yield from exec_or_die(sys, "env", args, env))


def _which(sys: Sys, name: str, path: str) -> str:
    if "/" in name:
        return name
    for directory in path.split(":"):
        cand = f"{directory or '.'}/{name}"
        try:
            if sys.stat(cand).kind.value == "file" and sys.access(cand, 1):
                return cand
        except OSError:
            continue
    return name


@applet("mount")
def mount_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "mount", "t:o:arwfnv")
    if opts is None:
        return 1
    if not opts.operands:
        table = yield from read_text(sys, "/proc/mounts")
        lines = []
        wanted = opts.value("t")
        for line in table.splitlines():
            f = line.split()
            if len(f) < 4 or (wanted and f[2] != wanted):
                continue
            lines.append(f"{f[0]} on {f[1]} type {f[2]} ({f[3]})\n")
        yield from out(sys, "".join(lines))
        return 0
    if len(opts.operands) == 1:
        yield from complain(sys, "mount", f"can't find {opts.operands[0]} in /etc/fstab")
        return 255
    source, target = opts.operands[0], opts.operands[1]
    fstype = opts.value("t") or ("bind" if "bind" in (opts.value("o") or "") else "auto")
    options = ",".join(opts.values.get("o", []) + (["ro"] if "r" in opts else []))
    try:
        sys.mount(source, target, fstype, options)
    except OSError as e:
        yield from complain(sys, "mount", f"mounting {source} on {target} failed: {strerror(e)}")
        return 255
    return 0


@applet("umount")
def umount_main(sys: Sys) -> Gen:
    opts = yield from parse_options(sys, "umount", "flrna", need_operands=True)
    if opts is None:
        return 1
    status = 0
    for target in opts.operands:
        try:
            sys.umount(target)
        except OSError as e:
            yield from complain(sys, "umount", f"can't unmount {target}: {strerror(e)}")
            status = 1
    return status


# -- ip -----------------------------------------------------------------------------------


def _interfaces(sys: Sys) -> Gen:
    text = yield from read_text(sys, "/proc/net/dev")
    names = []
    for line in text.splitlines()[2:]:
        name = line.split(":", 1)[0].strip()
        if name:
            names.append(name)
    return names or ["lo"]
