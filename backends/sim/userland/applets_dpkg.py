"""dpkg -- after busybox 1.35's archival/dpkg.c: a package manager whose
database is /var/lib/dpkg/status (paragraphs of control fields plus a
``Status: want flag state`` line) and /var/lib/dpkg/info/PKG.* (the
package's maintainer scripts, conffiles, md5sums and ``.list`` of the
files it installed).

``dpkg -i|-u|-C|-r|-P|-l [-F depends|confnew|confold] ARG...``, one
command: -i unpacks every .deb (control.tar's maintainer files into info/,
preinst run, data.tar into /), then configures each (postinst); -u only
unpacks; -C configures; -r removes all but the conffiles (state
config-files), -P purges (state not-installed); -l lists the status table.
Maintainer scripts run as busybox runs them, ``system(path)`` without
arguments: through /bin/sh, their output going straight to stdout while
dpkg's own lines wait in stdio's buffer.  The database and its quirks
(hash-table order of ``-l``, the dependency check's first complaint) are
in :mod:`.dpkg_db`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from typing import Any

from ..sys_api import O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, Sys
from .applet_table import applet
from .applets_dpkg_deb import accepted_tars
from .applets_tar import Reader, Tar, TarDie, strip_unsafe_prefix
from .dpkg_db import VER_ANY, Database, StatusNode, read_package_field, split_records
from .fnmatch_c import fnmatch
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
from .spawn import wait_status

Gen = Generator[Any, Any, Any]
STATUS = "/var/lib/dpkg/status"
INFO = "/var/lib/dpkg/info"
CONTROL_FILES = (
    "preinst",
    "postinst",
    "prerm",
    "postrm",
    "list",
    "md5sums",
    "shlibs",
    "conffiles",
    "config",
    "templates",
)
# the ar members each pass accepts (busybox's build: no control.tar.lzma)
CONTROL_TARS = ("control.tar", "control.tar.gz", "control.tar.bz2", "control.tar.xz")
DATA_TARS = ("data.tar", "data.tar.gz", "data.tar.bz2", "data.tar.lzma", "data.tar.xz")
LONGOPTS = {
    "configure": "C",
    "force": "F",
    "install": "i",
    "list": "l",
    "purge": "P",
    "remove": "r",
    "unpack": "u",
    "force-depends": "\x01",
    "force-confnew": "\x02",
    "force-confold": "\x03",
}
COMMANDS = "CilPru"


class Dpkg:
    def __init__(self, sys: Sys, opts) -> None:
        self.sys = sys
        self.out = BufferedOutput(sys, 1)
        self.db = Database()
        self.force_depends = "\x01" in opts
        self.confnew = "\x02" in opts
        self.confold = "\x03" in opts

    def warn(self, message: str) -> Gen:
        """bb_error_msg: stdout's buffer first (fflush_all)."""
        yield from self.out.flush()
        yield from complain(self.sys, "dpkg", message)

    # -- files ---------------------------------------------------------------

    def read_file(self, path: str, missing_ok: bool) -> Gen:
        """The file's text, or None when it cannot be opened and
        ``missing_ok`` (fopen_for_read); else xfopen's death."""
        try:
            fd = self.sys.open(path, O_RDONLY, 0)
        except OSError as e:
            if missing_ok:
                return None
            raise Die(f"can't open '{path}': {strerror(e)}") from None
        try:
            data = yield from read_all(self.sys, fd)
        finally:
            close_quietly(self.sys, fd)
        return data.decode("utf-8", "surrogateescape")

    def write_file(self, path: str, text: str) -> Gen:
        try:
            fd = self.sys.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        except OSError as e:
            raise Die(f"can't open '{path}': {strerror(e)}") from None
        try:
            yield from write_all(self.sys, fd, text.encode("utf-8", "surrogateescape"))
        finally:
            close_quietly(self.sys, fd)

    def lines(self, path: str) -> Gen:
        """create_list: the file's lines, or None if it cannot be read."""
        text = yield from self.read_file(path, True)
        if text is None:
            return None
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")

    def exists(self, path: str) -> bool:
        try:
            self.sys.lstat(path)
        except OSError:
            return False
        return True

    # -- the .deb ------------------------------------------------------------

    def tar_members(self, path: str, accept: tuple[str, ...]) -> Gen:
        """unpack_ar_archive with filter_accept_list_reassign: the tar
        archives (decompressed) of the accepted ar members, in order."""
        try:
            fd = self.sys.open(path, O_RDONLY, 0)
        except OSError as e:
            raise Die(f"can't open '{path}': {strerror(e)}") from None
        try:
            data = yield from read_all(self.sys, fd)
        except OSError:
            raise Die("short read") from None
        finally:
            close_quietly(self.sys, fd)
        return list(accepted_tars(data, accept))

    def control_file(self, path: str) -> Gen:
        """deb_extract_control_file_to_buffer for "./control" (a C string:
        cut at the first NUL); None if there is none."""
        found = None
        for tar_data in (yield from self.tar_members(path, CONTROL_TARS)):
            reader = Reader(tar_data)
            while (m := reader.next()) is not None:
                if fnmatch("./control", strip_unsafe_prefix(m.name)):
                    body = reader.data[m.data_offset : m.data_offset + m.size]
                    found = body.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        return found

    def extract(self, path: str, accept: tuple[str, ...], prefix: str, keep, remember: list | None) -> Gen:
        """get_header_tar over the accepted members with dpkg's
        data_extract_all_prefix: names lose their leading "/", "./" and
        "../" and gain ``prefix``; ``keep(name)`` is the filter (True:
        extract, or a new name); ``remember`` collects the names as
        ARCHIVE_REMEMBER_NAMES does."""
        flags = {
            "strip": 0,
            "unlink_old": True,
            "overwrite": False,
            "no_owner": False,
            "numeric": False,
            "no_perm": False,
            "restore_date": False,
            "leading_dirs": False,
        }
        tar = Tar(self.sys, None, 0)
        tar.prog = "dpkg"
        tar.out = self.out
        for tar_data in (yield from self.tar_members(path, accept)):
            reader = Reader(tar_data)
            links: list = []
            try:
                while (m := reader.next()) is not None:
                    name = strip_unsafe_prefix(m.name)
                    verdict = yield from keep(name)
                    if verdict is False:
                        continue
                    dpkg_new = isinstance(verdict, str)
                    if dpkg_new:
                        name = verdict
                    if name.endswith("/"):
                        name = name[:-1]
                    bare = name.lstrip("/")
                    while bare.startswith("."):
                        if bare[1:2] == ".":
                            bare = bare[1:]
                        if bare[1:2] != "/":
                            break
                        bare = bare[2:]
                    if bare:
                        name = prefix + bare
                        body = reader.data[m.data_offset : m.data_offset + m.size]
                        yield from tar.extract(m, name, body, flags, links)
                        if fnmatch("*.dpkg-new", name):
                            name = name[:-9]
                    if remember is not None:
                        remember.append(name)
                for hard, name, target in links:
                    try:
                        if hard:
                            self.sys.link(target, name)
                        else:
                            self.sys.symlink(target, name)
                    except OSError:
                        kind = "hard" if hard else "sym"
                        raise TarDie(f"can't create {kind}link '{name}' to '{target}'") from None
            except TarDie as e:
                raise Die(str(e)) from None

    # -- scripts and file lists ------------------------------------------------

    def run_script(self, package: str, script: str) -> Gen:
        """run_package_script_or_die: system(path) if it exists; a non-zero
        wait status (exit code << 8) is fatal."""
        path = f"{INFO}/{package}.{script}"
        if not self.exists(path):
            return
        code = yield from _system(self.sys, path)
        status = code - 0x180 if code >= 0x180 else code << 8
        if status:
            raise Die(f"{script} failed, exit code {status}")

    def remove_files(self, names: list[str] | None, exclude: list[str] | None) -> bool:
        """remove_file_array: True if anything was removed."""
        if names is None:
            return False
        removed = False
        for name in names:
            if _is_builtin_exclude(name) or (exclude and name in exclude):
                continue
            try:
                st = self.sys.lstat(name)
            except OSError:
                continue
            try:
                if st.kind.value == "dir":
                    self.sys.rmdir(name)
                else:
                    self.sys.unlink(name)
                removed = True
            except OSError:
                pass
        return removed

    def control_list(self, package: str) -> list[str]:
        return [f"{INFO}/{package}.{name}" for name in CONTROL_FILES]

    # -- commands --------------------------------------------------------------

    def list_packages(self, pattern: str | None) -> None:
        self.out.write("    Name           Version\n+++-==============-==============\n")
        for i in sorted(self.db.statuses):
            node = self.db.statuses[i]
            status = node.status or ""
            package = self.db.packages[node.package]
            if pattern is not None and not fnmatch(pattern, package.name):
                continue
            s1 = "i" if status.startswith("i") else "r"
            j = spaces = 0
            while j < len(status) and spaces < 2:
                if status[j] == " ":
                    spaces += 1
                j += 1
            s2 = status[j] if j < len(status) else ""
            line = f"{s1}{s2}  {package.name:<14} {package.version}\n"
            self.out.write(line.encode("utf-8", "surrogateescape"))

    def remove_package(self, package_num: int, noisy: bool) -> Gen:
        package = self.db.packages[package_num]
        name = package.name
        status_num = self.db.search_status(name)
        if noisy:
            self.out.write(f"Removing {name} ({package.version})...\n".encode("utf-8", "surrogateescape"))
        yield from self.run_script(name, "prerm")
        list_name = f"{INFO}/{name}.list"
        conffile_name = f"{INFO}/{name}.conffiles"
        names = yield from self.lines(list_name)
        keep = yield from self.lines(conffile_name)
        while self.remove_files(names, keep):
            pass
        self.remove_files(self.control_list(name), [conffile_name, f"{INFO}/{name}.postrm"])
        try:
            self.sys.rename(conffile_name, list_name)
        except OSError:
            pass
        self.db.set_status(status_num, "config-files", 3)

    def purge_package(self, package_num: int) -> Gen:
        package = self.db.packages[package_num]
        name = package.name
        status_num = self.db.search_status(name)
        self.out.write(f"Purging {name} ({package.version})...\n".encode("utf-8", "surrogateescape"))
        yield from self.run_script(name, "prerm")
        names = yield from self.lines(f"{INFO}/{name}.list")
        while self.remove_files(names, None):
            pass
        controls = self.control_list(name)
        self.remove_files(controls, [f"{INFO}/{name}.postrm"])
        yield from self.run_script(name, "postrm")
        self.remove_files(controls, None)
        self.db.set_status(status_num, "not-installed", 3)

    def unpack_package(self, deb) -> Gen:
        package = self.db.packages[deb.package]
        name = package.name
        status_num = self.db.search_status(name)
        old_package = self.db.statuses[status_num].package
        conffile_list: list[str] = []
        if self.db.status_word(status_num, 3) == "installed":
            old = self.db.packages[old_package]
            self.out.write(
                f"Preparing to replace {name} {old.version} (using {deb.filename})...\n".encode(
                    "utf-8", "surrogateescape"
                )
            )
            if not self.confold:
                conffile_list = (yield from self.lines(f"{INFO}/{name}.md5sums")) or []
            yield from self.remove_package(old_package, False)
        else:
            self.out.write(f"Unpacking {name} (from {deb.filename})...\n".encode("utf-8", "surrogateescape"))
        accept = [f"./{c}" for c in CONTROL_FILES]

        def control_filter(member: str) -> Gen:
            return any(fnmatch(p, member) for p in accept)
            yield  # pragma: no cover

        yield from self.extract(deb.filename, CONTROL_TARS, f"{INFO}/{name}.", control_filter, None)
        yield from self.run_script(name, "preinst")
        if not self.confnew:
            conffile_list = ((yield from self.lines(f"{INFO}/{name}.conffiles")) or []) + conffile_list

        def rename_config(member: str) -> Gen:
            """filter_rename_config: a conffile already there, changed
            since (its md5sum line not in the list), is written as
            FILE.dpkg-new."""
            path = member[1:]
            if not any(fnmatch(p, path) for p in conffile_list):
                return True
            try:
                fd = self.sys.open(path, O_RDONLY, 0)
            except OSError:
                return True
            try:
                data = yield from read_all(self.sys, fd)
            except OSError:
                data = b""
            finally:
                close_quietly(self.sys, fd)
            line = f"{hashlib.md5(data).hexdigest()}  {path}"
            if not any(fnmatch(p, line) for p in conffile_list):
                self.out.write(
                    f"Warning: Creating {path} as {path}.dpkg-new\n".encode("utf-8", "surrogateescape")
                )
                return member + ".dpkg-new"
            return True

        passed: list[str] = []
        yield from self.extract(deb.filename, DATA_TARS, "/", rename_config, passed)
        listing = "".join(f"{p}\n" for p in passed)
        yield from self.write_file(f"{INFO}/{name}.list", listing)
        self.db.set_status(status_num, "install", 1)
        self.db.set_status(status_num, "unpacked", 3)

    def configure_package(self, deb) -> Gen:
        package = self.db.packages[deb.package]
        status_num = self.db.search_status(package.name)
        self.out.write(
            f"Setting up {package.name} ({package.version})...\n".encode("utf-8", "surrogateescape")
        )
        yield from self.run_script(package.name, "postinst")
        self.db.set_status(status_num, "install", 1)
        self.db.set_status(status_num, "installed", 3)

    def write_status_file(self, debs: list) -> Gen:
        db = self.db
        old = yield from self.read_file(STATUS, False)
        parts: list[str] = []
        field_start = 0  # busybox never resets it between paragraphs
        for record in split_records(old):
            k = record.find("Package:")
            if k < 0:
                continue
            name = record[k + 8 :].lstrip(" \n\t").split("\n", 1)[0]
            written = False
            k = record.find("Status:")
            from_file = record[k + 7 :].lstrip(" \n\t").split("\n", 1)[0] if k >= 0 else None
            num = db.search_status(name)
            node = db.statuses.get(num)
            if node is not None and from_file != node.status:
                from_table = node.status or ""
                state = db.status_word(num, 3)
                if state in ("installed", "unpacked"):
                    for deb in debs:
                        if db.packages[deb.package].name == name:
                            parts.append(_fields_but_status(deb.control))
                            db.set_status(num, "ok", 2)
                            parts.append(f"Status: {db.statuses[num].status}\n\n")
                            written = True
                            break
                    else:
                        raise Die(
                            "ALERT: cannot find a control file, your status file may be broken, "
                            f"status may be incorrect for {name}"
                        )
                elif state == "not-installed":
                    parts.append(f"Package: {name}\nStatus: {from_table}\n")
                    while True:
                        step, fname, fvalue = read_package_field(record, field_start)
                        field_start += step
                        if fname is None:
                            break
                        if fname in ("Priority", "Section"):
                            parts.append(f"{fname}: {fvalue}\n")
                    written = True
                    parts.append("\n")
                elif state == "config-files":
                    while True:
                        step, fname, fvalue = read_package_field(record, field_start)
                        field_start += step
                        if fname is None:
                            break
                        if fname == "Status":
                            parts.append(f"Status: {from_table}\n")
                        else:
                            parts.append(f"{fname}: {fvalue}\n")
                    written = True
                    parts.append("\n")
            if not written:
                parts.append(f"{record}\n\n")
        for deb in debs:
            num = db.search_status(db.packages[deb.package].name)
            if db.status_word(num, 2) == "reinstreq":
                parts.append(_fields_but_status(deb.control))
                db.set_status(num, "ok", 2)
                parts.append(f"Status: {db.statuses[num].status}\n\n")
        yield from self.write_file(STATUS + ".udeb", "".join(parts))
        try:
            self.sys.rename(STATUS, STATUS + ".udeb.bak")
        except OSError as e:
            if e.errno != 2:
                raise Die("can't create backup status file") from None
            yield from self.warn("no status file found, creating new one")
        try:
            self.sys.rename(STATUS + ".udeb", STATUS)
        except OSError as e:
            raise Die(f"can't move '{STATUS}.udeb' to '{STATUS}': {strerror(e)}") from None


class DebFile:
    def __init__(self) -> None:
        self.control = ""
        self.filename = ""
        self.package = 0


def _fields_but_status(control: str) -> str:
    """write_buffer_no_status: every field but Status, one per line."""
    out = []
    start = 0
    while True:
        step, name, value = read_package_field(control, start)
        start += step
        if name is None:
            break
        if name != "Status":
            out.append(f"{name}: {value}\n")
    return "".join(out)


def _system(sys: Sys, command: str) -> Gen:
    """glibc's system(): /bin/sh -c COMMAND in a child, its wait4pid code."""

    def child(csys: Sys) -> Gen:
        try:
            yield from csys.execve("/bin/sh", ["sh", "-c", command], dict(csys.env))
        except OSError:
            pass
        return 127

    pid = sys.fork(child)
    return (yield from wait_status(sys, pid))


def _is_builtin_exclude(name: str) -> bool:
    """Directories dpkg never removes: / /etc /opt /srv /var /var/lib and
    [/usr[/local]]/{bin,lib,lib32,lib64,sbin}."""
    if not name.startswith("/"):
        return False
    name = name[1:]
    if name in (".", "etc", "opt", "srv", "var", "var/lib"):
        return True
    if name.startswith("usr/"):
        name = name[4:]
        if name.startswith("local/"):
            name = name[6:]
    return name in ("bin", "lib", "lib32", "lib64", "sbin")


def _usage(sys: Sys, message: str | None) -> Gen:
    if message:
        yield from complain(sys, "dpkg", message)
    yield from show_usage(sys, "dpkg")
    raise Die(None)


@applet("dpkg")
@dies("dpkg")
def dpkg_main(sys: Sys) -> Gen:
    try:
        opts = getopt(sys.argv[1:], COMMANDS + "F:\x01\x02\x03", longopts=LONGOPTS)
    except UsageError as e:
        yield from _usage(sys, e.message)
    if "F" in opts:
        force = opts.value("F")
        flag = {"depends": "\x01", "confnew": "\x02", "confold": "\x03"}.get(force or "")
        if flag is None:
            yield from _usage(sys, None)
        else:
            opts.flags[flag] = 1
    commands = [c for c in COMMANDS if c in opts]
    if len(commands) != 1:
        yield from _usage(sys, None)
    dpkg = Dpkg(sys, opts)
    try:
        return (yield from _run(dpkg, commands[0], opts.operands))
    finally:
        yield from dpkg.out.flush_quietly()


def _run(dpkg: Dpkg, command: str, operands: list[str]) -> Gen:
    db = dpkg.db
    db.index_status_file((yield from dpkg.read_file(STATUS, False)))
    if command == "l":
        dpkg.list_packages(operands[0] if operands else None)
        return 0
    debs: list[DebFile] = []
    for arg in operands:
        deb = DebFile()
        if command in "iu":
            control = yield from dpkg.control_file(arg)
            if control is None:
                raise Die("can't extract control file")
            deb.control, deb.filename = control, arg
            num = db.fill_package(control)
            if num == -1:
                yield from dpkg.warn(f"invalid control file in {arg}")
                continue
            deb.package = num
            status_num = db.search_status(db.packages[num].name)
            node = db.statuses.get(status_num)
            if node is None or not node.status:
                db.statuses[status_num] = StatusNode(num, "install reinstreq not-installed")
            else:
                db.set_status(status_num, "install", 1)
                db.set_status(status_num, "reinstreq", 2)
        else:
            num = db.search_package(arg, "ANY", VER_ANY)
            if num not in db.packages:
                raise Die(f"package {arg} is uninstalled or unknown")
            deb.package = num
            status_num = db.search_status(db.packages[num].name)
            state = db.status_word(status_num, 3)
            if command == "r":
                if state in ("not-installed", "config-files"):
                    raise Die(f"{db.packages[num].name} is already removed")
                db.set_status(status_num, "deinstall", 1)
            elif command == "P":
                if state == "not-installed":
                    raise Die(f"{db.packages[num].name} is already purged")
                db.set_status(status_num, "purge", 1)
        debs.append(deb)
    if not debs:
        raise Die("no package files specified")
    if not dpkg.force_depends:
        db.check_deps([d.package for d in debs])
    for deb in debs:
        if command == "r":
            yield from dpkg.remove_package(deb.package, True)
        elif command == "P":
            yield from dpkg.purge_package(deb.package)
        elif command in "ui":
            yield from dpkg.unpack_package(deb)
        elif command == "C":
            yield from dpkg.configure_package(deb)
    if command == "i":
        for deb in debs:
            yield from dpkg.configure_package(deb)
    yield from dpkg.write_status_file(debs)
    return 0
