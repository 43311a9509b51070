"""A fuzzer driven by the Engine API spec: zero server errors, daemon alive.

schemathesis reads ``tests/engine/data/docker-engine-api-v1.44.yaml`` and
sends every operation requests made from its schema -- valid ones, and the
edge cases of every parameter -- to a daemon on the simulated kernel with a
private state directory, through its TCP listener on 127.0.0.1.  Any 5xx
fails the test; so does a daemon that no longer answers afterwards.  (On
the simulator, a generated ``Binds: ["/:/h"]`` or ``Privileged`` cannot
touch the host.)

The time budget is a setting: ``STEPBOX_FUZZ_SECONDS`` (default 120; CI
sets at most 300).  Operations left out: those that stream until the client
hangs up (events, attach, logs, wait, exec start) -- a fuzzer waits for an
end that never comes --, those whose body is a tar schemathesis cannot
make, and those that talk to a registry (pull, push, search, login).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .daemon_process import TestDaemon

SPEC = os.path.join(os.path.dirname(__file__), "data", "docker-engine-api-v1.44.yaml")
BUDGET = float(os.environ.get("STEPBOX_FUZZ_SECONDS", "120"))
# Left out: what streams or hangs by design, what stepbox does not serve, and what
# talks to a registry -- a pull, push, search or login of a name the fuzzer makes up
# goes to docker.io, which tests never reach (no test leaves loopback), and an
# unreachable registry is a 500, as dockerd answers it.
LEFT_OUT = (
    r"^/(events|containers/\{id\}/(attach|attach/ws|wait|logs|stats|archive|export)|"
    r"exec/\{id\}/start|build|images/load|session|swarm.*|services.*|nodes.*|tasks.*|secrets.*|"
    r"configs.*|plugins.*|distribution.*|images/create|images/\{name\}/push|images/search|auth)$"
)


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=os.path.dirname(sys.executable)) or shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is not installed (pip install -e '.[test]')")
    return [found]


@pytest.mark.slow
def test_the_spec_driven_fuzzer_finds_no_server_error(tmp_path):
    daemon = TestDaemon("sim", args=("-H", "tcp://127.0.0.1:0"))
    try:
        daemon.start()
        daemon.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        host, port = daemon.tcp_address()
        run = subprocess.run(
            [
                *schemathesis_command(),
                "run",
                SPEC,
                "--url",
                f"http://{host}:{port}/v1.44",
                "--checks",
                "not_a_server_error",
                "--max-time",
                str(int(BUDGET)),
                "--request-timeout",
                "30",
                "--exclude-path-regex",
                LEFT_OUT,
                "--continue-on-failure",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            cwd=str(tmp_path),
            timeout=BUDGET + 300,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        )
        report = run.stdout[-6000:] + run.stderr[-2000:]
        assert "Server error" not in run.stdout, report + "\ndaemon log:\n" + daemon.log()[-4000:]
        assert run.returncode == 0, report
        assert daemon.process.poll() is None, "the daemon died:\n" + daemon.log()[-4000:]
        assert daemon.client().ping() == "1.44"
    finally:
        daemon.cleanup()
