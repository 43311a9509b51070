"""Output that looks like docker's: ps tables, relative times, --format."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from stepbox.core.container.record import CREATED, EXITED, PAUSED, RUNNING, ContainerRecord


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def human_duration(seconds: float) -> str:
    """docker's units.HumanDuration."""
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = seconds / 60
    if minutes < 2:
        return "About a minute"
    if minutes < 60:
        return f"{int(minutes)} minutes"
    hours = minutes / 60
    if hours < 2:
        return "About an hour"
    if hours < 48:
        return f"{int(hours)} hours"
    days = hours / 24
    return f"{int(days)} days" if days < 14 else f"{int(days / 7)} weeks"


def ago(text: str) -> str:
    return human_duration((datetime.now(timezone.utc) - parse_time(text)).total_seconds()) + " ago"


def status_of(record: ContainerRecord) -> str:
    if record.state == CREATED:
        return "Created"
    if record.state in (RUNNING, PAUSED):
        up = human_duration((datetime.now(timezone.utc) - parse_time(record.started_at)).total_seconds())
        return f"Up {up}" + (" (Paused)" if record.state == PAUSED else "")
    if record.state == EXITED:
        return f"Exited ({record.exit_code}) {ago(record.finished_at)}"
    return record.state.capitalize()


def command_of(record: ContainerRecord, width: int = 20) -> str:
    text = " ".join(record.argv)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f'"{text}"'


def ps_table(records: list[ContainerRecord]) -> str:
    rows = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES")]
    rows += [(r.short_id, r.config.image, command_of(r), ago(r.created), status_of(r), "", r.name)
             for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


_FIELD = re.compile(r"\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}")


def go_template(template: str, data: dict) -> str:
    """The subset of docker's ``--format`` Go templates people use most:
    ``{{.State.ExitCode}}`` and ``{{json .Config}}``."""
    def value(match: re.Match) -> str:
        current = data
        for part in filter(None, match.group(2).split(".")):
            if not isinstance(current, dict) or part not in current:
                raise KeyError(f'template: :1: executing "" at <.{match.group(2)}>: '
                               f'map has no entry for key "{part}"')
            current = current[part]
        if match.group(1) or isinstance(current, (dict, list)):
            return json.dumps(current)
        if isinstance(current, bool):
            return "true" if current else "false"
        if current is None:
            return "<nil>"
        return str(current)
    return _FIELD.sub(value, template)
