#!/bin/sh
# PID 1 of the cgroup-v2-only test VM (see scripts/cgroup2_vm.py).
#
# The guest's root is the host's own /, shared read-only (UML's hostfs), so
# the checkout, its venv and the host's Python are all at the paths they
# have on the host.  What must be written goes to a tmpfs: an overlay with
# the shared / as its lower layer becomes the root we pivot into, so a test
# can write anywhere without touching a host file.  The only host directory
# the guest writes to is the job directory (a second hostfs mount), where it
# finds the job and leaves pytest's output and exit code.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
BUSYBOX=/bin/busybox

say() { echo "guest: $*"; }
die() { say "$*"; echo 125 > /run/job/exit-code 2>/dev/null; $BUSYBOX poweroff -f; }

mount -t proc proc /proc
mount -t tmpfs -o mode=755,size=75% scratch /run
mkdir -p /run/ov/upper /run/ov/work /run/ov/root /run/job
job=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^stepbox.job=//p')
[ -n "$job" ] || die "no stepbox.job= on the kernel command line"
mount -t hostfs -o "$job" hostfs /run/job || die "cannot mount the job directory $job"

# overlayfs is a module in Debian's UML build; its modules live beside it.
# busybox's insmod: a host need not have kmod's (a fresh Debian VM has not).
modules=/usr/lib/uml/modules/$(uname -r)
grep -qw overlay /proc/filesystems || $BUSYBOX insmod "$modules/kernel/fs/overlayfs/overlay.ko" || die "no overlayfs"
mount -t overlay -o lowerdir=/,upperdir=/run/ov/upper,workdir=/run/ov/work overlay /run/ov/root \
    || die "cannot mount the overlay over the shared /"

new=/run/ov/root
mount -t proc proc "$new/proc"
mount -t sysfs sysfs "$new/sys"
mount -t cgroup2 -o nsdelegate cgroup2 "$new/sys/fs/cgroup" || die "cannot mount cgroup2"
mount -t devtmpfs devtmpfs "$new/dev"
mkdir -p "$new/dev/pts" "$new/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$new/dev/pts"
mount -t tmpfs tmpfs "$new/dev/shm"
# The TUN/TAP device that slirp4netns (rootless containers' user-mode network)
# opens: UML's devtmpfs does not make it, udev would on a distribution's host.
if [ ! -e "$new/dev/net/tun" ]; then
    mkdir -p "$new/dev/net" && mknod -m 0666 "$new/dev/net/tun" c 10 200 || say "no /dev/net/tun"
fi
for d in run tmp var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$new/$d"; done
chmod 755 "$new/run"
# Host paths under those tmpfs mounts that the job needs (a checkout cloned in
# /tmp and its venv; scripts/cgroup2_vm.py lists them): each shared at its own
# path, read-only with a tmpfs overlay for writes, like the shared / itself.
n=0
while read -r path; do
    [ -n "$path" ] || continue
    n=$((n + 1))
    share=/run/ov/share$n
    mkdir -p "$share/lower" "$share/upper" "$share/work" "$new$path"
    mount -t hostfs -o "$path" hostfs "$share/lower" || die "cannot share $path from the host"
    mount -t overlay -o "lowerdir=$share/lower,upperdir=$share/upper,workdir=$share/work" overlay "$new$path" \
        || die "cannot mount the overlay over the shared $path"
    say "shared $path from the host"
done < /run/job/shares
mkdir -p "$new/run/job" "$new/lib/modules"
mount --move /run/job "$new/run/job"
# modprobe finds the UML modules where it looks for a kernel's modules.
mount --bind "$modules/.." "$new/lib/modules"

cd "$new" && mkdir -p .oldroot && pivot_root . .oldroot || die "pivot_root failed"
cd /
umount -l /.oldroot
hostname cgroup2-vm
ip link set lo up 2>/dev/null || $BUSYBOX ip link set lo up

say "kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
say "booted in $(cut -d' ' -f1 /proc/uptime) s"
# The job: a shell snippet the host wrote (cd, environment, the command); it
# leaves its exit code in the job directory.  Its output goes to the console
# (the host shows it as it comes) and to a file there.
sh /run/job/job.sh 2>&1 | tee /run/job/output
[ -f /run/job/exit-code ] || echo 125 > /run/job/exit-code
sync
$BUSYBOX poweroff -f
