"""Where container records live: one JSON file per container, or only memory.

The daemon keeps records on disk so that ``stepbox run --name w …`` and a
later ``stepbox diff w`` -- or the next daemon -- see the same container; an
in-process engine (notebooks, benchmarks, property tests) may keep them in
memory.

A record that cannot be read (truncated by a crash of the disk or of the
machine, edited by hand) must not keep the daemon from starting, nor make
every ``ps`` fail: its directory is moved to ``quarantine/`` beside the
containers, with a warning in the daemon's log saying where, and the
container is left out -- for a person to look at, never silently deleted.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterable
from typing import Any

from stepbox.core.kernel.atomic import atomic_write, read_json, sweep_temporaries

from .errors import Conflict, NoSuchContainer
from .record import ContainerRecord

log = logging.getLogger("stepbox.containers")


def remove_container_dir(path: str, names: Iterable[str] = ()) -> None:
    """Remove a container's directory (its record, logs and /etc files);
    gone already is fine.  ``names`` are the files the engine puts there:
    each is unlinked by name (one missing is fine), then the directory --
    without reading it, four system calls fewer per container.  Anything
    else there (a file not named, a subdirectory, a temporary a crash left)
    makes that rmdir fail, and then the directory is read: its plain files
    are unlinked, then it -- about half the system calls of shutil.rmtree's
    fd-safe walk, which every ``run --rm`` paid.  Anything else in it (a
    subdirectory) goes through rmtree."""
    if names:
        try:
            for name in names:
                try:
                    os.unlink(os.path.join(path, name))
                except FileNotFoundError:
                    pass
            os.rmdir(path)
            return
        except OSError:
            pass  # not empty, or not as expected: the way below says what is there
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    raise IsADirectoryError(entry.path)
                os.unlink(entry.path)
        os.rmdir(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


class ContainerStore:
    def __init__(self, root: str | None):
        """``root=None`` keeps everything in memory."""
        self.root = root
        self._memory: dict[str, ContainerRecord] = {}
        # id -> the record last written, compact (what a save compares against) ...
        self._written: dict[str, str] = {}
        # ... and its config with that config's dict: a config never changes
        # (frozen), so a record's later saves reuse the dict (issue 18)
        self._config_dicts: dict[str, tuple[object, dict[str, Any]]] = {}
        if root:
            # 0700: a container's logs are its business (dockerd: 0710).
            os.makedirs(root, mode=0o700, exist_ok=True)
            os.chmod(root, 0o700)
            sweep_temporaries(root)

    def container_dir(self, container_id: str) -> str | None:
        return os.path.join(self.root, container_id) if self.root else None

    def save(self, record: ContainerRecord) -> None:
        if self.root:
            # Not fsynced: a record is rewritten many times per lifecycle and
            # rename alone already makes each write all-or-nothing.  Most
            # steps change nothing in it: then nothing is written.  What is
            # compared is the compact JSON (the C encoder); the indented one
            # that is written (readable: the record is part of the lesson)
            # takes json's Python encoder, five times slower -- so only
            # when something changed.
            data = self._fields(record)
            compact = json.dumps(data, sort_keys=True)
            if self._written.get(record.id) != compact:
                text = json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"
                atomic_write(os.path.join(self.root, record.id, "config.json"), text, durable=False)
                self._written[record.id] = compact
        else:
            self._memory[record.id] = record

    def _fields(self, record: ContainerRecord) -> dict[str, Any]:
        """``record.to_dict()``, with the config's dict made once per config."""
        known = self._config_dicts.get(record.id)
        if known is None or known[0] is not record.config:
            known = self._config_dicts[record.id] = (record.config, record.config.to_dict())
        return record.to_dict(config=known[1])

    def delete(self, record: ContainerRecord) -> None:
        self._written.pop(record.id, None)
        self._config_dicts.pop(record.id, None)
        if self.root:
            remove_container_dir(os.path.join(self.root, record.id))
        else:
            self._memory.pop(record.id, None)

    def all(self) -> list[ContainerRecord]:
        if not self.root:
            return list(self._memory.values())
        records = []
        for entry in sorted(os.listdir(self.root)):
            path = os.path.join(self.root, entry, "config.json")
            try:
                records.append(ContainerRecord.from_dict(read_json(path)))
            except FileNotFoundError:
                continue  # not a container (or removed meanwhile)
            except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
                self._quarantine(self.root, entry, e)
        return records

    def _quarantine(self, root: str, entry: str, error: Exception) -> None:
        target = os.path.join(
            os.path.dirname(root), "quarantine", f"{entry}-{time.strftime('%Y%m%dT%H%M%S')}"
        )
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.rename(os.path.join(root, entry), target)
        except OSError as e:
            log.warning(
                "container record %s is damaged (%s) and could not be moved away: %s", entry, error, e
            )
            return
        self._written.pop(entry, None)
        self._config_dicts.pop(entry, None)
        log.warning(
            "container record %s is damaged (%s: %s): moved to %s and left out",
            entry,
            type(error).__name__,
            error,
            target,
        )

    def find(self, name_or_id: str) -> ContainerRecord:
        """By full ID, name or unique ID prefix, like docker."""
        exact = self._by_full_id(name_or_id)
        if exact is not None:
            return exact
        records = self.all()
        for record in records:
            if name_or_id in (record.name, record.id) or name_or_id == "/" + record.name:
                return record
        matches = [r for r in records if r.id.startswith(name_or_id)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"multiple IDs found with provided prefix: {name_or_id}")
        raise NoSuchContainer(name_or_id)

    def _by_full_id(self, cid: str) -> ContainerRecord | None:
        """The record of a full container ID, read alone: the engine finds
        containers by ID all the time (``ps`` once per container), and
        reading every record for each would make listing quadratic."""
        if len(cid) != 64 or any(c not in "0123456789abcdef" for c in cid):
            return None
        if not self.root:
            return self._memory.get(cid)
        try:
            return ContainerRecord.from_dict(read_json(os.path.join(self.root, cid, "config.json")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            return None  # none, or damaged: the full listing says which (and quarantines it)

    def check_name_free(self, name: str) -> None:
        for record in self.all():
            if record.name == name:
                raise Conflict(
                    f'Conflict. The container name "/{name}" is already in use by container '
                    f'"{record.id}". You have to remove (or rename) that container to be able to reuse that name.'
                )
