"""Choose the clone flags (stepbox exercises check clone-flags --dir .)."""

# From <linux/sched.h>
CLONE_NEWNS = 0x00020000  # mount table
CLONE_NEWCGROUP = 0x02000000  # view of the cgroup tree
CLONE_NEWUTS = 0x04000000  # hostname
CLONE_NEWIPC = 0x08000000  # System V IPC
CLONE_NEWUSER = 0x10000000  # user and group IDs
CLONE_NEWPID = 0x20000000  # process IDs
CLONE_NEWNET = 0x40000000  # network interfaces

# Your turn: own process IDs, own hostname, own mount table -- nothing else.
FLAGS = 0
