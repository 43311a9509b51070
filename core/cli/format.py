"""Output that looks like docker's: tables, relative times, --format."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from stepbox.core.units import human_duration


def ago(moment: float | int | str) -> str:
    """``5 minutes ago`` for a Unix time (the API's ``Created``) or an ISO one."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
    return human_duration(time.time() - moment) + " ago"


def command_of(command: str, width: int = 20) -> str:
    if len(command) > width:
        command = command[: width - 1] + "…"
    return f'"{command}"'


def table(rows: Sequence[Sequence[str]]) -> str:
    """docker's tables: Go's tabwriter with padding 3 and minimum width 10 --
    a column is its widest cell plus three spaces, and never narrower than
    ten (``TAG       ``)."""
    widths = [max(max(len(row[i]) for row in rows) + 3, 10) for i in range(len(rows[0]))]
    return "\n".join(
        "".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def ports_column(ports: list[dict]) -> str:
    """docker ps's PORTS: ``0.0.0.0:8080->80/tcp, 81/tcp``."""
    shown = []
    for p in sorted(ports, key=lambda p: (p["PrivatePort"], p.get("PublicPort", 0))):
        if p.get("PublicPort"):
            shown.append(f"{p.get('IP', '0.0.0.0')}:{p['PublicPort']}->{p['PrivatePort']}/{p['Type']}")
        else:
            shown.append(f"{p['PrivatePort']}/{p['Type']}")
    return ", ".join(shown)


def ps_table(containers: list[dict]) -> str:
    """``docker ps`` from ``GET /containers/json`` (the daemon words Status)."""
    rows = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES")]
    rows += [
        (
            c["Id"][:12],
            c["Image"],
            command_of(c["Command"]),
            ago(c["Created"]),
            c["Status"],
            ports_column(c.get("Ports") or []),
            c["Names"][0].lstrip("/") if c["Names"] else "",
        )
        for c in containers
    ]
    return table(rows)


def go_template(template: str, data) -> str:
    """``--format`` / ``-f``: a Go template on the API's JSON (see
    :mod:`stepbox.core.gotemplate`), failing as the docker CLI does:
    ``template parsing error: ...``, status 64 if it does not parse, 1 if it
    fails on the value (a missing field)."""
    from stepbox.core.gotemplate import TemplateError, TemplateSyntaxError, render

    from .errors import CommandFailed

    try:
        return render(template, data)
    except TemplateSyntaxError as e:
        raise CommandFailed(f"template parsing error: {e}", 64) from None
    except TemplateError as e:
        raise CommandFailed(f"template parsing error: {e}", 1) from None
