"""Predict docker diff (stepbox exercises check docker-diff --dir .)."""

# The container ran (busybox: /etc holds passwd and group, /tmp is empty):
#   sh -c "mkdir /data && echo hi > /data/note
#          && echo guest:x:405:100::/home/guest:/bin/sh >> /etc/passwd
#          && rm /etc/group && touch /tmp/t"
# What does `docker diff` show?  One line per path: "A /path", "C /path" or "D /path".
PREDICTION = {
    "A /data",  # your turn
}
