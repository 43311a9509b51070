"""Confinement: what a container's processes may do, decided before they start.

Namespaces decide what a container *sees*, cgroups how much it may *use*;
confinement decides what it may *do* -- the same four locks Docker applies:

* :mod:`.capabilities` -- which of root's powers it keeps (``--cap-add/--cap-drop``);
* :mod:`.seccomp_profile` -- which system calls it may make (``--security-opt seccomp=``),
  with Docker's default profile in :mod:`.docker_default_profile`;
* :mod:`.devices` -- which device files it may create and open (``--device``);
* no_new_privs -- whether setuid programs may raise privileges (``--security-opt
  no-new-privileges``).

:mod:`.policy` turns a container's flags into one :class:`~.policy.Confinement`
that the lifecycle's steps apply through the kernel interfaces.  Nothing here
touches a kernel: it is Docker's rules written down, shared by both backends.
"""
