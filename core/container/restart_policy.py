"""``--restart``: when the daemon starts a container again by itself.

Four policies, as Docker has them:

* ``no`` -- never (the default);
* ``always`` -- whenever it exits; a ``docker stop`` holds it until the
  daemon starts again (then it is started too);
* ``unless-stopped`` -- the same, but a ``docker stop`` holds it for good;
* ``on-failure[:N]`` -- when it exits with a status other than 0, at most N
  times (no limit without N).

Between restarts the daemon waits, doubling the wait each time -- 100 ms,
200 ms, 400 ms ... up to a minute -- and starts over at 100 ms once the
container ran for 10 seconds (moby's restartmanager).  A restart is the
exit phase (the monitor records the exit) followed by the start phase: the
same steps as ``docker start``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .flags import InvalidConfig

POLICIES = ("no", "always", "unless-stopped", "on-failure")
FIRST_DELAY = 0.1  # seconds
MAX_DELAY = 60.0
STEADY_AFTER = 10.0  # a container that ran this long starts the backoff over


@dataclass(frozen=True)
class RestartPolicy:
    name: str = "no"
    maximum_retry_count: int = 0

    def __post_init__(self) -> None:
        if self.name not in POLICIES:
            raise InvalidConfig(f"invalid restart policy '{self.name}'")
        if self.maximum_retry_count < 0:
            raise InvalidConfig("invalid restart policy: maximum retry count can't be negative")
        if self.maximum_retry_count and self.name != "on-failure":
            raise InvalidConfig(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
            )

    @classmethod
    def parse(cls, text: str) -> RestartPolicy:
        """The CLI's ``--restart`` value (``on-failure:3``)."""
        name, sep, count = text.partition(":")
        if not name:
            return cls()
        if sep and name != "on-failure":
            raise InvalidConfig(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
            )
        if name not in POLICIES:
            raise InvalidConfig(f"invalid restart policy '{name}'")
        if sep:
            if not count.lstrip("-").isdecimal():
                raise InvalidConfig(
                    "invalid restart policy format: maximum retry count must be an integer: "
                    f'strconv.Atoi: parsing "{count}": invalid syntax'
                )
            return cls(name, int(count))
        return cls(name)

    def to_api(self) -> dict[str, object]:
        return {"Name": self.name, "MaximumRetryCount": self.maximum_retry_count}

    @property
    def is_none(self) -> bool:
        return self.name == "no"

    def should_restart(self, exit_code: int, manually_stopped: bool, restart_count: int) -> bool:
        """After an exit: start it again?  (A ``docker stop`` or ``kill`` is a manual stop.)"""
        if self.name == "always":
            return not manually_stopped
        if self.name == "unless-stopped":
            return not manually_stopped
        if self.name == "on-failure":
            if manually_stopped:
                return False
            if self.maximum_retry_count and restart_count >= self.maximum_retry_count:
                return False
            return exit_code != 0
        return False

    def starts_with_the_daemon(self, exit_code: int, manually_stopped: bool) -> bool:
        """When the daemon starts: ``always`` containers are started even
        after a ``docker stop``; ``unless-stopped`` ones only if they were
        not stopped; ``on-failure`` ones if they failed."""
        if self.name == "always":
            return True
        if self.name == "unless-stopped":
            return not manually_stopped
        if self.name == "on-failure":
            return exit_code != 0 and not manually_stopped
        return False


def next_delay(previous: float, ran_for: float) -> float:
    """The wait before the next restart (moby's restartmanager backoff)."""
    if ran_for >= STEADY_AFTER or previous <= 0:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)
