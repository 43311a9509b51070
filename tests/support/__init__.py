"""The real things stepbox is compared with, started privately for tests and
benchmarks: a dockerd (``dockerd.py``).  One implementation, shared, so every
comparison starts Docker the same way and cleans up the same way."""
