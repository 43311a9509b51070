"""``rename``, ``update`` and ``stats``: changing and watching a container's settings.

* ``POST /containers/{id}/rename?name=NEW`` -- 204; 409 if the name is taken.
* ``POST /containers/{id}/update`` -- new limits (``Memory``, ``NanoCpus``,
  ``PidsLimit``) and restart policy, applied to a running container's
  cgroup at once (the update phase); any other field with a value is
  refused by name.  Answers ``{"Warnings": []}``.
* ``GET /containers/{id}/stats`` -- Docker's stats JSON from the cgroup's
  counters: one sample (``stream=0``: two, a second apart, so that the CPU
  percentage has something to compare with; ``one-shot=1``: just one), or
  one per second while the client reads (``docker stats``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from datetime import UTC, datetime

from stepbox.core.container.flags import InvalidConfig
from stepbox.core.container.record import PAUSED, RUNNING, ContainerRecord
from stepbox.core.http_server.messages import Request, Response, StreamResponse
from stepbox.core.kernel import KernelError

from .create_body import check_container_name, check_cpus, restart_policy_from_api
from .engine import Engine
from .errors import BadParameter
from .routes import Router
from .system import host_memory_total

ZERO_TIME = "0001-01-01T00:00:00Z"
# Fields of an update body stepbox acts on; the others must be empty.
UPDATE_FIELDS = ("Memory", "NanoCpus", "PidsLimit", "RestartPolicy")


class ContainerAdminEndpoints:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        router.add("POST", "/containers/{id}/rename", self.rename)
        router.add("POST", "/containers/{id}/update", self.update)
        router.add("GET", "/containers/{id}/stats", self.stats)

    # -- rename ------------------------------------------------------------------------
    def rename(self, req: Request) -> Response:
        new_name = check_container_name(req.arg("name"))
        if not new_name:
            raise BadParameter("Error when allocating new name: Invalid container name")
        engine = self.engine
        with engine.changing(req.params["id"]) as record:
            old = record.name
            engine.runtime.rename(record, new_name)
        engine.watch(record.id).name = new_name
        engine.container_event(record.id, "rename", oldName="/" + old)
        return Response.empty(204)

    # -- update ------------------------------------------------------------------------
    def update(self, req: Request) -> Response:
        body = req.json(required=True)
        if not isinstance(body, dict):
            raise BadParameter("the request body must be a JSON object")
        for key, value in body.items():
            if key not in UPDATE_FIELDS and value not in (None, 0, "", [], {}, False):
                raise BadParameter(f"stepbox does not support updating {key}")
        engine = self.engine
        with engine.changing(req.params["id"]) as record:
            config = record.config
            changes: dict = {}
            if body.get("Memory") is not None:
                changes["memory"] = _non_negative(body, "Memory") or None
            if body.get("NanoCpus") is not None:
                nano = _non_negative(body, "NanoCpus")
                changes["cpus"] = nano / 1e9 if nano else None
            if body.get("PidsLimit") is not None:
                pids = body["PidsLimit"]
                if not isinstance(pids, int) or isinstance(pids, bool):
                    raise BadParameter("invalid value for PidsLimit: expected an integer")
                changes["pids_limit"] = pids if pids > 0 else None
            if body.get("RestartPolicy") is not None:
                policy = restart_policy_from_api(body["RestartPolicy"])
                if config.auto_remove and not policy.is_none:
                    raise BadParameter(
                        "Restart policy cannot be updated because AutoRemove is enabled for the container"
                    )
                changes["restart_policy"] = policy.name
                changes["restart_max_retries"] = policy.maximum_retry_count
            try:
                new_config = dataclasses.replace(config, **changes)
            except InvalidConfig as e:
                raise BadParameter(str(e)) from None
            check_cpus(new_config.cpus)
            engine.runtime.update(record, new_config)
        engine.container_event(record.id, "update")
        return Response.json({"Warnings": []})

    # -- stats -------------------------------------------------------------------------
    def stats(self, req: Request) -> StreamResponse:
        engine = self.engine
        record = engine.get(req.params["id"])
        stream = req.flag("stream", True)
        one_shot = req.flag("one-shot")
        if one_shot and stream:
            raise BadParameter("cannot have stream=true and one-shot=true")

        def body():
            previous = _empty_sample()
            if not stream and not one_shot:
                previous = self._sample(record.id)  # docker waits for a second sample
                time.sleep(1.0)
            while True:
                current = self._sample(record.id)
                yield json.dumps(_stats_json(record, current, previous)).encode() + b"\n"
                if not stream:
                    return
                previous = current
                time.sleep(1.0)

        return StreamResponse(body())

    def _sample(self, cid: str) -> dict:
        engine = self.engine
        record = engine.get(cid)
        if record.state not in (RUNNING, PAUSED) or not record.cgroup:
            return _empty_sample()
        try:
            stats = engine.kernel.cgroups.stats(record.cgroup)
        except (OSError, KernelError):
            return _empty_sample()  # it exited meanwhile: its cgroup is gone
        return {
            "read": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "cpu_total_ns": stats.cpu_usage_usec * 1000,
            "system_ns": time.monotonic_ns() * (os.cpu_count() or 1),
            "online_cpus": os.cpu_count() or 1,
            "periods": stats.cpu_nr_periods,
            "throttled_periods": stats.cpu_nr_throttled,
            "throttled_ns": stats.cpu_throttled_usec * 1000,
            "memory": stats.memory_current,
            "memory_limit": stats.memory_max or host_memory_total(),
            "pids": stats.pids_current,
            "pids_limit": stats.pids_max,
        }


def _non_negative(body: dict, key: str) -> int:
    value = body[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadParameter(f"invalid value for {key}: expected a non-negative integer")
    return value


def _empty_sample() -> dict:
    return {
        "read": ZERO_TIME,
        "cpu_total_ns": 0,
        "system_ns": 0,
        "online_cpus": 0,
        "periods": 0,
        "throttled_periods": 0,
        "throttled_ns": 0,
        "memory": 0,
        "memory_limit": 0,
        "pids": 0,
        "pids_limit": None,
    }


def _cpu(sample: dict) -> dict:
    return {
        "cpu_usage": {
            "total_usage": sample["cpu_total_ns"],
            "usage_in_kernelmode": 0,
            "usage_in_usermode": 0,
        },
        "system_cpu_usage": sample["system_ns"],
        "online_cpus": sample["online_cpus"],
        "throttling_data": {
            "periods": sample["periods"],
            "throttled_periods": sample["throttled_periods"],
            "throttled_time": sample["throttled_ns"],
        },
    }


def _stats_json(record: ContainerRecord, current: dict, previous: dict) -> dict:
    """Docker's ``StatsResponse`` (the cgroup v2 shape: no per-CPU usage,
    memory ``stats`` with the counters the CLI subtracts)."""
    pids = {"current": current["pids"]}
    if current["pids_limit"]:
        pids["limit"] = current["pids_limit"]
    return {
        "name": "/" + record.name,
        "id": record.id,
        "read": current["read"],
        "preread": previous["read"],
        "pids_stats": pids,
        "blkio_stats": {
            "io_service_bytes_recursive": None,
            "io_serviced_recursive": None,
            "io_queue_recursive": None,
            "io_service_time_recursive": None,
            "io_wait_time_recursive": None,
            "io_merged_recursive": None,
            "io_time_recursive": None,
            "sectors_recursive": None,
        },
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu(current),
        "precpu_stats": _cpu(previous),
        "memory_stats": {
            "usage": current["memory"],
            "stats": {"inactive_file": 0},
            "limit": current["memory_limit"],
        },
    }
