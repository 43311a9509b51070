"""Volumes, bind mounts, tmpfs, --read-only and docker cp: the same docker CLI
commands against the suite's private dockerd (20.10) and the stepbox daemon,
on both kernels behind it -- same exit codes, same output once the paths
and random IDs each daemon makes are named alike.

The CLI speaks API 1.41 to both (``DOCKER_API_VERSION``): what dockerd 20.10
speaks.  Two things depend on that version and are compared at 1.41 here:
``volume prune`` removes every unused volume (from 1.42 only anonymous
ones) and ``:ro`` binds are read-only at the top mount only (from 1.44,
where the kernel can, all the way down: tests/diff/test_mounts_agree.py).
Where dockerd 20.10 differs from the Docker 25 stepbox follows, the test
says so: anonymous volumes carry Docker 25's label.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile

import pytest
from stepbox.core.image.archive import save
from stepbox.core.image.bootstrap import ensure_busybox

from tests.core.engines import runtime_on
from tests.support.dockerd import DockerDaemon, unavailable_reason

from .conftest import DOCKER, Result, needs_docker_cli

pytestmark = [needs_docker_cli, pytest.mark.slow]
API = "1.41"
ANONYMOUS = "com.docker.volume.anonymous"


@pytest.fixture(scope="module")
def dockerd():
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"the comparison needs a private dockerd: {reason}")
    daemon = DockerDaemon()
    try:
        daemon.start()
        runtime, cleanup = runtime_on("sim")
        try:
            image = ensure_busybox(runtime.images, runtime.kernel)
            buf = io.BytesIO()
            save(runtime.images, [(image, ["busybox:latest"])], buf)
            daemon.load(buf.getvalue())
        finally:
            cleanup()
        yield daemon
    finally:
        daemon.stop()


class Side:
    """The docker CLI pointed at one daemon, with a host directory of its own
    for bind sources."""

    def __init__(self, name: str, host: str, root: str):
        self.name, self.root = name, root
        self.config = tempfile.mkdtemp(prefix=f"sbx-{name}-config-")
        self.work = tempfile.mkdtemp(prefix=f"sbx-{name}-work-")
        self.env = {
            **os.environ,
            "DOCKER_HOST": host,
            "DOCKER_CONFIG": self.config,
            "DOCKER_API_VERSION": API,
            "DOCKER_CLI_HINTS": "false",
            "DOCKER_BUILDKIT": "0",
        }
        self.env.pop("DOCKER_CONTEXT", None)

    def __call__(self, *args: str, input: bytes | None = None, cwd: str = "WORK") -> Result:
        """``WORK`` in an argument (and in ``cwd``) is this side's directory."""
        assert DOCKER is not None  # (the tests that use it are marked needs_docker_cli)
        args = tuple(a.replace("WORK", self.work) for a in args)
        proc = subprocess.run(
            [DOCKER, *args],
            input=input,
            capture_output=True,
            timeout=120,
            env=self.env,
            cwd=cwd.replace("WORK", self.work),
        )
        return Result(proc.returncode, self.normal(proc.stdout), self.normal(proc.stderr))

    def raw(self, *args: str) -> bytes:
        assert DOCKER is not None
        proc = subprocess.run([DOCKER, *args], capture_output=True, timeout=120, env=self.env, cwd=self.work)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def normal(self, data: bytes) -> str:
        text = data.decode(errors="replace").replace(self.work, "WORK")
        text = re.sub(r"/\S*/volumes/([0-9a-zA-Z_.-]+)/_data", r"VOLUMES/\1", text)
        text = re.sub(r"\b[0-9a-f]{64}\b", "ID", text)
        return text

    def cleanup(self) -> None:
        ids = self("ps", "-aq").out.split()
        if ids:
            self("rm", "-f", "-v", *ids)
        self("volume", "prune", "-f")
        shutil.rmtree(self.config, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


@pytest.fixture(scope="module")
def sides(dockerd, daemon):
    pair = (
        Side("docker", f"unix://{dockerd.socket}", dockerd.root),
        Side("stepbox", daemon.host, daemon.root),
    )
    try:
        yield pair
    finally:
        for side in pair:
            side.cleanup()


def both(sides, *args, **kw) -> tuple[Result, Result]:
    return tuple(side(*args, **kw) for side in sides)


def same(sides, *args, **kw) -> Result:
    docker, ours = both(sides, *args, **kw)
    assert (ours.code, ours.out, ours.err) == (docker.code, docker.out, docker.err), (
        f"docker {' '.join(args)}"
    )
    return docker


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# -- bad input -------------------------------------------------------------------------------

REFUSED = [
    ["-v", "a:b:c:d"],
    ["-v", "/data:ro"],
    ["-v", "/h:x"],
    ["-v", "/h:/x:bogus"],
    ["-v", "ab/c:/x"],
    ["-v", "name:/"],
    ["-v", "WORK/a:/x", "-v", "WORK/b:/x"],
    ["-v", "v1:/x", "--mount", "type=volume,src=v2,dst=/x"],
    ["--tmpfs", "/x", "-v", "WORK:/x"],
    ["--tmpfs", "x"],
    ["--mount", "type=bind,src=WORK/nonexistent,dst=/x"],
    ["--mount", "type=bind,src=rel,dst=/x"],
    ["--mount", "type=bind,dst=/x"],
    ["--mount", "type=bind,src=WORK"],
    ["--mount", "type=volume,dst=/x,readonly"],
    ["--mount", "type=tmpfs,src=x,dst=/x"],
    ["--mount", "type=foo,dst=/x"],
    ["--mount", "type=bind,src=WORK,dst=/x,bind-propagation=bogus"],
    ["--mount", "type=volume,src=/abs,dst=/x"],
    ["--mount", "type=bind,src=WORK,dst=/x,bogus=1"],
    ["--volumes-from", "nonexistent"],
    ["--volumes-from", "c:bogus"],
]


@pytest.mark.parametrize("flags", REFUSED, ids=[" ".join(f) for f in REFUSED])
def test_bad_mount_requests_are_refused_alike(sides, flags):
    docker, ours = both(sides, "run", "--rm", *flags, "busybox", "true")
    assert docker.code == 125
    assert (ours.code, _first_line(ours.err)) == (docker.code, _first_line(docker.err))
    # Nothing half-made -- where dockerd does leave something (the volume of
    # a -v it had made before it found the --mount at the same place), so
    # stepbox does better: it checks every mount before it makes one.
    docker_side, ours_side = sides
    assert ours_side("ps", "-aq").out == "" and ours_side("volume", "ls", "-q").out == ""
    assert docker_side("ps", "-aq").out == ""
    docker_side("volume", "prune", "-f")


@pytest.mark.parametrize(
    "flags,words",
    [
        (["-v", "WORK:/proc"], "cannot be mounted because it is not of type proc"),
        (["--tmpfs", "/x:bogus=1"], 'invalid tmpfs option ["bogus" "1"]'),
    ],
)
def test_what_docker_refuses_only_at_start(sides, flags, words):
    # dockerd creates these containers and fails to start them: `run` says
    # so with 125, `create` succeeds, and --rm removes the container.
    for side in sides:
        result = side("run", "--rm", *flags, "busybox", "true")
        assert result.code == 125 and words in result.err, (side.name, result)
        assert side("ps", "-aq").out == ""
        created = side("create", "--name", "later", *flags, "busybox", "true")
        assert created.code == 0, (side.name, created)
        started = side("start", "later")
        assert started.code == 1 and words in started.err, (side.name, started)
        assert side("inspect", "-f", "{{.State.Status}}", "later").out == "created\n"
        side("rm", "later")


# -- binds, volumes, tmpfs -------------------------------------------------------------------


def test_a_bind_mount_shows_the_hosts_files(sides):
    script = "echo hi > /data/x; stat -c '%A %u %g %s %n' /data/*; grep -c ' /data ' /proc/mounts"
    result = same(
        sides, "run", "--rm", "-v", "WORK/data:/data", "busybox", "sh", "-c", "ls -A /data | wc -l; " + script
    )
    assert result.out.startswith("0\n")  # Docker made the missing directory, empty
    for side in sides:
        with open(os.path.join(side.work, "data", "x")) as f:
            assert f.read() == "hi\n"
    ro = same(
        sides,
        "run",
        "--rm",
        "-v",
        "WORK/data:/data:ro",
        "busybox",
        "sh",
        "-c",
        "cat /data/x; echo no > /data/y",
    )
    assert ro.err == "sh: can't create /data/y: Read-only file system\n"
    same(
        sides, "run", "--rm", "--mount", "type=bind,src=WORK/data,dst=/d,readonly", "busybox", "touch", "/d/z"
    )


def test_a_named_volume_outlives_its_containers(sides):
    same(sides, "volume", "create", "--label", "team=a", "shared")
    same(sides, "run", "--rm", "-v", "shared:/d", "busybox", "sh", "-c", "echo f > /d/f")
    assert same(sides, "run", "--rm", "-v", "shared:/d", "busybox", "cat", "/d/f").out == "f\n"
    same(
        sides,
        "volume",
        "inspect",
        "-f",
        "{{.Name}} {{.Driver}} {{.Scope}} {{json .Labels}} {{.Mountpoint}}",
        "shared",
    )
    same(sides, "volume", "ls", "--filter", "label=team=a", "--filter", "dangling=true")
    same(sides, "run", "--name", "user", "-v", "shared:/d", "busybox", "true")
    refused = same(sides, "volume", "rm", "shared")
    assert refused.code == 1 and "volume is in use - [ID]" in refused.err
    same(sides, "volume", "ls", "-q", "--filter", "dangling=false")
    same(sides, "rm", "-v", "user")  # a named volume stays
    same(sides, "volume", "rm", "shared")
    same(sides, "volume", "rm", "shared")  # gone: "no such volume"
    same(sides, "volume", "rm", "-f", "shared")


def test_volume_commands(sides):
    for args in (
        ("volume", "create", "-o", "bogus=1", "vb"),
        ("volume", "create", "-o", "type=tmpfs", "vt2"),
        ("volume", "create", "-o", "device=/tmp", "vd"),
        ("volume", "create", "-d", "nosuch", "vn"),
        ("volume", "create", "a/b"),
        ("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,uid=1000", "vt"),
        ("volume", "inspect", "-f", "{{.Name}} {{json .Options}}", "vt"),
        ("volume", "create", "plain"),
        ("volume", "ls"),
        ("volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}} {{.Links}}"),
        ("volume", "ls", "--filter", "bogus=1"),
        ("volume", "ls", "--filter", "dangling=maybe"),
        ("volume", "ls", "-q", "--filter", "name=pla"),
        ("volume", "inspect", "nosuch"),
        ("volume", "rm", "nosuch", "plain"),
        ("volume", "prune", "-f"),  # API 1.41: every unused volume -- but not one with options
        ("volume", "ls", "-q"),
        ("volume", "rm", "vt"),
    ):
        same(sides, *args)


def test_a_tmpfs_volume_is_mounted_while_used(sides):
    same(
        sides, "volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,uid=1000", "mem"
    )
    script = "grep ' /t ' /proc/mounts | cut -d' ' -f1-3; stat -c '%a %u' /t; echo x > /t/x"
    same(sides, "run", "--rm", "-v", "mem:/t", "busybox", "sh", "-c", script)
    assert same(sides, "run", "--rm", "-v", "mem:/t", "busybox", "ls", "/t").out == ""  # gone with the mount
    same(sides, "volume", "rm", "mem")


def test_volume_prune_keeps_volumes_with_driver_options(sides):
    """dockerd 20.10's prune (API 1.41: every unused volume) leaves a local
    volume made with ``-o`` alone -- its data may be a host device or
    directory -- and removes a plain unused one; so does stepbox."""
    same(sides, "volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "opts-kept")
    same(sides, "volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=WORK", "bind-kept")
    same(sides, "volume", "create", "plain-pruned")
    same(sides, "run", "--rm", "-v", "opts-kept:/t", "busybox", "true")  # used once, unused now
    pruned = same(sides, "volume", "prune", "-f")
    assert "plain-pruned" in pruned.out and "kept" not in pruned.out
    listed = same(sides, "volume", "ls", "-q", "--filter", "name=-kept", "--filter", "name=-pruned")
    assert sorted(listed.out.split()) == ["bind-kept", "opts-kept"]
    same(sides, "volume", "rm", "opts-kept", "bind-kept")


def test_tmpfs_mounts(sides):
    # (the simulator's tmpfs says inode64 where this kernel does not: SIMPLIFICATIONS)
    show = "grep ' /x ' /proc/mounts | cut -d' ' -f1-4 | tr , '\\n' | grep -v inode64; stat -c %a /x"
    same(sides, "run", "--rm", "--tmpfs", "/x:size=1m,mode=700", "busybox", "sh", "-c", show)
    same(sides, "run", "--rm", "--tmpfs", "/x", "busybox", "sh", "-c", show)
    same(sides, "run", "--rm", "--tmpfs", "/x:ro", "busybox", "sh", "-c", show + "; touch /x/a")
    same(
        sides,
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,dst=/x,tmpfs-size=1m,tmpfs-mode=700",
        "busybox",
        "sh",
        "-c",
        show,
    )


def test_read_only_root(sides):
    result = same(sides, "run", "--rm", "--read-only", "busybox", "touch", "/x")
    assert result.code == 1 and result.err == "touch: /x: Read-only file system\n"
    script = "touch /tmp/x; echo $?; touch /dev/x /dev/shm/x /v/x && echo writable; echo hi >> /etc/hosts"
    same(sides, "run", "--rm", "--read-only", "-v", "/v", "busybox", "sh", "-c", script)
    same(sides, "volume", "prune", "-f")


def test_rm_v_and_run_rm_take_anonymous_volumes_along(sides):
    same(sides, "run", "--rm", "-v", "/anon", "busybox", "true")
    assert same(sides, "volume", "ls", "-q").out == ""
    same(sides, "create", "--name", "keeper", "-v", "/anon", "-v", "named:/n", "busybox", "true")
    for side in sides:
        names = side("volume", "ls", "-q").out.split()
        assert len(names) == 2 and "named" in names
    same(sides, "rm", "-v", "keeper")
    assert same(sides, "volume", "ls", "-q").out == "named\n"
    same(sides, "volume", "rm", "named")


def test_a_relative_anonymous_volume_is_mounted_inside_the_root(sides):
    # dockerd takes `-v x` as it comes (an anonymous volume, Config.Volumes
    # {"x": {}}): mounted at /x, resolved inside the root, and shown as "x".
    out = same(sides, "run", "--name", "rel", "-v", "x", "busybox", "sh", "-c", "grep -c ' /x ' /proc/mounts")
    assert out.out == "1\n"
    shown = same(sides, "inspect", "-f", "{{range .Mounts}}{{.Destination}} {{.Type}}{{end}}", "rel")
    assert shown.out == "x volume\n"
    same(sides, "rm", "-v", "rel")
    assert same(sides, "volume", "ls", "-q").out == ""


def test_volumes_from(sides):
    same(
        sides,
        "create",
        "--name",
        "src",
        "-v",
        "/srcanon",
        "-v",
        "named2:/named",
        "-v",
        "WORK:/hostb:ro",
        "busybox",
        "true",
    )
    show = "grep -E ' /srcanon | /named | /hostb ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1 | sort"
    same(sides, "run", "--rm", "--volumes-from", "src", "busybox", "sh", "-c", show)
    same(sides, "run", "--rm", "--volumes-from", "src:ro", "busybox", "sh", "-c", show)
    same(sides, "create", "--name", "consumer", "--volumes-from", "src:ro", "busybox", "true")
    template = "{{range .Mounts}}{{.Destination}} {{.RW}} [{{.Mode}}] {{.Propagation}};{{end}}"
    shown = [sorted(side("inspect", "-f", template, "consumer").out.split(";")) for side in sides]
    assert shown[0] == shown[1] and len(shown[0]) == 4  # (Docker's order is random: sorted)
    same(sides, "rm", "-v", "consumer", "src")
    same(sides, "volume", "rm", "named2")
    assert same(sides, "volume", "ls", "-q").out == ""


# -- the image's VOLUME, the init layer ----------------------------------------------------------

DOCKERFILE = "FROM busybox\nRUN mkdir /data && echo seed > /data/seed && chmod 700 /data && chown 5:6 /data\nVOLUME /data\n"


def test_an_image_volume_is_made_and_filled_from_the_image(sides):
    for side in sides:
        context = os.path.join(side.work, "ctx")
        os.makedirs(context, exist_ok=True)
        with open(os.path.join(context, "Dockerfile"), "w") as f:
            f.write(DOCKERFILE)
        built = side("build", "-q", "-t", "volimg", context)
        assert built.code == 0, (side.name, built.err)
    same(sides, "image", "inspect", "-f", "{{json .Config.Volumes}}", "volimg")
    same(
        sides,
        "run",
        "--name",
        "vc",
        "volimg",
        "sh",
        "-c",
        "stat -c '%A %u %g %s %n' /data /data/*; cat /data/seed; echo new > /data/new",
    )
    same(
        sides,
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Type}} {{.Destination}} {{.Driver}} {{.RW}} [{{.Mode}}] [{{.Propagation}}]{{end}}",
        "vc",
    )
    assert same(sides, "diff", "vc").out == ""  # a volume is not in the read-write layer
    listings = []
    for side in sides:
        with tarfile.open(fileobj=io.BytesIO(side.raw("export", "vc"))) as tar:
            # (& 0o7777: Go's tar headers carry the file type bits in the mode too, Python's not)
            listings.append(
                sorted((m.name, m.mode & 0o7777, m.uid, m.gid) for m in tar if m.name.startswith("data"))
            )
    assert listings[0] == listings[1] == [("data", 0o700, 5, 6), ("data/seed", 0o644, 0, 0)]
    same(
        sides,
        "run",
        "--rm",
        "-v",
        "seeded:/data",
        "volimg",
        "stat",
        "-c",
        "%A %u %g %s %n",
        "/data",
        "/data/seed",
    )  # a named one is filled too
    same(sides, "run", "--rm", "-v", "seeded:/data", "busybox", "cat", "/data/seed")
    same(
        sides,
        "run",
        "--rm",
        "--mount",
        "type=volume,src=nocp,dst=/data,volume-nocopy",
        "volimg",
        "ls",
        "/data",
    )
    for side in sides:  # (dockerd names the file by its path on the host; stepbox in the container)
        refused = side("create", "-v", "/etc/passwd", "busybox", "true")
        assert refused.code == 1 and "cannot mount volume over existing file, file exists" in refused.err
        assert refused.err.rstrip().endswith("/etc/passwd")
    same(sides, "rm", "-v", "vc")
    same(sides, "volume", "rm", "seeded", "nocp")
    for side in sides:  # (how many build steps rmi reports deleted is not this test's business)
        assert side("rmi", "volimg").code == 0


def test_the_init_layer_holds_placeholders_and_etc_files_never_reach_diff(sides):
    script = "echo x >> /etc/hosts; echo y > /etc/hostname; echo z >> /etc/resolv.conf; stat -c '%A %u %g %s %n' /.dockerenv; cat /etc/hostname"
    same(sides, "run", "--name", "w1", "busybox", "sh", "-c", script)
    assert same(sides, "diff", "w1").out == ""
    listings = []
    for side in sides:
        with tarfile.open(fileobj=io.BytesIO(side.raw("export", "w1"))) as tar:
            init = (".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab", "dev/console")
            listings.append(
                sorted((m.name, m.mode & 0o7777, m.size, m.linkname) for m in tar if m.name in init)
            )
    assert listings[0] == listings[1]
    assert (".dockerenv", 0o755, 0, "") in listings[1]
    same(sides, "commit", "w1", "w1img")
    same(sides, "run", "--rm", "w1img", "sh", "-c", "tail -1 /etc/hosts; cat /etc/hostname | wc -c")
    same(sides, "rm", "w1")
    same(sides, "rmi", "w1img")


# -- docker cp ---------------------------------------------------------------------------------

SETUP = (
    "mkdir -p /d/sub; echo hi > /d/f; chmod 640 /d/f; chown 12:34 /d/f; ln -s / /d/root; "
    "ln -s /etc/passwd /d/pw; ln -s ../../etc /d/sub/up; echo v > /vol/v; echo b > /bnd/b; sleep 1000"
)


def _quiet(err: str) -> str:
    return "".join(line for line in err.splitlines(keepends=True) if "level=error" not in line)


def _tree(path: str) -> list[tuple]:
    found = []
    for base, dirs, files in os.walk(path):
        for name in sorted(dirs + files):
            p = os.path.join(base, name)
            st = os.lstat(p)
            found.append(
                (
                    os.path.relpath(p, path),
                    oct(st.st_mode),
                    st.st_uid,
                    st.st_gid,
                    st.st_size,
                    os.path.islink(p) and os.readlink(p),
                )
            )
    return sorted(found)


def test_cp_both_ways(sides):
    for side in sides:
        started = side(
            "run",
            "-d",
            "--name",
            "cp1",
            "-v",
            "cpvol:/vol",
            "-v",
            "WORK/bindsrc:/bnd",
            "busybox",
            "sh",
            "-c",
            SETUP,
        )
        assert started.code == 0, started.err
    for side in sides:
        for _ in range(100):
            if side("exec", "cp1", "test", "-e", "/bnd/b").code == 0:
                break
        out = os.path.join(side.work, "out")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "local.txt"), "w") as f:
            f.write("hello\n")
        os.makedirs(os.path.join(out, "ldir"), exist_ok=True)
        with open(os.path.join(out, "ldir", "a"), "w") as f:
            f.write("a\n")
        os.chmod(os.path.join(out, "ldir", "a"), 0o600)
    commands = [
        ("cp", "cp1:/d/f", "."),
        ("cp", "cp1:/d/f", "newname"),
        ("cp", "cp1:/d", "ddir"),
        ("cp", "cp1:/d/.", "ddir2"),
        ("cp", "cp1:/d/f", "nodir/"),
        ("cp", "cp1:/d/f", "nodir/x"),
        ("cp", "cp1:/nope", "."),
        ("cp", "cp1:/d/root", "rootlink"),
        ("cp", "-L", "cp1:/d/pw", "pwcopy"),
        ("cp", "cp1:/d/sub/up/passwd", "uppass"),
        ("cp", "cp1:/vol/v", "fromvolume"),
        ("cp", "local.txt", "cp1:/tmp/"),
        ("cp", "local.txt", "cp1:/tmp/renamed.txt"),
        ("cp", "ldir", "cp1:/tmp/"),
        ("cp", "ldir", "cp1:/tmp/ldir2"),
        ("cp", "local.txt", "cp1:/nonexist/x"),
        ("cp", "ldir", "cp1:/d/f"),
        ("cp", "local.txt", "cp1:/d/root/"),
        ("cp", "local.txt", "cp1:/vol/"),
        ("cp", "local.txt", "cp1:/bnd/"),
        ("cp", "nosuch", "cp1:/tmp"),
        ("cp", "cp1:/d/f", "cp1:/x"),
        ("cp", "a", "b"),
        ("cp", "nosuchctr:/x", "."),
    ]
    for args in commands:
        docker, ours = both(sides, *args, cwd="WORK/out")
        assert ours.code == docker.code, (args, docker, ours)
        # The CLI logs a broken pipe when a daemon refuses before it has read
        # the whole upload -- or not, as the race goes: those lines are noise.
        assert _quiet(ours.err) == _quiet(docker.err), (args, docker.err, ours.err)
    trees = [_tree(os.path.join(side.work, "out")) for side in sides]
    assert trees[0] == trees[1]
    listing = "stat -c '%A %u %g %s %n' /tmp/* /tmp/ldir/* /tmp/ldir2/* /vol/* /bnd/* /local.txt"
    same(sides, "exec", "cp1", "sh", "-c", listing)
    assert [_tree(os.path.join(side.work, "bindsrc")) for side in sides][0] == _tree(
        os.path.join(sides[1].work, "bindsrc")
    )
    for side in sides:
        tar = side.raw("cp", "cp1:/d", "-")
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            names = [(m.name, m.mode & 0o7777, m.uid, m.gid, m.linkname) for m in archive]
        assert ("d/f", 0o640, 12, 34, "") in names and ("d/root", 0o777, 0, 0, "/") in names, side.name
    same(sides, "rm", "-f", "-v", "cp1")
    same(sides, "volume", "rm", "cpvol")


def test_cp_archive_mode_gives_the_files_to_the_containers_user(sides):
    # docker cp -a (copyUIDGID): what is copied in belongs to the container's --user
    for side in sides:
        assert side("create", "--name", "cpa", "--user", "nobody", "busybox", "true").code == 0
        with open(os.path.join(side.work, "cpa.txt"), "w") as f:
            f.write("mine\n")
    same(sides, "cp", "-a", "WORK/cpa.txt", "cpa:/tmp/")
    owners = []
    for side in sides:
        with tarfile.open(fileobj=io.BytesIO(side.raw("cp", "cpa:/tmp/cpa.txt", "-"))) as archive:
            owners.append([(m.name, m.uid, m.gid) for m in archive])
    assert owners[0] == owners[1] == [("cpa.txt", 65534, 65534)], owners
    same(sides, "rm", "cpa")


def test_a_symlink_to_the_root_never_reaches_the_host(sides):
    marker = f"stepbox-escape-{os.getpid()}"
    for side in sides:
        made = side(
            "run",
            "-d",
            "--name",
            "esc",
            "busybox",
            "sh",
            "-c",
            "ln -s / /x; ln -s /etc /e; echo inside > /etc/only-here; sleep 1000",
        )
        assert made.code == 0
        for _ in range(100):
            if side("exec", "esc", "test", "-L", "/e").code == 0:
                break
        out = os.path.join(side.work, "esc")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, marker), "w") as f:
            f.write("x")
    same(sides, "cp", "esc:/x/etc/only-here", "WORK/esc/read-through-link")
    same(sides, "cp", "esc:/e/only-here", "WORK/esc/read-through-etc")
    same(sides, "cp", f"WORK/esc/{marker}", "esc:/x/")
    same(sides, "cp", f"WORK/esc/{marker}", "esc:/e/")
    assert not os.path.exists(f"/{marker}") and not os.path.exists(f"/etc/{marker}")
    same(sides, "exec", "esc", "ls", f"/{marker}", f"/etc/{marker}")
    for side in sides:
        with open(os.path.join(side.work, "esc", "read-through-link")) as f:
            assert f.read() == "inside\n"
    same(sides, "rm", "-f", "esc")


def test_inspect_shows_mounts_as_docker_does(sides):
    same(
        sides,
        "create",
        "--name",
        "shown",
        "-v",
        "WORK/created-at-start:/x",
        "-v",
        "named1:/n",
        "-v",
        "/anon",
        "--tmpfs",
        "/t:size=1m",
        "--mount",
        "type=bind,src=WORK,dst=/b,readonly",
        "busybox",
        "true",
    )
    for side in sides:
        assert not os.path.exists(os.path.join(side.work, "created-at-start"))  # made at start, not create
    shown = "{{json .HostConfig.Tmpfs}} {{json .Config.Volumes}} {{.HostConfig.ReadonlyRootfs}}"
    same(sides, "inspect", "-f", shown, "shown")
    # The docker CLI sends the -v binds in its Go map's order (random; both
    # daemons keep the order they get), and Docker lists Mounts in its own
    # map's order (stepbox sorts them): compared as sets.
    documents = [json.loads(side("inspect", "shown").out)[0] for side in sides]
    assert sorted(documents[0]["HostConfig"]["Binds"]) == sorted(documents[1]["HostConfig"]["Binds"])
    mounts = [sorted(doc["Mounts"], key=lambda m: m["Destination"]) for doc in documents]
    assert mounts[0] == mounts[1]
    assert [doc["HostConfig"]["Mounts"] for doc in documents][0] == documents[1]["HostConfig"]["Mounts"]
    same(sides, "rm", "-v", "shown")
    same(sides, "volume", "rm", "named1")
