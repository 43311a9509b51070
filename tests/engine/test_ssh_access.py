"""``-H ssh://user@host``: the client runs ``stepbox system dial-stdio`` over ssh.

A real sshd, started by the test on 127.0.0.1 with its own host key and an
authorized key made here, stands for the remote machine; its sessions get
``STEPBOX_HOST`` pointing at a daemon of the test's (sshd_config SetEnv),
so the far side's ``stepbox system dial-stdio`` reaches that daemon.  The
command the client asks for is checked, then run as this checkout's
``stepbox`` (a login shell's PATH might find another one first).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from tests.conftest import IS_LINUX_ROOT

from .daemon_process import TestDaemon

SSHD = "/usr/sbin/sshd"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(SSHD) and shutil.which("ssh") and shutil.which("ssh-keygen") and IS_LINUX_ROOT),
    reason="needs openssh (client and server, scripts/install.sh installs them) and root to run an sshd",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def remote():
    """A daemon, and an sshd whose sessions talk to it; the client's ssh command."""
    directory = tempfile.mkdtemp(prefix="sbx-ssh-")
    daemon = TestDaemon("sim")
    sshd = None
    try:
        daemon.start()
        daemon.client().request("POST", "/images/create", query={"fromImage": "busybox", "tag": "latest"})
        for name in ("host_key", "client_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(directory, name)],
                check=True,
            )
        shutil.copy(os.path.join(directory, "client_key.pub"), os.path.join(directory, "authorized_keys"))
        port = free_port()
        bin_dir = os.path.dirname(sys.executable)  # where this venv's `stepbox` is
        config = os.path.join(directory, "sshd_config")
        with open(config, "w") as f:
            f.write(
                f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory}/host_key\n"
                f"AuthorizedKeysFile {directory}/authorized_keys\nPidFile {directory}/sshd.pid\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
                f"SetEnv STEPBOX_HOST={daemon.host}\n"
                f'ForceCommand test "$SSH_ORIGINAL_COMMAND" = "stepbox system dial-stdio" '
                f"&& exec {bin_dir}/stepbox system dial-stdio\n"
            )
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        sshd = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", config], stderr=open(os.path.join(directory, "sshd.log"), "wb")
        )
        deadline = time.monotonic() + 10
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert sshd.poll() is None and time.monotonic() < deadline, open(
                os.path.join(directory, "sshd.log")
            ).read()
            time.sleep(0.05)
        ssh_command = (
            f"ssh -i {directory}/client_key -o BatchMode=yes -o StrictHostKeyChecking=no "
            f"-o UserKnownHostsFile={directory}/known_hosts -o LogLevel=ERROR"
        )
        yield f"ssh://root@127.0.0.1:{port}", ssh_command, daemon
    finally:
        if sshd is not None:
            sshd.terminate()
            sshd.wait(10)
        daemon.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def stepbox(*args: str, ssh_command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "STEPBOX_"))}
    env["STEPBOX_SSH_COMMAND"] = ssh_command
    return subprocess.run(
        [sys.executable, "-m", "stepbox", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def test_run_and_ps_over_ssh(remote):
    host, ssh_command, daemon = remote
    hello = stepbox("-H", host, "run", "--rm", "busybox", "echo", "over ssh", ssh_command=ssh_command)
    assert (hello.returncode, hello.stdout) == (0, "over ssh\n"), hello.stderr + daemon.log()[-2000:]
    started = stepbox(
        "-H", host, "run", "-d", "--name", "far", "busybox", "sleep", "60", ssh_command=ssh_command
    )
    assert started.returncode == 0, started.stderr
    listed = stepbox("-H", host, "ps", ssh_command=ssh_command)
    assert listed.returncode == 0 and "far" in listed.stdout
    assert stepbox("-H", host, "rm", "-f", "far", ssh_command=ssh_command).returncode == 0
    # The daemon on the far side is the one the test started.
    assert not [c for c in daemon.client().containers(all_=True) if "/far" in c["Names"]]


def test_a_refused_ssh_login_is_an_error_not_a_hang(remote):
    host, ssh_command, _ = remote
    reply = stepbox("-H", host.replace("root@", "nobody-here@"), "ps", ssh_command=ssh_command, timeout=60)
    assert reply.returncode == 1  # docker 28: a daemon it cannot reach is 1 for all but run
