"""``stepbox cp``: docker cp's syntax, and ``-`` for a tar on stdin/stdout.

::

    stepbox cp CONTAINER:SRC_PATH DEST_PATH|-
    stepbox cp SRC_PATH|- CONTAINER:DEST_PATH

A ``:`` marks the container side -- unless the argument starts with ``/``
or ``.`` (``./file:name.txt`` is a local file).  Copying out is ``GET
/containers/{id}/archive``; copying in asks ``HEAD`` what the destination
is, then ``PUT``s a tar whose entries are already named as they must land.
Like docker's, errors end with status 1.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
from urllib.parse import quote

import click
from stepbox.core.engine.client import EngineError
from stepbox.core.units import human_size

from . import local_archive as la
from .main import cli

PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"
GO_MODE_DIR, GO_MODE_SYMLINK = 1 << 31, 1 << 27
GO_MODE_SPECIAL = (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21)  # device, pipe, socket, char device


class Failed(Exception):
    pass


def split_cp_arg(arg: str) -> tuple[str, str]:
    """(container, path); container "" for a local path."""
    if arg.startswith("/"):
        return "", arg
    container, sep, path = arg.partition(":")
    if not sep or container.startswith("."):
        return "", arg
    return container, path


def _archive(container: str) -> str:
    return f"/containers/{quote(container, safe='')}/archive"


def _stat(client, container: str, path: str) -> dict:
    reply = client.request("HEAD", _archive(container), query={"path": path})
    return json.loads(base64.b64decode(reply.headers.get(PATH_STAT_HEADER) or "e30="))


@cli.command()
@click.option("-L", "--follow-link", is_flag=True, help="Always follow symbol link in SRC_PATH")
@click.option(
    "-a", "--archive", "copy_uid_gid", is_flag=True, help="Archive mode (copy all uid/gid information)"
)
@click.option("-q", "--quiet", is_flag=True, default=None, help="Suppress progress output during copy")
@click.argument("source")
@click.argument("destination")
@click.pass_obj
def cp(conn, follow_link, copy_uid_gid, quiet, source, destination):
    """Copy files/folders between a container and the local filesystem."""
    try:
        if not source:
            raise Failed("source can not be empty")
        if not destination:
            raise Failed("destination can not be empty")
        quiet = quiet if quiet is not None else not sys.stdout.isatty()
        src_container, src_path = split_cp_arg(source)
        dst_container, dst_path = split_cp_arg(destination)
        if src_container and dst_container:
            raise Failed("copying between containers is not supported")
        if src_container:
            copy_from(conn.client, src_container, src_path, dst_path, follow_link, quiet)
        elif dst_container:
            copy_to(conn.client, dst_container, src_path, dst_path, follow_link, copy_uid_gid, quiet)
        else:
            raise Failed("must specify at least one container source")
    except EngineError as e:
        click.echo(f"Error response from daemon: {e.message}", err=True)
        sys.exit(1)
    except (Failed, la.CopyError, OSError) as e:
        click.echo(str(e), err=True)
        sys.exit(1)


def _validate_output_path(path: str) -> None:
    directory = os.path.dirname(os.path.normpath(path))
    if directory and directory != "." and not os.path.exists(directory):
        raise Failed(f'invalid output path: directory "{directory}" does not exist')


def copy_from(client, container: str, src_path: str, dst_path: str, follow_link: bool, quiet: bool) -> None:
    if dst_path != "-":
        dst_path = la.resolve_local(dst_path)
        _validate_output_path(dst_path)
    rebase = ""
    if follow_link:
        try:
            stat = _stat(client, container, src_path)
        except EngineError:
            stat = None
        if stat and stat["mode"] & GO_MODE_SYMLINK:
            target = stat["linkTarget"]
            if not target.startswith("/"):
                target = os.path.join(la.split_dir_entry(src_path)[0], target)
            src_path, rebase = la.rebase_name(src_path, target)
    with client.stream("GET", _archive(container), query={"path": src_path}) as reply:
        if dst_path == "-":
            out = sys.stdout.buffer
            while chunk := reply.body.read(1 << 16):
                out.write(chunk)
            out.flush()
            return
        stat = json.loads(base64.b64decode(reply.headers.get(PATH_STAT_HEADER) or "e30="))
        with tempfile.TemporaryFile() as received:
            size = 0
            while chunk := reply.body.read(1 << 16):
                received.write(chunk)
                size += len(chunk)
            received.seek(0)
            src = la.CopyInfo(src_path, True, bool(stat.get("mode", 0) & GO_MODE_DIR), rebase)
            _copy_here(received, src, dst_path)
    if not quiet:
        click.echo(f"Successfully copied {human_size(size)} to {dst_path}", err=True)


def _copy_here(archive, src: la.CopyInfo, dst_path: str) -> None:
    """moby's CopyTo: rename the entries as the destination wants, untar."""
    if src.rebase_name:
        archive = _renamed(archive, la.split_dir_entry(src.path)[1], src.rebase_name)
    dst = la.destination_info(dst_path)
    directory, new_base = la.prepare_copy(src, dst)
    if new_base is not None:
        archive = _renamed(archive, la.source_base(src), new_base)
    la.untar_here(archive, directory)


def _renamed(archive, old: str, new: str):
    out = tempfile.TemporaryFile()
    la.rebase_entries(archive, old, new, out)
    out.seek(0)
    return out


def copy_to(
    client, container: str, src_path: str, dst_path: str, follow_link: bool, copy_uid_gid: bool, quiet: bool
) -> None:
    if src_path != "-":
        src_path = la.resolve_local(src_path)
    dst = la.CopyInfo(dst_path)
    try:
        stat = _stat(client, container, dst_path)
    except EngineError as e:
        if e.status != 404:
            raise
        stat = None
    if stat and stat["mode"] & GO_MODE_SYMLINK:
        target = stat["linkTarget"]
        if not target.startswith("/"):
            target = os.path.join(la.split_dir_entry(dst_path)[0], target)
        dst.path = target
        try:
            stat = _stat(client, container, target)
        except EngineError:
            stat = None
    if stat and stat["mode"] & GO_MODE_SPECIAL:
        raise Failed(f'destination "{container}:{dst_path}" must be a directory or a regular file')
    if stat:
        dst.exists, dst.is_dir = True, bool(stat["mode"] & GO_MODE_DIR)
    query = {"noOverwriteDirNonDir": True, "copyUIDGID": copy_uid_gid}
    if src_path == "-":
        if not dst.is_dir:
            raise Failed(f'destination "{container}:{dst_path}" must be a directory')
        client.request(
            "PUT", _archive(container), query={"path": dst.path, **query}, raw_body=sys.stdin.buffer.read()
        )
        return
    src = la.source_info(src_path, follow_link)
    with tempfile.TemporaryFile() as archive:
        la.tar_resource(src, archive)
        archive.seek(0)
        directory, new_base = la.prepare_copy(src, dst)
        body = _renamed(archive, la.source_base(src), new_base) if new_base is not None else archive
        size = os.fstat(body.fileno()).st_size
        with client.stream("PUT", _archive(container), query={"path": directory, **query}, upload=body):
            pass
    if not quiet:
        click.echo(f"Successfully copied {human_size(size)} to {container}:{dst.path}", err=True)
