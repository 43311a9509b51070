"""Predict docker diff: the reference solution."""

PREDICTION = {
    "A /data",
    "A /data/note",
    "C /etc",
    "C /etc/passwd",
    "D /etc/group",
    "C /tmp",
    "A /tmp/t",
}
