"""What tests/pyodide/run.mjs runs inside Pyodide (CPython compiled to WebAssembly,
under Node): stepbox's in-process API on the simulated kernel, where there is no
fork, no thread, no socket and no Linux.

Each part prints one line ``ok NAME: what it saw``; the test (test_pyodide.py)
expects every part's line.  A part that fails raises, which ends the script with
a traceback and no "done" line.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import time

started = time.monotonic()


def ok(name: str, what: str) -> None:
    print(f"ok {name}: {what}", flush=True)


# -- where we are: no Linux underneath --------------------------------------------------------
assert sys.platform == "emscripten", sys.platform
ok("platform", f"{sys.platform}, Python {sys.version.split()[0]}")

from stepbox.core.container import plan  # noqa: E402
from stepbox.core.dockerfile.builder import Builder, BuildOptions  # noqa: E402
from stepbox.core.dockerfile.cache import BuildCache  # noqa: E402
from stepbox.core.kernel.backend_lookup import explain_choice  # noqa: E402
from stepbox.core.notebook.lab import open_lab  # noqa: E402

# `auto` has no real kernel to choose here: it must say so and take the simulator.
choice = explain_choice("auto")
assert choice.name == "sim", choice
ok("auto", choice.why)

# -- a full container lifecycle, stepped through ---------------------------------------------
with open_lab("sim") as lab:
    assert lab.backend == "sim"
    record = lab.run("sh", "-c", "echo hello from $(hostname); echo $$", name="box", hostname="box1")
    assert lab.output(record) == "hello from box1\n1\n", repr(lab.output(record))
    record = lab.runtime.refresh(record)
    assert (record.state, record.exit_code) == ("exited", 0), record

    # the same lifecycle, one step at a time, as `stepbox step` and the notebooks walk it
    config = lab.config("sleep", "30")
    stepper = lab.runtime.stepper(
        lab.new_container(config, "walked"), plan.run_plan(config, detach=True), watch=True
    )
    keys = []
    while not stepper.done:
        result = stepper.step()
        keys.append(result.step.key)
    assert "pivot_root" in keys and "exec" in keys, keys
    record = lab.runtime.get("walked")
    assert record.state == "running", record
    assert lab.exec(record, "sh", "-c", "touch /made-here; echo $$") == "2\n"
    diff = dict((path, kind) for kind, path in lab.runtime.diff(record))
    assert diff.get("/made-here") == "A", diff
    lab.runtime.stop(record, timeout=1)
    record = lab.runtime.refresh(record)
    assert record.state == "exited", record
    lab.runtime.remove(record)
    assert [r.name for r in lab.runtime.list(all_=True)] == ["box"]
    ok("lifecycle", f"run, {len(keys)} steps walked ({', '.join(keys[:3])}, ...), exec, diff, stop, remove")

    # -- a Dockerfile build, and a run of what it built ------------------------------------------
    context = tempfile.mkdtemp(prefix="ctx-")
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write(
            textwrap.dedent("""\
            FROM busybox
            RUN echo built > /built.txt
            COPY app.sh /app/
            CMD ["sh", "/app/app.sh"]
            """)
        )
    with open(os.path.join(context, "app.sh"), "w") as f:
        f.write("cat /built.txt; echo app ran\n")
    lines: list[str] = []
    builder = Builder(
        lab.images, lab.runtime, BuildCache(os.path.join(lab.root, "build-cache")), lines.append
    )
    builder.build(BuildOptions(context, tags=("app",)))
    assert lines[-1] == "Successfully tagged app:latest", lines
    again: list[str] = []
    Builder(lab.images, lab.runtime, BuildCache(os.path.join(lab.root, "build-cache")), again.append).build(
        BuildOptions(context, tags=("app",))
    )
    assert sum("Using cache" in line for line in again) == 3, again  # RUN, COPY, CMD
    built = lab.run(image="app", name="app")
    assert lab.output(built) == "built\napp ran\n", repr(lab.output(built))
    ok("build", f"{len(lines)} lines of build output, the second build from cache, the image runs")

    # -- a Hypothesis property of the simulator -----------------------------------------------------
    # Any tree of subshells, each ending with its own status: the container's status is
    # the outermost one's, and every process of the tree is reaped when it ends.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    statuses = st.integers(0, 255)
    trees = st.recursive(
        statuses.map(lambda code: f"exit {code}"),
        lambda kids: st.tuples(st.lists(kids, min_size=1, max_size=3), statuses).map(
            lambda t: "; ".join(f"( {kid} )" for kid in t[0]) + f"; exit {t[1]}"
        ),
        max_leaves=6,
    )
    host_processes = len(lab.kernel.processes.list())
    examples = [0]

    # derandomized, as the ci profile of tests/conftest.py is: the same examples every run
    @settings(max_examples=15, deadline=None, database=None, derandomize=True)
    @given(trees)
    def the_outermost_status_is_the_containers(script: str) -> None:
        examples[0] += 1
        record = lab.runtime.refresh(lab.run("sh", "-c", script))
        assert record.exit_code == int(script.rsplit(" ", 1)[1]), (script, record.exit_code)
        assert len(lab.kernel.processes.list()) == host_processes, script
        lab.runtime.remove(record)

    the_outermost_status_is_the_containers()
    ok("hypothesis", f"{examples[0]} examples of subshell trees, every status and process right")

# -- and nothing of what Pyodide lacks was used -------------------------------------------------
import threading  # noqa: E402

assert threading.active_count() == 1, threading.enumerate()  # no thread ran (none can start here)
# ... and none could have: here a thread cannot start and fork fails
try:
    threading.Thread(target=lambda: None).start()
    raise AssertionError("a thread started: this is not the WebAssembly host the test means")
except RuntimeError:
    pass
try:
    os.fork()
    raise AssertionError("fork worked: this is not the WebAssembly host the test means")
except OSError:
    pass
heavy = sorted(
    set(sys.modules)
    & {"subprocess", "socket", "fcntl", "termios", "pty", "multiprocessing", "select", "ssl", "regex"}
)
ok("imports", f"one thread, no fork; imported but unused: {', '.join(heavy) or 'none'}")
print(f"done in {time.monotonic() - started:.1f}s", flush=True)
