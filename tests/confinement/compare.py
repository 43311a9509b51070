"""One set of ``docker run`` flags, three places to run it: dockerd, and
stepbox on the real kernel and on the simulator.

The flags go through the very code the ``stepbox`` CLI uses to make its
create request (``run_options.create_body``) and the daemon uses to read it
(``create_body.config_from_body``), so what runs in stepbox is what
``stepbox run FLAGS`` would run.
"""

from __future__ import annotations

from dataclasses import dataclass

from stepbox.core.cli.run_options import create_body
from stepbox.core.engine.create_body import config_from_body

FLAG_DEFAULTS = {
    "hostname": "",
    "env": (),
    "workdir": "",
    "user": "",
    "memory": None,
    "pids_limit": None,
    "cpus": None,
    "network": "none",
    "entrypoint": None,
    "auto_remove": False,
}
# keyword -> docker's flag
DOCKER_FLAG = {
    "user": "--user",
    "cap_add": "--cap-add",
    "cap_drop": "--cap-drop",
    "security_opt": "--security-opt",
    "device": "--device",
    "device_cgroup_rule": "--device-cgroup-rule",
    "group_add": "--group-add",
}


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def docker_args(flags: dict) -> list[str]:
    args = ["--network", "none"]
    for key, value in flags.items():
        if key == "privileged":
            if value:
                args.append("--privileged")
            continue
        for item in [value] if isinstance(value, str) else value:
            args += [DOCKER_FLAG[key], item]
    return args


def config_for(flags: dict, argv: list[str]):
    body = create_body("busybox", argv, **{**FLAG_DEFAULTS, **flags})
    config, _notes = config_from_body(body)
    return config


def run_stepbox(runtime, flags: dict, script: str) -> Ran:
    record = runtime.run(config_for(flags, ["sh", "-c", script]))
    try:
        out, err = runtime.logs(record)
        return Ran(record.exit_code, out.decode(errors="replace"), err.decode(errors="replace"))
    finally:
        runtime.remove(record, force=True)


def run_docker(dockerd, flags: dict, script: str) -> Ran:
    result = dockerd.docker("run", "--rm", *docker_args(flags), "busybox", "sh", "-c", script, check=False)
    return Ran(
        result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
    )
