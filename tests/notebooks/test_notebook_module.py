"""The notebooks' shared module, piece by piece, without Jupyter: tables,
diagrams, the socket spy, the step controls' undo, sampling -- on the
simulator (quick, no root)."""

from __future__ import annotations

import os
import socket
import threading
import xml.etree.ElementTree as ET

import pytest
from stepbox.core.notebook import (
    CgroupBox,
    LayerBox,
    Meter,
    ProcNode,
    architecture_svg,
    cgroup_tree_svg,
    container_walk,
    html_table,
    layer_stack_svg,
    open_lab,
    process_tree_svg,
)
from stepbox.core.notebook.sampling import sample_cgroup
from stepbox.core.notebook.script import action, script_walk
from stepbox.core.notebook.spy import SocketSpy
from stepbox.core.notebook.views import cgroup_boxes, container_layer_boxes, namespace_rows, process_nodes


@pytest.fixture
def lab():
    lab = open_lab("sim")
    try:
        yield lab
    finally:
        lab.close()


def assert_nothing_left(lab):
    assert lab.runtime.containers.all() == []
    assert lab.kernel.unionfs.mounted() == []
    assert lab.kernel.cgroups.list() == []
    assert [layer for layer in lab.kernel.unionfs.layers() if layer.endswith("-init")] == []


# ------------------------------------------------------------------ HTML and SVG


def test_tables_escape_what_they_show():
    markup = html_table([("<script>alert(1)</script>", ["a&b", None])], ("x", "y"))
    assert "<script>" not in markup and "&lt;script&gt;" in markup and "a&amp;b" in markup


def test_diagrams_are_well_formed_svg_with_their_labels():
    pictures = [
        layer_stack_svg(
            [
                LayerBox("read-write layer", "rw", ["etc/passwd   1kB", "✗ bin/cat"], "2 entries"),
                LayerBox("image layer 1 <base>", "image", [f"file{i}" for i in range(20)]),
            ],
            "stack",
        ),
        process_tree_svg(
            [
                ProcNode(1, 1, "/sbin/init", 0, ""),
                ProcNode(42, 1, "sleep 600 & <x>", 1, "web", ["pid", "uts"]),
            ],
            "tree",
        ),
        cgroup_tree_svg(
            [
                CgroupBox("/sys/fs/cgroup", 0),
                CgroupBox("stepbox/abc", 1, [42], [Meter("memory", 5, 10, "5B of 10B")], "note"),
            ]
        ),
        architecture_svg("/run/stepbox/stepbox.sock", "sim"),
    ]
    for svg in pictures:
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg") and "stepbox-diagram" in root.get("class")
    texts = " ".join(
        t.text or "" for t in ET.fromstring(pictures[0]).iter("{http://www.w3.org/2000/svg}text")
    )
    assert "read-write layer" in texts and "image layer 1 <base>" in texts and "… 14 more" in texts
    assert "container web" in pictures[1] and ">uts<" in pictures[1]


# --------------------------------------------------------------------- the spy


class _Upstream:
    """A tiny HTTP/1.1 server on a UNIX socket: answers each request with its
    own method and path as the body; a request asking to upgrade gets 101 and
    then an echo of whatever follows."""

    def __init__(self, path: str):
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        reader = conn.makefile("rb")
        with conn:
            while True:
                start = reader.readline()
                if not start:
                    return
                headers = {}
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                if headers.get("transfer-encoding") == "chunked":
                    while size := int(reader.readline().strip(), 16):
                        reader.read(size + 2)
                    reader.readline()
                else:
                    reader.read(int(headers.get("content-length", "0")))
                method, target, _ = start.decode().split(" ", 2)
                if "upgrade" in headers.get("connection", "").lower():
                    conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\n\r\n")
                    while data := reader.read1(1024):  # (what the reader buffered comes first)
                        conn.sendall(data)
                    return
                body = f"{method} {target}".encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self):
        self.server.close()


def _exchange(path: str, data: bytes, expect: int) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(data)
        got = b""
        while got.count(b"HTTP/1.1") < expect or not got.endswith((b"/a", b"/b", b"/c", b"raw bytes")):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        return got


def test_the_spy_records_requests_and_forwards_every_byte(tmp_path):
    upstream = _Upstream(str(tmp_path / "up.sock"))
    spy = SocketSpy(str(tmp_path / "up.sock"), str(tmp_path / "spy.sock")).start()
    try:
        # two requests on one connection: one with a JSON body, one chunked
        answer = _exchange(
            spy.listen_path,
            b'POST /a HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n'
            b'{"Cmd":["x"]}'
            b'PUT /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
            2,
        )
        assert answer.count(b"200 OK") == 2 and answer.endswith(b"PUT /b")
        # an upgraded connection: after the 101, raw bytes pass both ways, unparsed
        answer = _exchange(
            spy.listen_path, b"POST /c HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nraw bytes", 1
        )
        assert answer.endswith(b"raw bytes")
    finally:
        spy.close()
        upstream.close()
    seen = [(r.method, r.target, r.status, r.body_size) for r in spy.requests]
    assert seen == [("POST", "/a", 200, 13), ("PUT", "/b", 200, 5), ("POST", "/c", 101, 0)]
    assert spy.requests[0].body_text() == '{"Cmd":["x"]}'
    assert not os.path.exists(spy.listen_path)


# ------------------------------------------------------------- step controls


def test_a_container_walk_steps_resets_and_undoes_everything(lab):
    walk = container_walk(lab, lab.config("sh", "-c", "echo hi > /x; hostname", hostname="w"))
    first = walk.step()
    assert (
        first.result.step.key == "resolve_image" and "Step 1/17" in first._repr_html_()
    )  # 13 + confinement, seccomp, volumes, volumes_on_host
    views = walk.step_until("spawn")
    assert views[-1].result.step.key == "spawn" and walk.record.pid
    assert any("clone(" in op for view in views for op in view.ops)
    shown = " ".join(op for view in views for op in view.ops)
    assert walk.record.id[:12] in shown and walk.record.id not in shown  # IDs shortened for reading
    walk.reset()  # half-way: the undo chain
    assert_nothing_left(lab)
    assert walk.stepper.position == 0
    walk.run_to_end()
    assert lab.output(walk.record) == "w\n" and walk.done
    with pytest.raises(RuntimeError):
        walk.step()
    with pytest.raises(KeyError):
        walk.step_until("no-such-step")
    walk.reset()  # finished: docker rm
    assert_nothing_left(lab)
    walk.step_until("exec")  # running, then the notebook ends
    walk.close()
    assert_nothing_left(lab)


def test_views_of_a_running_container(lab):
    record = lab.start("sleep", "600", hostname="inside", memory=32 << 20, pids_limit=9)
    nodes = process_nodes(lab, [record])
    mine = [n for n in nodes if n.container == record.name]
    assert [n.ns_pid for n in mine if n.pid == record.pid] == [1]
    assert {"pid", "uts", "mnt", "net", "ipc", "cgroup"} <= set(mine[0].own_namespaces)
    assert {row[0]: row[3] for row in namespace_rows(lab, record)}["user"] == "shared with the host"
    boxes = cgroup_boxes(lab, [record])
    container_box = boxes[-1]
    assert container_box.procs == [record.pid] and container_box.meters[1].limit == 9
    layers = container_layer_boxes(lab, record)
    assert [b.kind for b in layers] == ["merged", "rw", "init", "image"]


def test_a_script_walk_reset_undoes_its_actions(lab):
    made = []

    def make(ctx):
        record = lab.run("true", name=f"made{len(made)}")
        made.append(record)
        ctx.on_undo("rm", lambda: lab.runtime.remove(record))
        return "<b>made</b>"

    walk = script_walk(lab, [action("one", "one", "", "", make), action("two", "two", "", "", make)])
    assert walk.step().pictures == ["<b>made</b>"]
    walk.run_to_end()
    assert len(lab.runtime.containers.all()) == 2
    walk.reset()
    assert lab.runtime.containers.all() == [] and walk.stepper.position == 0


def test_sampling_follows_a_container_until_it_exits(lab):
    hog = lab.start("sh", "-c", "while head -c 500000 /dev/zero; do sleep 0.1; done | tail", memory=8 << 20)
    samples = sample_cgroup(lab, hog, every=0.05, at_most=400)
    assert 0 < len(samples) < 400
    assert [s.t for s in samples] == sorted(s.t for s in samples)
    assert samples[-1].stats.memory_current > samples[0].stats.memory_current
    hog = lab.runtime.get(hog.id)
    assert hog.exit_code == 137 and hog.oom_killed


def test_a_lab_removes_its_state_directory_and_shortens_what_it_shows():
    lab = open_lab("sim")
    root = lab.root
    record = lab.start("sleep", "600")
    assert lab.shorten(f"{root}/x/{record.id}") == f"$ROOT/x/{record.id[:12]}"
    lab.close()
    lab.close()  # twice is fine
    assert not os.path.exists(root)


# ------------------------------------------------ Run All, then the buttons


def _click(box, name):
    """Press a button of a controls() widget, as a learner does."""
    hbox = box.children[0]
    button = next(child for child in hbox.children if getattr(child, "description", None) == name)
    assert not button.disabled, f"{name} is disabled"
    button.click()
    return box.children[1]  # the output area


def test_the_buttons_drive_a_walk_of_their_own_that_starts_when_clicked(lab):
    walk = container_walk(lab, lab.config("echo", "hi"))
    box = walk.controls()
    [buttons] = walk.button_walks
    assert not buttons.started and lab.runtime.containers.all() == []  # nothing made before a click
    walk.run_to_end()  # the cells below, under Run All
    walk.close()
    assert lab.runtime.containers.all() == []
    _click(box, "Step")  # the buttons start from the first step
    assert buttons.stepper.position == 1 and buttons.history[0].result.step.key == "resolve_image"
    _click(box, "Run to end")
    assert buttons.done and lab.output(buttons.record) == "hi\n"
    _click(box, "Reset")
    assert (
        buttons.stepper.position == 0 and lab.runtime.containers.all() == []
    )  # removed; the next not made yet
    _click(box, "Step")
    assert buttons.stepper.position == 1
    assert walk.stepper.done  # the cells' walk did not move


def test_a_closed_walk_leaves_the_buttons_working_and_the_lab_closes_what_it_adopted():
    lab = open_lab("sim")
    closed = []

    class Thing:
        def __init__(self, name):
            self.name = name

        def close(self):
            closed.append(self.name)

    first, second = lab.adopt(Thing("daemon")), lab.adopt(Thing("spy"))
    assert first.name == "daemon" and second.name == "spy"
    walk = script_walk(lab, [action("one", "one", "", "", lambda ctx: "<b>one</b>")])
    box = walk.controls()
    walk.run_to_end()
    walk.close()
    _click(box, "Run to end")
    assert walk.button_walks[0].done and walk.button_walks[0].history[0].pictures == ["<b>one</b>"]
    lab.close()
    assert closed == ["spy", "daemon"]  # the last adopted first
    assert not os.path.exists(lab.root)


def test_a_lab_closes_when_its_interpreter_ends_and_one_killed_is_removed_by_the_next(tmp_path):
    import json
    import signal
    import subprocess
    import sys

    env = dict(os.environ, TMPDIR=str(tmp_path))
    env.pop("STEPBOX_BACKEND", None)
    opens = "from stepbox.core.notebook import open_lab; lab = open_lab('sim'); lab.start('sleep', '600'); "
    # ends normally with the lab open: atexit closes it
    ended = subprocess.run(
        [sys.executable, "-c", opens + "print(lab.root)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ended.returncode == 0, ended.stderr
    assert not os.path.exists(ended.stdout.strip())
    # killed outright: no handler runs, the directory stays ...
    killed = subprocess.Popen(
        [sys.executable, "-c", opens + "print(lab.root, flush=True); import time; time.sleep(600)"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    root = killed.stdout.readline().strip()
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    killed.stdout.close()
    assert os.path.isdir(root)
    with open(os.path.join(root, "owner.json")) as f:
        assert json.load(f)["backend"] == "sim"
    # ... until the same user's next lab finds its owner gone
    said = subprocess.run(
        [
            sys.executable,
            "-c",
            "from stepbox.core.notebook import open_lab; open_lab('sim', say=print).close()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert said.returncode == 0, said.stderr
    assert f"removed the abandoned lab {root}" in said.stdout
    assert not os.path.exists(root)
    assert [e for e in os.listdir(tmp_path) if e.startswith("stepbox-lab-")] == []


def test_a_lab_whose_owner_lives_is_left_alone(tmp_path, monkeypatch):
    from stepbox.core.notebook.lab import remove_abandoned_labs

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    lab = open_lab("sim")
    try:
        assert remove_abandoned_labs() == [] and os.path.isdir(lab.root)
    finally:
        lab.close()


# -- the network: its picture and who reaches whom ------------------------------------------------


def test_the_topology_svg_draws_every_namespace_and_a_veth_per_address():
    from stepbox.core.kernel.network import Interface, NetnsView, Route, SocketInfo, Topology
    from stepbox.core.notebook import topology_svg

    lo = Interface("lo", "loopback", True, addresses=("127.0.0.1/8",))
    host = NetnsView(
        interfaces=(
            lo,
            Interface("stepbox0", "bridge", True, addresses=("172.17.0.1/16",)),
            Interface("br-0123456789ab", "bridge", True, addresses=("172.18.0.1/16",)),
            Interface("veth1111111", "veth", True, master="stepbox0"),
            Interface("veth2222222", "veth", True, master="br-0123456789ab"),
            Interface("veth3333333", "veth", True, master="stepbox0"),
        )
    )
    web = NetnsView(
        interfaces=(
            Interface("eth0", "veth", True, addresses=("172.18.0.2/16",)),
            Interface("eth1", "veth", True, addresses=("172.17.0.2/16",)),
            lo,
        ),
        routes=(Route("default", "eth0", "172.18.0.1"),),
        sockets=(SocketInfo("tcp", "::", 80), SocketInfo("udp", "127.0.0.11", 53)),
    )
    front = NetnsView(interfaces=(Interface("eth0", "veth", True, addresses=("172.17.0.3/16",)), lo))
    alone = NetnsView(interfaces=(lo,))
    svg = topology_svg(
        Topology({"host": host, "web": web, "front": front, "alone": alone}), "three containers"
    )
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for shown in ("container web", "container front", "container alone", "bridge stepbox0",
                  "bridge br-0123456789ab", "eth0 172.18.0.2/16", "default via 172.18.0.1",
                  "listens tcp :80", "lo only: no way out", "3 veth ends plugged into the bridges"):  # fmt: skip
        assert shown in texts, (shown, texts)
    assert (
        "listens udp :53" not in texts
    )  # the embedded DNS server's socket is the engine's, not the container's
    lines = root.findall("{http://www.w3.org/2000/svg}line")
    assert len(lines) == 3  # web twice (one per network), front once, alone none


def test_reachability_on_the_simulator_follows_the_networks():
    from stepbox.core.notebook import reachability, reachability_rows

    lab = open_lab("sim", networks=True)
    try:
        lab.runtime.network_manager().create("n1")
        lab.start("sleep", "60", name="a")
        lab.start("sleep", "60", name="b", network="n1")
        lab.runtime.connect(lab.runtime.get("b"), "bridge")
        lab.start("sleep", "60", name="c", network="n1")
        verdict = reachability(lab)
        assert verdict == {
            ("a", "b"): True, ("a", "c"): False,
            ("b", "a"): True, ("b", "c"): True,
            ("c", "a"): False, ("c", "b"): True,
        }  # fmt: skip
        rows, heading = reachability_rows(verdict)
        assert heading == ("from \\ to", "a", "b", "c")
        assert rows[0] == ("a", "—", "reaches", "no")
    finally:
        lab.close()


def test_a_build_walk_in_a_chinese_lab_explains_in_chinese(tmp_path):
    from stepbox.core.notebook.builds import build_walk

    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo hi > /hi\nCMD [\"cat\", \"/hi\"]\n")
    with open_lab("sim", lang="zh") as lab:
        walk = build_walk(lab, str(tmp_path), tags=("zh-demo",))
        views = walk.run_to_end()
        shown = [view._repr_html_() for view in views]
    assert (
        "把容器的可读写层" in shown[1] and "RUN echo hi &gt; /hi" in shown[1]
    )  # the instruction, as written
    assert "给镜像打标签" in shown[-1]


def test_a_screen_shows_what_a_terminal_would_and_waits_past_what_it_returned():
    from stepbox.core.notebook.terminals import Screen, screen

    # busybox's line editor on Linux: ask for the cursor, go back, redraw the prompt
    assert screen(b"/ # \x1b[6n\r/ # \x1b[Jecho hi\r\nhi\r\n/ # ") == ["/ # echo hi", "hi", "/ # "]
    ours, theirs = socket.socketpair()
    with ours, theirs:
        terminal = Screen(ours.makefile("rb"))
        theirs.sendall(b"one\r\n/ # two\r\n/ # ")  # two prompts in one read
        assert terminal.wait_for(b"/ # ", timeout=5) == "one\n/ # "
        assert terminal.wait_for(b"/ # ", timeout=5) == "two\n/ # "  # the second, not the first again
        calls = []
        with pytest.raises(TimeoutError, match="never"):
            terminal.wait_for(b"never", timeout=0.5, every=lambda: calls.append(1))
        assert calls  # called while waiting
        theirs.sendall(b"bye\r\n")
        theirs.shutdown(socket.SHUT_WR)
        assert terminal.wait_for_end(timeout=5) == "bye\n"
