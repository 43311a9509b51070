"""Redirections: ``<``, ``>``, ``>>``, ``<>``, ``>|``, ``n>&m``, ``n>&-`` and
here-documents.  For a builtin or a function the old fds are saved (on fds
10 and up, as ash does) and put back afterwards; for a program about to be
exec'd they are simply replaced.  A part of :class:`~.sh_shell.Shell`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from ..sys_api import O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY
from .libc import errno_is, strerror, write_all
from .sh_ast import HereDoc, Redirect, Word
from .sh_base import ShellBase
from .sh_lexer import parse_dquoted_text

if TYPE_CHECKING:  # pragma: no cover
    from .sh_shell import Shell

Gen = Generator[Any, Any, Any]


class Redirections(ShellBase):
    """Mixin of :class:`~.sh_shell.Shell`."""

    def redirect(self, redirects: list[Redirect], save: bool) -> Gen:
        """Apply redirections.  With ``save`` the old fds are kept (on fds
        >= 10, as ash does) so :meth:`undo_redirects` can put them back;
        returns that undo list, or None after printing an error."""
        undo: list[tuple[int, int | None]] = []
        sys = self.sys
        for r in redirects:
            try:
                new_fd = yield from self._open_redirect(r)
            except _RedirectError as e:
                self.undo_redirects(undo)
                yield from self.error_plain(e.message)
                return None
            if save:
                saved = self._save_fd(r.fd)
                undo.append((r.fd, saved))
            if new_fd is None:  # n>&-
                try:
                    sys.close(r.fd)
                except OSError:
                    pass
            elif new_fd != r.fd:
                try:
                    sys.dup2(new_fd, r.fd)
                except OSError as e:
                    self.undo_redirects(undo)
                    yield from self.error_plain(f"{new_fd}: {strerror(e)}")
                    return None
                if r.op not in ("<&", ">&"):
                    sys.close(new_fd)
        return undo

    def _save_fd(self, fd: int) -> int | None:
        saved = self.next_saved_fd
        try:
            self.sys.dup2(fd, saved)
        except OSError:
            return None  # fd was closed: close it again
        self.next_saved_fd += 1
        self.saved_fds.append(saved)
        return saved

    def undo_redirects(self, undo: list[tuple[int, int | None]]) -> None:
        for fd, saved in reversed(undo):
            try:
                if saved is None:
                    self.sys.close(fd)
                else:
                    self.sys.dup2(saved, fd)
                    self.sys.close(saved)
                    self.saved_fds.remove(saved)
                    self.next_saved_fd = min(self.next_saved_fd, saved)
            except OSError:
                pass

    def _open_redirect(self, r: Redirect) -> Gen:
        sys = self.sys
        if r.op == "<<":
            doc = r.target
            assert isinstance(doc, HereDoc)
            body = doc.body if doc.quoted else (yield from self.expand.string(parse_dquoted_text(doc.body)))
            return (yield from self._heredoc_fd(body))
        assert isinstance(r.target, Word)
        target = yield from self.expand.string(r.target)
        if r.op in ("<&", ">&"):
            if target == "-":
                return None
            if target.isdigit():
                fd = int(target)
                try:
                    sys.dup2(fd, fd)  # is it open?
                except OSError as e:
                    raise _RedirectError(f"{target}: {strerror(e)}") from None
                return fd
            raise _RedirectError(f"{target}: Bad file descriptor")
        flags = {
            "<": O_RDONLY,
            ">": O_WRONLY | O_CREAT | O_TRUNC,
            ">|": O_WRONLY | O_CREAT | O_TRUNC,
            ">>": O_WRONLY | O_CREAT | O_APPEND,
            "<>": O_RDWR | O_CREAT,
        }[r.op]
        try:
            return sys.open(target, flags, 0o666)
        except OSError as e:
            creating = r.op != "<"
            if errno_is(e, "ENOENT") or errno_is(e, "ENOTDIR"):  # ash's errmsg()
                what = "nonexistent directory" if creating else "no such file"
            else:
                what = strerror(e)
            verb = "create" if creating else "open"
            raise _RedirectError(f"can't {verb} {target}: {what}") from None

    def _heredoc_fd(self, body: str) -> Gen:
        read_end, write_end = self.sys.pipe()
        data = body.encode("utf-8", "surrogateescape")
        if len(data) <= 4096:
            yield from write_all(self.sys, write_end, data)
            self.sys.close(write_end)
            return read_end
        # a big document could fill the pipe before anyone reads it: let a
        # child write it, as ash does

        def writer(sub: Shell) -> Gen:
            sub.sys.close(read_end)
            yield from write_all(sub.sys, write_end, data)
            return 0

        yield from self.spawn(writer)
        self.sys.close(write_end)
        return read_end


class _RedirectError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
