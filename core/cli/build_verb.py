"""What ``stepbox build`` does once its command line is read, by either path.

click's verb (:mod:`.build`) and the lean path (:mod:`.lean_build`) read
the command line; both then call :func:`build_image`, which imports no
click: a cached rebuild is mostly start-up, and click's import is a good
part of it (issue 18).  A failure ends as :class:`.errors.CommandFailed`
(its message on stderr, docker's status), as every client verb's does.
"""

from __future__ import annotations

import json
import os
import sys

from .errors import CommandFailed


def parse_build_args(items: tuple[str, ...]) -> dict[str, str | None]:
    args: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        args[key] = value if sep else os.environ.get(key)
    return args


def check_tags(tags: tuple[str, ...]) -> None:
    """docker refuses a bad ``-t`` before it reads the context: 125."""
    from stepbox.core.image.reference import InvalidReference, parse_reference

    for tag in tags:
        try:
            parse_reference(tag)
        except InvalidReference as e:
            raise CommandFailed(f'invalid argument "{tag}" for "-t, --tag" flag: {e}', 125) from None


def build_image(
    conn,
    tags: tuple[str, ...],
    dockerfile: str | None,
    build_args: tuple[str, ...],
    no_cache: bool,
    target: str | None,
    quiet: bool,
    path: str,
) -> None:
    """Send the context at ``path`` to the daemon's ``POST /build`` and print
    its progress as it comes (``-q``: the image ID alone, the output only if
    the build fails)."""
    from stepbox.core.dockerfile.errors import BuildError
    from stepbox.core.engine.client import json_messages

    from .build_context import context_tar

    check_tags(tags)
    try:
        tar, dockerfile_name = context_tar(path, dockerfile)
    except (BuildError, OSError) as e:
        raise CommandFailed(f"stepbox: Error: {e}", 1) from None
    query = {
        "t": list(tags),
        "dockerfile": dockerfile_name,
        "buildargs": json.dumps(parse_build_args(build_args)),
        "nocache": no_cache,
        "target": target,
    }
    kept_back: list[str] = []  # -q: the output, shown only if the build fails
    image_id = None
    with tar, conn.client.stream("POST", "/build", query=query, upload=tar) as reply:
        for message in json_messages(reply.body):
            if "stream" in message:
                if quiet:
                    kept_back.append(message["stream"])
                else:
                    sys.stdout.write(message["stream"])
                    sys.stdout.flush()
            elif "aux" in message:
                image_id = message["aux"].get("ID")
            elif "error" in message:
                if kept_back:
                    sys.stderr.write("".join(kept_back))
                raise CommandFailed(f"stepbox: Error: {message['error']}", 1)
    if image_id is None:
        raise CommandFailed("stepbox: Error: the daemon's answer ended before the build did", 1)
    if quiet:
        print(image_id, flush=True)
