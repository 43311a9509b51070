"""Errors users can cause, each with the HTTP status Docker's API gives it."""

from __future__ import annotations


class ContainerError(Exception):
    status = 500


class NoSuchContainer(ContainerError):
    status = 404

    def __init__(self, name: str):
        super().__init__(f"No such container: {name}")


class Conflict(ContainerError):
    """The container is in the wrong state for the request (e.g. removing a
    running container, killing a stopped one), or a name is taken."""

    status = 409


class BadRequest(ContainerError):
    status = 400
