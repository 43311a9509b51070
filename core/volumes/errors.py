"""Volume errors, worded as Docker's volume service words them
(``create a/b: ...``, ``get nosuch: no such volume``, ``remove v: volume is
in use - [id]``), each with the HTTP status dockerd answers with."""

from __future__ import annotations


class VolumeError(Exception):
    status = 500

    def __init__(self, op: str, name: str, message: str, refs: list[str] | None = None):
        text = f"{op} {name}: {message}" if name else f"{op}: {message}"
        if refs:
            text += " - [" + ", ".join(refs) + "]"
        super().__init__(text)
        self.op, self.name, self.refs = op, name, list(refs or [])


class InvalidVolume(VolumeError):
    """A name or an option Docker would refuse."""

    status = 400


class NoSuchVolume(VolumeError):
    status = 404

    def __init__(self, name: str, op: str = "get"):
        super().__init__(op, name, "no such volume")


class VolumeInUse(VolumeError):
    """``docker volume rm`` of a volume a container (even a stopped one) uses."""

    status = 409

    def __init__(self, name: str, refs: list[str]):
        super().__init__("remove", name, "volume is in use", refs)


class InvalidFilter(VolumeError):
    status = 400

    def __init__(self, text: str):
        Exception.__init__(self, f"Invalid filter '{text}'")
        self.op, self.name, self.refs = "filter", "", []
