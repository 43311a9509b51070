"""``GET /containers/{id}/top``: the container's processes as ``ps -ef``
shows them, which is what dockerd answers (it runs the host's ``ps`` and
keeps the lines of the container's PIDs).

The columns are ps's: UID (the host's name for the user), PID and PPID (host
PIDs), C (CPU use in percent of the time since the process started,
truncated), STIME (HH:MM today, MmmDD this year, else the year), TTY (``?``
for none), TIME (CPU time, ``[DD-]HH:MM:SS``) and CMD.
"""

from __future__ import annotations

import time

from stepbox.core.kernel import ProcessInfo

TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]


def ps_ef_rows(processes: list[ProcessInfo], now: float | None = None) -> list[list[str]]:
    now = time.time() if now is None else now
    return [_row(p, now) for p in sorted(processes, key=lambda p: p.pid)]


def _row(p: ProcessInfo, now: float) -> list[str]:
    elapsed = max(now - p.started, 0.0)
    c = int(p.cpu_seconds * 100 / elapsed) if elapsed >= 1 else 0
    return [p.user, str(p.pid), str(p.ppid), str(min(c, 99)), start_time(p.started, now), p.tty or "?",
            cpu_time(p.cpu_seconds), " ".join(p.argv)]  # fmt: skip


def start_time(started: float, now: float) -> str:
    """procps's STIME: the time of day if it started less than a day ago,
    month and day if this year, else the year (in local time)."""
    then, today = time.localtime(started), time.localtime(now)
    if now - started < 24 * 3600:
        return time.strftime("%H:%M", then)
    if then.tm_year == today.tm_year:
        return time.strftime("%b%d", then)
    return time.strftime("%Y", then)


def cpu_time(seconds: float) -> str:
    """procps's TIME: ``HH:MM:SS``, with ``DD-`` in front past a day."""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock
