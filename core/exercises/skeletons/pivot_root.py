"""Order the steps of pivot_root (stepbox exercises check pivot-root --dir .)."""

CALLS = {
    "bind": 'mount(new_root, new_root, NULL, MS_BIND|MS_REC): make the new root a mount point',
    "enter": "chdir(new_root)",
    "pivot": 'pivot_root(".", "."): the old root now lies under the new one, at "."',
    "detach": 'umount2(".", MNT_DETACH): let go of the old root (the host\'s files)',
    "home": 'chdir("/")',
}

# Your turn: the keys of CALLS in the order the container's first process makes them.
ORDER = ["pivot", "home", "detach", "enter", "bind"]
