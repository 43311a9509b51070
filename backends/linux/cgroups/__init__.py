"""cgroups on real cgroupfs, one module per job (like runc's ``cgroups/fs``
and ``cgroups/fs2``):

* :mod:`.detect`    -- which layout (v1, v2, hybrid) from /proc/self/mountinfo;
* :mod:`.hierarchy` -- a mounted tree: mkdir, rmdir, cgroup.procs;
* :mod:`.v1`, :mod:`.v2` -- the controller files of each version;
* :mod:`.manager`   -- :class:`LinuxCgroups`, choosing per controller.
"""

from .detect import CgroupLayout, V1Mount, detect_layout, layout_from_mountinfo
from .manager import LinuxCgroups

__all__ = ["CgroupLayout", "LinuxCgroups", "V1Mount", "detect_layout", "layout_from_mountinfo"]
