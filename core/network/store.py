"""Networks the daemon manages, and where they are kept.

The seed lists networks among the objects the Docker daemon manages, next to
images, containers and volumes.  A :class:`NetworkRecord` is one of them: its
name and ID, driver, subnet and gateway, and the Linux bridge that carries
it.  Which containers are *on* a network is not kept here but in each
container's record (its attachments): one source of truth, so a crash
between two writes cannot leave the two disagreeing.

Records are JSON files under ``<state>/<backend>/networks/``, each written
atomically (temporary name, rename), or kept in memory for an in-process
engine.  The three networks Docker always lists -- ``bridge``, ``host``,
``none`` -- are records too (``bridge`` only while the daemon has one).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field

from stepbox.core.kernel.atomic import atomic_write_json, read_json, sweep_temporaries

DEFAULT_BRIDGE = "stepbox0"  # Docker's docker0


class NetworkError(Exception):
    """Base of the errors a user can cause here (the API maps them)."""


class NoSuchNetwork(NetworkError):
    def __init__(self, name: str):
        super().__init__(f"network {name} not found")


class NetworkConflict(NetworkError):
    pass


class InvalidNetwork(NetworkError):
    pass


@dataclass
class NetworkRecord:
    id: str
    name: str
    driver: str  # "bridge", "host" or "null"
    created: str
    subnet: str = ""  # "172.18.0.0/16"; "" for host and null
    gateway: str = ""
    ip_range: str = ""
    internal: bool = False
    attachable: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)  # exactly what the creator passed (-o)
    ipam_options: dict[str, str] = field(default_factory=dict)
    bridge: str = ""  # the Linux bridge's name; "" for host and null
    predefined: bool = False  # bridge, host, none: made by the daemon, never removed by users
    masquerade: bool = True

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def user_defined(self) -> bool:
        """Docker gives containers on user-defined networks its embedded DNS
        (names resolve); the default bridge only gets /etc/hosts."""
        return not self.predefined and self.driver == "bridge"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NetworkRecord:
        return cls(**data)


def new_network_id() -> str:
    return secrets.token_hex(32)


class NetworkStore:
    def __init__(self, root: str | None):
        """``root=None`` keeps everything in memory."""
        self.root = root
        self._memory: dict[str, NetworkRecord] = {}
        if root:
            os.makedirs(root, exist_ok=True)
            sweep_temporaries(root)

    def save(self, record: NetworkRecord) -> None:
        if self.root:
            atomic_write_json(os.path.join(self.root, f"{record.id}.json"), record.to_dict())
        else:
            self._memory[record.id] = record

    def delete(self, record: NetworkRecord) -> None:
        if self.root:
            try:
                os.unlink(os.path.join(self.root, f"{record.id}.json"))
            except FileNotFoundError:
                pass
        else:
            self._memory.pop(record.id, None)

    def all(self) -> list[NetworkRecord]:
        if not self.root:
            records = list(self._memory.values())
        else:
            records = []
            for entry in sorted(os.listdir(self.root)):
                if entry.endswith(".json"):
                    try:
                        records.append(NetworkRecord.from_dict(read_json(os.path.join(self.root, entry))))
                    except (OSError, ValueError, TypeError):
                        continue  # unreadable: not ours to guess at
        return sorted(records, key=lambda r: (r.created, r.name))

    def find(self, name_or_id: str) -> NetworkRecord:
        """By full ID, name, or unique ID prefix -- Docker's order."""
        records = self.all()
        for record in records:
            if record.id == name_or_id:
                return record
        for record in records:
            if record.name == name_or_id:
                return record
        matches = [r for r in records if r.id.startswith(name_or_id)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NetworkConflict(
                f"network {name_or_id} is ambiguous ({len(matches)} matches found based on ID prefix)"
            )
        raise NoSuchNetwork(name_or_id)

    def by_name(self, name: str) -> NetworkRecord | None:
        return next((r for r in self.all() if r.name == name), None)
