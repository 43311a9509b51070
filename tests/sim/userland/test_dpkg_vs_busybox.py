"""dpkg on the simulator against REAL busybox dpkg: both run in a room of
their own (the host oracle is an `unshare --root` tree), so the database
under /var/lib/dpkg is each one's own.  Small .deb files are written here
(ar + tar, maintainer scripts, conffiles, dependencies); each script
installs, unpacks, configures, removes and purges them and prints what
dpkg leaves: its output and exit status, the status file, info/ and the
installed files.  Hypothesis writes sets of packages with generated
versions, dependencies and files and installs/removes them in generated
orders."""

from __future__ import annotations

import gzip
import io
import lzma
import tarfile

import pytest
from archive_writers import make_ar
from hypothesis import given, settings
from hypothesis import strategies as st


def make_tar(entries, compression: str = "gz") -> bytes:
    """entries: (name, data, mode) -- data None for a directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.uname, info.gname = 1700000000, "root", "root"
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            else:
                info.size, info.mode = len(data), mode
                t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    if compression == "gz":
        return gzip.compress(raw)
    return lzma.compress(raw) if compression == "xz" else raw


def make_deb(control: str, scripts=None, data=(), *, comp: str = "gz") -> bytes:
    """A .deb: ``control`` text, ``scripts`` {name: text} in control.tar
    (maintainer scripts executable), ``data`` (name, bytes|None) under ./"""
    ctl = [("./", None, 0), ("./control", control.encode(), 0o644)]
    for name, text in (scripts or {}).items():
        mode = 0o755 if name in ("preinst", "postinst", "prerm", "postrm") else 0o644
        ctl.append((f"./{name}", text.encode(), mode))
    dirs = sorted(
        {"./" + "/".join(n.split("/")[: i + 1]) + "/" for n, _ in data for i in range(n.count("/"))}
    )
    files = [(d, None, 0) for d in dirs] + [(f"./{n}", d, 0o644) for n, d in data]
    ext = {"gz": ".gz", "xz": ".xz", "": ""}[comp]
    return make_ar(
        [
            (b"debian-binary", b"2.0\n", {}),
            (b"control.tar" + ext.encode(), make_tar(ctl, comp), {}),
            (b"data.tar" + ext.encode(), make_tar([("./", None, 0), *files], comp), {}),
        ]
    )


def script(body: str) -> str:
    return "#!/bin/sh\n" + body + "\n"


FILES = {
    "/work/a.deb": make_deb(
        "Package: a\nVersion: 1.0-1\nDepends: b (>= 2)\nDescription: needs b\n two lines\n",
        {
            "postinst": script('echo "postinst a $#"'),
            "prerm": script("echo prerm a"),
            "md5sums": "x  usr/bin/a\n",
        },
        [("usr/bin/a", b"a\n"), ("usr/share/a/doc", b"doc\n")],
    ),
    "/work/b.deb": make_deb(
        "Package: b\nVersion: 2.1\nPriority: optional\nSection: misc\nProvides: bee\n",
        {
            "conffiles": "/etc/b.conf\n",
            "postrm": script('echo "postrm b"; ls /var/lib/dpkg/info'),
            "preinst": script("echo preinst b"),
        },
        [("etc/b.conf", b"b=1\n"), ("usr/bin/b", b"b\n")],
        comp="xz",
    ),
    "/work/b3.deb": make_deb(
        "Package: b\nVersion: 3\n", {"conffiles": "/etc/b.conf\n"}, [("etc/b.conf", b"b=3\n")]
    ),
    "/work/c.deb": make_deb(
        "Package: c\nVersion: 1:0.9\nDepends: x | bee\nConflicts: d\nPre-Depends: b\n",
        {"postinst": script("exit 3")},
        [("usr/bin/c", b"c\n")],
        comp="",
    ),
    "/work/d.deb": make_deb("Package: d\nVersion: 1\nConflicts: b (<< 9)\n", {}, [("opt/d", b"d\n")]),
    "/work/e.deb": make_deb("Package: e\nVersion: 1\nDepends: zzz (>= 1), b\n", {}, []),
    "/work/noversion.deb": make_deb("Package: nov\n", {}, []),
    "/work/nocontrol.deb": make_ar([(b"debian-binary", b"2.0\n", {}), (b"data.tar", make_tar([]), {})]),
    "/work/notar.deb": b"garbage\n",
}
SHOW = (
    "echo ==status; cat /var/lib/dpkg/status; echo ==info; ls /var/lib/dpkg/info; "
    "echo ==lists; cat /var/lib/dpkg/info/*.list 2>/dev/null; echo ==files; "
    "find /usr /etc /opt 2>/dev/null | sort; echo ==l; dpkg -l"
)
FRESH = "rm -rf /var/lib/dpkg /usr /etc/b.conf* /opt; mkdir -p /var/lib/dpkg/info; : > /var/lib/dpkg/status; "

CASES = [
    # install with a dependency missing, then in one go; postinst sees no arguments
    "dpkg -i a.deb; echo $?; dpkg -i b.deb a.deb; echo $?; " + SHOW,
    # remove keeps conffiles and postrm; purge runs postrm and leaves a stub
    "dpkg -i b.deb a.deb >/dev/null; dpkg -r b; echo $?; dpkg -r a; echo $?; "
    + SHOW
    + "; dpkg -r b; echo $?; dpkg -P b; echo $?; cat /etc/b.conf; dpkg -P b; echo $?; dpkg -P a; echo $?; "
    + SHOW,
    # upgrade with a changed conffile: FILE.dpkg-new; confnew overwrites; confold keeps
    "dpkg -i b.deb >/dev/null; echo changed > /etc/b.conf; dpkg -i b3.deb; echo $?; cat /etc/b.conf*; "
    "dpkg -F confnew -i b.deb; echo $?; cat /etc/b.conf; ls /etc; dpkg --force-confold -i b3.deb; " + SHOW,
    # unpack then configure; a failing postinst; pre-depends and alternatives via Provides
    "dpkg -u b.deb; echo $?; dpkg -l; dpkg -i c.deb; echo $?; dpkg -C b; echo $?; dpkg -i c.deb; echo $?; "
    + SHOW,
    # scripts' output goes before dpkg's buffered lines; a failing postinst; a postrm not executable
    "dpkg -i b.deb; dpkg -i c.deb; echo $?; chmod -x /var/lib/dpkg/info/b.postrm; dpkg -F depends -P b; echo $?; "
    "dpkg -i b.deb 2>&1 | cat; " + SHOW,
    # conflicts, -F depends, unknown packages, invalid control files, broken files
    "dpkg -i b.deb >/dev/null; dpkg -i d.deb; echo $?; dpkg -i e.deb; echo $?; dpkg -F depends -i e.deb; echo $?; "
    "dpkg -i noversion.deb; echo $?; dpkg -i nocontrol.deb; echo $?; dpkg -i notar.deb; echo $?; "
    "dpkg -i nosuch.deb; echo $?; dpkg -r zz; echo $?; dpkg -C e; echo $?; " + SHOW,
    # usage: no command, two commands, bad -F, bad options; -l patterns; no status file
    "dpkg; echo $?; dpkg -i -r a; echo $?; dpkg -F what -i a.deb; echo $?; dpkg -x; echo $?; "
    "dpkg --bogus; echo $?; dpkg -L a; echo $?; dpkg --configure; echo $?; dpkg -i; echo $?; dpkg -i b.deb a.deb >/dev/null; dpkg -l 'a*'; dpkg --list b; "
    "dpkg a.deb --install; echo $?; rm /var/lib/dpkg/status; dpkg -l; echo $?",
]


@pytest.mark.parametrize("case", CASES)
def test_dpkg_cases(same, case):
    same(FRESH + case, files=FILES)


NAMES = ["p", "q", "r"]
VERSIONS = st.sampled_from(["1", "1.0", "1.0-1", "2:0.1", "1~rc1", "1a", "1.10", "1.9"])
DEP = st.tuples(
    st.sampled_from(NAMES + ["virt"]), st.sampled_from(["", " (>= 1.0)", " (<< 2)", " (= 1.0-1)"])
)


@st.composite
def packages(draw):
    debs = {}
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)):
        control = f"Package: {name}\nVersion: {draw(VERSIONS)}\n"
        deps = draw(st.lists(DEP, max_size=2))
        if deps:
            control += "Depends: " + ", ".join(n + v for n, v in deps) + "\n"
        if draw(st.booleans()):
            control += "Provides: virt\n"
        files = draw(
            st.lists(
                st.sampled_from(["usr/bin/x", f"usr/bin/{name}", "etc/shared", f"var/{name}"]), unique=True
            )
        )
        conffiles = "".join(f"/{f}\n" for f in files if f.startswith("etc/"))
        debs[f"/work/{name}.deb"] = make_deb(
            control, {"conffiles": conffiles} if conffiles else {}, [(f, name.encode()) for f in files]
        )
    return debs


@settings(max_examples=12, deadline=None)
@given(
    debs=packages(),
    actions=st.lists(
        st.sampled_from(["-i", "-r", "-P", "-F depends -i", "-u", "-C"]), min_size=1, max_size=4
    ),
)
def test_generated_sessions(same, debs, actions):
    names = [p.rsplit("/", 1)[1] for p in debs]
    steps = []
    for k, action in enumerate(actions):
        target = names[k % len(names)]
        arg = target if action.endswith("-i") or action == "-u" else target[:-4]
        steps.append(f"dpkg {action} {arg}; echo $?")
    same(FRESH + "; ".join(steps) + "; " + SHOW, files=debs)
