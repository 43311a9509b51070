"""The real Linux backend: namespaces, cgroupfs and overlayfs via syscalls."""
