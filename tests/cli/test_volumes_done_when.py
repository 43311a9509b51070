"""The "done when" of the volumes issue, typed as a user would, on both backends."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile


def raw(stepbox, *args: str) -> bytes:
    """A stepbox command's stdout as bytes (a tar)."""
    options = ["--backend", stepbox.backend, "--root", stepbox.root]
    proc = subprocess.run(
        [sys.executable, "-m", "stepbox", *options, *args], capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_bind_mount_leaves_the_file_on_the_host(stepbox, tmp_path):
    r = stepbox("run", "--rm", "-v", f"{tmp_path}/data:/data", "busybox", "sh", "-c", "echo hi > /data/x")
    assert r.code == 0, r.err
    assert (tmp_path / "data" / "x").read_text() == "hi\n"
    # a relative host path, as the docker CLI takes it: ./data from the current directory
    proc = subprocess.run(
        [sys.executable, "-m", "stepbox", "--backend", stepbox.backend, "--root", stepbox.root]
        + ["run", "--rm", "-v", "./rel:/r", "busybox", "touch", "/r/y"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rel" / "y").exists()


def test_a_volume_outlives_the_container(stepbox):
    assert stepbox("volume", "create", "v").out == "v\n"
    assert stepbox("run", "--rm", "-v", "v:/d", "busybox", "sh", "-c", "echo f > /d/f").code == 0
    r = stepbox("run", "--rm", "-v", "v:/d", "busybox", "cat", "/d/f")
    assert (r.code, r.out) == (0, "f\n"), r.err
    assert stepbox("volume", "ls", "-q").out == "v\n"
    assert stepbox("run", "--name", "user", "-v", "v:/d", "busybox", "true").code == 0
    r = stepbox("volume", "rm", "v")
    assert r.code == 1 and "volume is in use" in r.err
    assert stepbox("rm", "user").code == 0
    assert stepbox("volume", "rm", "v").code == 0


def test_an_image_volume(stepbox, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nRUN mkdir /data && echo seed > /data/seed\nVOLUME /data\n"
    )
    r = stepbox("build", "-q", "-t", "volimg", str(tmp_path))
    assert r.code == 0, r.err
    r = stepbox("run", "--name", "vc", "volimg", "sh", "-c", "cat /data/seed; echo more > /data/more")
    assert (r.code, r.out) == (0, "seed\n"), r.err
    mounts = json.loads(stepbox("inspect", "vc").out)[0]["Mounts"]
    assert [(m["Type"], m["Destination"], m["Driver"], m["RW"]) for m in mounts] == [
        ("volume", "/data", "local", True)
    ]
    with tarfile.open(fileobj=io.BytesIO(raw(stepbox, "export", "vc"))) as tar:
        names = tar.getnames()
    assert (
        "data" in names and "data/seed" in names and "data/more" not in names
    )  # the mount point, not the volume
    assert stepbox("diff", "vc").out == ""
    assert stepbox("rm", "-v", "vc").code == 0
    assert stepbox("volume", "ls", "-q").out == ""


def test_cp_out_and_in_and_a_symlink_to_root_stays_inside(stepbox, tmp_path):
    assert stepbox("run", "--name", "c", "busybox", "sh", "-c", "ln -s / /x; ln -s /etc /e").code == 0
    r = stepbox("cp", "c:/etc/passwd", str(tmp_path))
    assert r.code == 0, r.err
    assert (tmp_path / "passwd").read_text().startswith("root:x:0:0:")
    (tmp_path / "passwd").write_text("changed\n")
    assert stepbox("cp", str(tmp_path / "passwd"), "c:/etc/passwd").code == 0
    with tarfile.open(fileobj=io.BytesIO(raw(stepbox, "cp", "c:/etc/passwd", "-"))) as tar:
        assert tar.extractfile("passwd").read() == b"changed\n"
    marker = tmp_path / f"escape-{os.getpid()}"
    marker.write_text("x")
    assert stepbox("cp", str(marker), "c:/x/").code == 0
    assert stepbox("cp", str(marker), "c:/e/").code == 0
    assert not os.path.exists(f"/{marker.name}") and not os.path.exists(f"/etc/{marker.name}")
    r = stepbox("cp", f"c:/x/etc/{marker.name}", str(tmp_path / "again"))
    assert r.code == 0, r.err  # it landed in the container's /etc
    assert stepbox("rm", "c").code == 0


def test_read_only_and_run_rm_cleans_up(stepbox):
    r = stepbox("run", "--rm", "--read-only", "busybox", "touch", "/x")
    assert r.code == 1 and r.err.endswith("\ntouch: /x: Read-only file system\n")  # after the daemon's hello
    assert stepbox("run", "--rm", "-v", "/x", "busybox", "true").code == 0
    assert stepbox("volume", "ls", "-q").out == ""
    assert stepbox("run", "--rm", "--tmpfs", "/t:size=1m", "busybox", "touch", "/t/x").code == 0


def test_bad_mounts_are_refused_and_nothing_is_left(stepbox):
    for flags, words in (
        (("-v", "/h:x"), "invalid mount path: 'x' mount path must be absolute"),
        (("-v", ":/x"), "invalid spec: :/x: empty section between colons"),
        (("-v", "/tmp:/x", "-v", "/var:/x"), "Duplicate mount point: /x"),
        (("-v", "a/b:/x"), "includes invalid characters for a local volume name"),
        (("--mount", "type=bind,src=/nonexistent-i11,dst=/x"), "bind source path does not exist"),
        (("-v", "/tmp:/proc"), "cannot be mounted because it is not of type proc"),
    ):
        r = stepbox("run", "--rm", *flags, "busybox", "true")
        assert r.code == 125 and words in r.err and "Traceback" not in r.err, (flags, r)
    assert stepbox("ps", "-aq").out == "" and stepbox("volume", "ls", "-q").out == ""
