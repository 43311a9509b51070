"""The shell scripts that make and inspect an image with interesting content.

They use only applets both busybox and the simulator's userland have, and
run the same on dockerd, stepbox on Linux and stepbox on the simulator.

Two layers on top of busybox:

1. what a layer can hold: directories, files with modes 0600, 0755, 04755
   and 02750, a file and a directory owned by 1:2, a relative symlink, a
   dangling absolute one, a hardlink between two new files, a hardlink to a
   busybox file (overlayfs copies the target up), a deleted busybox file
   and an appended one;
2. deletions of what layer 1 made and of what busybox had -- a file, and
   directories deleted and made again with other contents, which overlayfs
   marks *opaque* and a layer tar carries as ``.wh..wh..opq`` -- plus a
   chmod of one of two hardlinked names (overlayfs copies that one name up:
   the two no longer share an inode).
"""

LAYER_1 = r"""set -e
mkdir -p /data/sub /data/empty /data/olddir/deep
echo secret > /data/sub/private
chmod 600 /data/sub/private
printf '#!/bin/sh\necho tool\n' > /data/tool
chmod 755 /data/tool
echo suid > /data/suid
chmod 4755 /data/suid
chmod 2750 /data/empty
ln -s sub/private /data/link
ln -s /nonexistent /data/dangling
ln /data/tool /data/hard
ln /bin/cat /data/cat
echo owned > /data/owned
chown 1:2 /data/owned /data/sub
echo gone > /data/gone
echo old > /data/olddir/deep/f
rm /bin/vi
echo extra:x:99: >> /etc/group
"""

LAYER_2 = r"""set -e
rm /data/gone
rm -r /data/olddir
mkdir -p /data/olddir/newer
echo new > /data/olddir/newer/f
rm -r /var/spool
mkdir -p /var/spool/other
echo x > /var/spool/other/f
rm /bin/cp
chmod 700 /data/tool
"""

# Deleted by the layers above: must stay deleted wherever the image goes.
DELETED = ("/data/gone", "/data/olddir/deep", "/var/spool/mail", "/bin/vi", "/bin/cp")

PRESENT = (
    "/data",
    "/data/sub",
    "/data/sub/private",
    "/data/empty",
    "/data/tool",
    "/data/hard",
    "/data/suid",
    "/data/link",
    "/data/dangling",
    "/data/cat",
    "/data/owned",
    "/data/olddir",
    "/data/olddir/newer",
    "/data/olddir/newer/f",
    "/var/spool",
    "/var/spool/other",
    "/var/spool/other/f",
    "/etc/group",
    "/bin/cat",
    "/bin/busybox",
)

# What a user sees of that image from inside a container.
CHECK = (
    "for p in " + " ".join(PRESENT) + "; do stat -c '%n %F %a %u %g %s' \"$p\"; done\n"
    "for p in " + " ".join(DELETED) + "; do if [ -e \"$p\" ]; then echo \"$p exists\"; "
    "else echo \"$p absent\"; fi; done\n"
    "cat /data/sub/private /data/link /data/owned /data/olddir/newer/f /data/hard /var/spool/other/f\n"
    "readlink /data/link; readlink /data/dangling\n"
    "tail -n 1 /etc/group\n"
    "/data/hard\n"
)
