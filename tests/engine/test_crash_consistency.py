"""kill -9 of the daemon in the middle of a transfer, then a restart: the
state is consistent and nothing is half-visible.

For each operation the daemon is killed after a random delay that falls
somewhere inside it (seeded, printed on failure), then started again on
the same state directory:

* the image is there whole (every blob its manifest names, with the right
  digest) or not at all -- never named but broken;
* no scratch directory of the interrupted transfer is left (the store sweeps
  it at start), and an image prune leaves every named image intact;
* the daemon serves, and the same operation, done again, succeeds.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import random
import tarfile
import threading
import time

import pytest
from stepbox.core.engine.client import EngineClient, EngineError
from stepbox.core.engine.wire import ProtocolError
from stepbox.core.image.store import ImageStore
from stepbox.core.registry.client import RegistryClient
from stepbox.core.registry.server import make_server

from .daemon_process import TestDaemon

LAYERS, LAYER_BYTES = 3, 8 << 20
SEEDS = [int(s) for s in os.environ.get("STEPBOX_CRASH_SEEDS", "1,2,3").split(",")]


def big_archive() -> bytes:
    """A docker-save archive of a few random (incompressible) layers."""
    rng = random.Random(42)
    layers, diff_ids = [], []
    for n in range(LAYERS):
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            info = tarfile.TarInfo(f"data{n}")
            info.size = LAYER_BYTES
            tar.addfile(info, io.BytesIO(rng.randbytes(LAYER_BYTES)))
        layers.append(out.getvalue())
        diff_ids.append("sha256:" + hashlib.sha256(out.getvalue()).hexdigest())
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    ).encode()
    manifest = [
        {"Config": "img/config.json", "RepoTags": ["big:1"], "Layers": [f"l{n}.tar" for n in range(LAYERS)]}
    ]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        files = [(f"l{n}.tar", data) for n, data in enumerate(layers)]
        files += [("img/config.json", config), ("manifest.json", json.dumps(manifest).encode())]
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def assert_consistent(d: TestDaemon) -> list[str]:
    """The store after a restart; the tags it holds."""
    store = ImageStore(os.path.join(d.root, "images"))
    tags: list[str] = []
    for image in store.list():
        for digest in (image.manifest_digest, image.id, *image.layers):
            with open(store.blob_path(digest), "rb") as f:
                assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == digest, "a blob that lies"
        tags += image.tags
    leftovers = glob.glob(os.path.join(d.root, "images", ".tmp-*"))
    assert not leftovers, f"scratch left after the restart: {leftovers}"
    return tags


def kill_during(d: TestDaemon, operation, seed: int, window: float) -> None:
    """Run ``operation`` (a client call) and kill -9 the daemon after a
    random part of ``window`` seconds."""
    delay = random.Random(seed).uniform(0.0, window)
    errors: list[BaseException] = []

    def run():
        try:
            operation()
        except (EngineError, OSError, ValueError, ProtocolError) as e:
            errors.append(e)  # cut off by the kill: expected

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(delay)
    d.kill()
    worker.join(60)
    assert not worker.is_alive(), "the client hung after the daemon died"


@pytest.fixture
def daemon():
    d = TestDaemon("sim")
    try:
        d.start()
        d.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        yield d
    finally:
        d.cleanup()


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_during_load(daemon, seed):
    archive = big_archive()
    client = daemon.client()
    started = time.monotonic()
    client.request("POST", "/images/load", raw_body=archive)  # how long one takes here
    client.request("DELETE", "/images/big:1")
    client.request("POST", "/images/prune")
    window = time.monotonic() - started
    kill_during(
        daemon,
        lambda: EngineClient(daemon.socket_path).request("POST", "/images/load", raw_body=archive),
        seed,
        window,
    )
    daemon.start()
    tags = assert_consistent(daemon)
    client = daemon.client()
    client.request("POST", "/images/prune")
    assert set(assert_consistent(daemon)) == set(tags)
    if "big:1" not in tags:
        client.request("POST", "/images/load", raw_body=archive)
    assert client.image("big:1")["RootFS"]["Layers"]


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_during_pull(daemon, seed, tmp_path):
    registry = make_server("127.0.0.1:0", str(tmp_path / "registry"))
    registry.serve_in_thread()
    try:
        # An image in the registry, pushed from a store of this test's.
        source = ImageStore(str(tmp_path / "source"))
        from stepbox.core.image import archive

        archive.load(source, io.BytesIO(big_archive()))
        name = f"{registry.netloc}/crash/big:1"
        source.tag(source.resolve("big:1"), name)
        RegistryClient(source, progress=False).push(name)
        client = daemon.client()
        started = time.monotonic()
        client.request("POST", "/images/create", query={"fromImage": name})
        window = time.monotonic() - started
        client.request("DELETE", f"/images/{name}")
        client.request("POST", "/images/prune")
        kill_during(
            daemon,
            lambda: EngineClient(daemon.socket_path).request(
                "POST", "/images/create", query={"fromImage": name}
            ),
            seed,
            window,
        )
        daemon.start()
        tags = assert_consistent(daemon)
        client = daemon.client()
        client.request("POST", "/images/prune")
        assert set(assert_consistent(daemon)) == set(tags)
        client.request("POST", "/images/create", query={"fromImage": name})
        assert len(client.image(name)["RootFS"]["Layers"]) == LAYERS
    finally:
        registry.close()


def test_a_prune_during_a_pull_keeps_its_layers(daemon, tmp_path):
    """The blobs a pull has stored but not yet named are pinned against an
    image prune running at the same moment."""
    registry = make_server("127.0.0.1:0", str(tmp_path / "registry"))
    registry.serve_in_thread()
    try:
        source = ImageStore(str(tmp_path / "source"))
        from stepbox.core.image import archive

        archive.load(source, io.BytesIO(big_archive()))
        name = f"{registry.netloc}/crash/big:1"
        source.tag(source.resolve("big:1"), name)
        RegistryClient(source, progress=False).push(name)
        client = daemon.client()
        pulling = threading.Thread(
            target=lambda: EngineClient(daemon.socket_path).request(
                "POST", "/images/create", query={"fromImage": name}
            )
        )
        pulling.start()
        while pulling.is_alive():
            client.request("POST", "/images/prune")
        assert len(client.image(name)["RootFS"]["Layers"]) == LAYERS
        assert_consistent(daemon)
        cid = client.create({"Image": name, "Cmd": ["true"]})  # its layers are all there to unpack
        client.remove(cid)
    finally:
        registry.close()


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_during_build(daemon, seed):
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        dockerfile = (
            b"FROM busybox\nRUN echo one > /one\nRUN sleep 1\nRUN echo two > /two\nCOPY Dockerfile /\n"
        )
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))

    def build(client: EngineClient, tag: str) -> bytes:
        with client.stream(
            "POST", "/build", query={"t": tag, "nocache": 1}, upload=io.BytesIO(context.getvalue())
        ) as reply:
            return reply.body.read()

    client = daemon.client()
    started = time.monotonic()
    build(client, "probe:1")
    window = time.monotonic() - started
    kill_during(daemon, lambda: build(EngineClient(daemon.socket_path), "built:1"), seed, window)
    daemon.start()
    tags = assert_consistent(daemon)
    client = daemon.client()
    for row in client.containers(all_=True):  # a RUN's container may be left, as docker's are
        client.inspect(row["Id"])
        client.remove(row["Id"], force=True)
    client.request("POST", "/images/prune")
    assert set(assert_consistent(daemon)) == set(tags)
    assert b'"aux"' in build(client, "built:1")
    code, out, _ = client.run_attached(client.create({"Image": "built:1", "Cmd": ["cat", "/one", "/two"]}))
    assert (code, out) == (0, b"one\ntwo\n")


# --------------------------------------------------------- the real kernel


@pytest.fixture
def linux_daemon():
    from tests.conftest import IS_LINUX_ROOT, LINUX_ONLY_REASON

    if not IS_LINUX_ROOT:
        pytest.skip(LINUX_ONLY_REASON)
    d = TestDaemon("linux")
    try:
        d.start()
        d.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        yield d
    finally:
        d.cleanup()


def stray_mounts(d: TestDaemon, client: EngineClient) -> list[str]:
    """Root filesystems mounted for containers that are not running."""
    running = {c["Id"] for c in client.containers() if c["State"] in ("running", "paused")}
    with open("/proc/self/mountinfo") as f:
        targets = [line.split()[4] for line in f if d.root in line.split()[4]]
    return [t for t in targets if not any(cid in t for cid in running) and "/mounts/" in t]


@pytest.mark.linux
@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_during_start(linux_daemon, seed):
    d = linux_daemon
    client = d.client()
    probe = client.create({"Image": "busybox", "Cmd": ["true"]})
    started = time.monotonic()
    client.start(probe)
    window = time.monotonic() - started
    client.remove(probe, force=True)
    cid = client.create({"Image": "busybox", "Cmd": ["sleep", "1000"]})
    kill_during(d, lambda: EngineClient(d.socket_path).start(cid), seed, window)
    d.start()
    client = d.client()
    state = client.inspect(cid)["State"]["Status"]
    assert state in ("created", "running", "exited"), state
    assert_not_half_started(d, client, cid)
    client.start(cid)  # no EBUSY: the interrupted start left nothing in the way
    assert client.inspect(cid)["State"]["Status"] == "running"
    client.remove(cid, force=True)


@pytest.mark.linux
def test_kill_9_after_the_exec_and_before_the_record(linux_daemon):
    """The narrowest window of a start: the command runs, the record still
    says Created (its last save came before the exec).  Made exactly: the
    container started, the daemon killed, the record put back as that save
    left it.  The next daemon finds the process from the shim's run
    directory, which no record names, and kills it."""
    d = linux_daemon
    client = d.client()
    cid = client.create({"Image": "busybox", "Cmd": ["sleep", "1000"]})
    client.start(cid)
    pid = client.inspect(cid)["State"]["Pid"]
    d.kill()
    path = os.path.join(d.root, "linux", "containers", cid, "config.json")
    with open(path) as f:
        record = json.load(f)
    record["state"] = "created"
    with open(path, "w") as f:
        json.dump(record, f)
    d.start()
    client = d.client()
    assert f"killed process {pid} of container {cid[:12]}" in d.log(), d.log()[-3000:]
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert_not_half_started(d, client, cid)
    client.start(cid)
    assert client.inspect(cid)["State"]["Status"] == "running"
    client.remove(cid, force=True)


def assert_not_half_started(d: TestDaemon, client: EngineClient, cid: str) -> None:
    """A container that is not running has no process in its cgroup and no
    mount: whatever an interrupted start left, the restart released."""
    assert "was never recorded as started" not in d.log(), d.log()[-3000:]
    if client.inspect(cid)["State"]["Status"] == "running":
        return
    for procs in glob.glob(f"/sys/fs/cgroup/*/stepbox/{cid}/cgroup.procs") + glob.glob(
        f"/sys/fs/cgroup/stepbox/{cid}/cgroup.procs"
    ):
        with open(procs) as f:
            assert not f.read().split(), f"a process runs in {procs}, the container is not running"
    assert not stray_mounts(d, client), "a mount of a container not running was left:\n" + d.log()[-3000:]


@pytest.mark.linux
@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_during_commit(linux_daemon, seed):
    d = linux_daemon
    client = d.client()
    cid = client.create(
        {
            "Image": "busybox",
            "Cmd": ["sh", "-c", "dd if=/dev/urandom of=/data bs=1M count=48 2>/dev/null; sleep 1000"],
        }
    )
    client.start(cid)
    while client.exec(cid, ["sh", "-c", "test $(wc -c < /data) -ge 50331648"])[0] != 0:
        time.sleep(0.2)
    started = time.monotonic()
    client.request("POST", "/commit", query={"container": cid, "repo": "probe"})
    window = time.monotonic() - started
    kill_during(
        d,
        lambda: EngineClient(d.socket_path).request(
            "POST", "/commit", query={"container": cid, "repo": "saved"}
        ),
        seed,
        window,
    )
    d.start()
    client = d.client()
    assert client.inspect(cid)["State"]["Status"] == "running", "a commit froze it, and nobody thawed it"
    assert client.exec(cid, ["echo", "alive"])[:2] == (0, b"alive\n")
    tags = assert_consistent(d)
    assert "probe:latest" in tags
    client.remove(cid, force=True)
