"""Shared test set-up: Hypothesis profiles and the backend switches.

Profiles: ``dev`` (default, quick) and ``ci`` (``HYPOTHESIS_PROFILE=ci``, set by
``.ci/run``: more examples, no deadline because the real kernel is slow to
mount and the CI machine is shared).
"""

from __future__ import annotations

import os
import sys

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

IS_LINUX_ROOT = sys.platform == "linux" and os.geteuid() == 0
LINUX_ONLY_REASON = "needs the real Linux kernel as root (this host: %s, uid %s)" % (
    sys.platform,
    os.geteuid() if hasattr(os, "geteuid") else "n/a",
)


# -- nothing outlives the suite ---------------------------------------------------------------
# Every test cleans up after itself; this is the net under all of them.  At
# the end of the whole run (in the xdist controller, once every worker is
# done) the suite fails if it left a mount or a process under the temp dir,
# or a container cgroup of stepbox's.


def _leftovers() -> dict[str, list[str]]:
    import re
    import tempfile

    tmp = os.path.realpath(tempfile.gettempdir())
    mounts, processes, cgroups = [], [], []
    with open("/proc/mounts") as f:
        for line in f:
            target = line.split()[1]
            if target.startswith(tmp + "/"):
                mounts.append(target)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        text = b" ".join(argv).decode(errors="replace")
        if ("stepbox" in text and tmp + "/" in text) or "stepbox.backends.linux.launcher" in text:
            processes.append(f"{pid}: {text[:200]}")
    for base, dirs, _files in os.walk("/sys/fs/cgroup"):
        if "/stepbox" in base:
            cgroups += [os.path.join(base, d) for d in dirs if re.fullmatch(r"[0-9a-f]{64}", d)]
        if base.count("/") >= 5:
            dirs[:] = []
    return {k: v for k, v in (("mounts", mounts), ("processes", processes), ("cgroups", cgroups)) if v}


def pytest_sessionfinish(session, exitstatus):
    if not IS_LINUX_ROOT or hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller checks once, at the very end
    left = _leftovers()
    if left:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"  {kind}: {item}" for kind, items in left.items() for item in items[:20]]
        message = "the test run left things behind:\n" + "\n".join(lines)
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
