"""One or more tests per applet, run in a busybox container on the
simulated kernel.  Formats and messages are busybox 1.35's (checked against
/usr/bin/busybox on the CI machine)."""

from __future__ import annotations

import pytest


def ok(box, script, **kw):
    r = box.sh(script, **kw)
    assert r.status == 0, r
    return r.stdout


# -- text -------------------------------------------------------------------------


def test_echo_and_printf(box):
    assert ok(box, "echo a  b; echo -n x; echo -e 'y\\tz'; /bin/echo ext") == "a b\nxy\tz\next\n"
    assert ok(box, "printf '%s=%03d\\n' a 7 b 8; /bin/printf '%x\\n' 255") == "a=007\nb=008\nff\n"


def test_cat_concatenates_and_reports_missing_files(box):
    r = box.sh("echo one > a; echo two > b; cat a b; cat nosuch a")
    assert r.stdout == "one\ntwo\none\n"
    assert r.stderr == "cat: can't open 'nosuch': No such file or directory\n"
    assert r.status == 1


def test_cat_numbers_lines(box):
    assert ok(box, "printf 'a\\nb\\n' | cat -n") == "     1\ta\n     2\tb\n"


def test_head_and_tail(box):
    assert (
        ok(box, "seq 10 | head -n 3; seq 10 | head -2; seq 10 | tail -n 2; seq 5 | tail -n +4")
        == "1\n2\n3\n1\n2\n9\n10\n4\n5\n"
    )
    assert ok(box, "printf abcdef | head -c 2; echo; printf abcdef | tail -c 2; echo") == "ab\nef\n"
    r = box.sh("tail nosuch")
    assert r.stderr == "tail: can't open 'nosuch': No such file or directory\ntail: no files\n"


def test_wc_formats(box):
    assert ok(box, "printf 'a b\\nc\\n' > f; wc f; wc -l f; wc -l < f; wc -c f f") == (
        "        2         3         6 f\n2 f\n2\n        6 f\n        6 f\n       12 total\n"
    )


def test_grep(box):
    r = box.sh(
        "printf 'apple\\nBanana\\ncherry\\n' > f; grep an f; grep -i -c AN f; grep -v e f;"
        " grep -n rr f; grep -q zzz f; echo $?; grep x nosuch; echo $?"
    )
    assert r.stdout == "Banana\n1\nBanana\n3:cherry\n1\n2\n"
    assert r.stderr == "grep: nosuch: No such file or directory\n"


def test_grep_basic_and_extended_regex(box):
    assert (
        ok(box, "printf 'ab\\naab\\nb\\n' | grep '^a*b$'; echo x+ | grep 'x+'; echo xx | grep -E 'x+'")
        == "ab\naab\nb\nx+\nxx\n"
    )


def test_sort_uniq_cut_tr(box):
    assert ok(box, "printf 'b\\na\\nb\\nc\\n' | sort | uniq -c") == "      1 a\n      2 b\n      1 c\n"
    assert ok(box, "printf '10\\n9\\n100\\n' | sort -n; printf 'x\\ny\\n' | sort -r") == "9\n10\n100\ny\nx\n"
    assert ok(box, "echo a:b:c | cut -d: -f2,3; echo hello | cut -c2-4") == "b:c\nell\n"
    assert (
        ok(box, "echo hello | tr a-z A-Z; echo hello | tr -d l; echo aabb | tr -s ab") == "HELLO\nheo\nab\n"
    )


def test_tee_writes_files_and_stdout(box):
    assert ok(box, "echo hi | tee t1 t2; cat t1 t2") == "hi\nhi\nhi\n"


def test_yes_ends_when_the_reader_goes_away(box):
    assert ok(box, "yes | head -n 2; yes no | head -n 1") == "y\ny\nno\n"


def test_seq(box):
    assert ok(box, "seq 3; seq 2 2 6; seq -s , 3") == "1\n2\n3\n2\n4\n6\n1,2,3\n"


def test_expr_and_test(box):
    r = box.sh(
        "expr 3 \\* 4; expr 5 - 7; expr 1 = 2; echo $?; /bin/test 2 -gt 1; echo $?; /bin/[ a = b ]; echo $?"
    )
    assert r.stdout == "12\n-2\n0\n1\n0\n1\n"


def test_basename_dirname(box):
    assert ok(box, "basename /a/b.c .c; dirname /a/b.c; dirname x") == "b\n/a\n.\n"


def test_true_false(box):
    assert box.sh("/bin/true").status == 0
    assert box.sh("/bin/false").status == 1


# -- files -------------------------------------------------------------------------


def test_ls_sorts_and_hides_dotfiles(box):
    assert ok(box, "touch b a .h; mkdir d; ls; ls -A; ls -F") == "a\nb\nd\n.h\na\nb\nd\na\nb\nd/\n"


def test_ls_long_format(box):
    out = ok(box, "printf 12345 > f; chmod 640 f; touch -d '2001-02-03 04:05' f; ls -l f")
    assert out == "-rw-r-----    1 root     root             5 Feb  3  2001 f\n"


def test_ls_missing_file(box):
    r = box.sh("ls nosuch")
    assert (r.stderr, r.status) == ("ls: nosuch: No such file or directory\n", 1)


def test_mkdir_rm_rmdir(box):
    r = box.sh("mkdir -p x/y/z; mkdir x; rm x; rmdir x; rm -r x; ls")
    assert r.stderr == (
        "mkdir: can't create directory 'x': File exists\n"
        "rm: 'x' is a directory\nrmdir: 'x': Directory not empty\n"
    )
    assert r.stdout == ""


def test_cp_mv_ln_readlink(box):
    out = ok(
        box,
        "echo data > f; cp f g; mv g h; ln -s h l; ln f hard; readlink l; cat l hard;"
        " mkdir d; cp -r d e; mv f d/; ls d",
    )
    assert out == "h\ndata\ndata\nf\n"
    r = box.sh("cp nosuch x; mv nosuch x")
    assert r.stderr == (
        "cp: can't stat 'nosuch': No such file or directory\n"
        "mv: can't rename 'nosuch': No such file or directory\n"
    )


def test_mv_of_an_image_directory_falls_back_to_copy(box):
    # /etc lives in the lower (image) layer: overlayfs answers EXDEV to the
    # rename, and mv copies then deletes -- as real mv does
    r = box.sh("mv /etc /etc2 && ls /etc2 && ls /etc")
    assert r.stdout == "group\npasswd\n"
    assert r.stderr == "ls: /etc: No such file or directory\n"


def test_touch_and_chmod(box):
    r = box.sh(
        "touch new; chmod 755 new; stat -c '%a %A' new; chmod go-x new; stat -c %a new; touch /nosuch/x"
    )
    assert r.stdout == "755 -rwxr-xr-x\n744\n"
    assert r.stderr == "touch: /nosuch/x: No such file or directory\n"


def test_stat(box):
    assert (
        ok(box, "mkdir d; stat -c '%n %F %a %U %G' d /etc/passwd")
        == "d directory 755 root root\n/etc/passwd regular file 644 root root\n"
    )


def test_dd(box):
    r = box.sh(
        "printf 0123456789 > in; dd if=in bs=4 count=2 2>/dev/null; echo; dd if=in of=out bs=4; cat out"
    )
    assert r.stdout == "01234567\n0123456789"
    assert r.stderr == "2+1 records in\n2+1 records out\n"


def test_pwd_applet(box):
    assert ok(box, "cd /etc && /bin/pwd") == "/etc\n"


# -- processes and system ---------------------------------------------------------------


def test_ps_lists_the_container_processes_from_proc(box):
    out = ok(box, "sleep 5 & ps; echo end")
    lines = out.splitlines()[:-1]
    assert lines[0] == "PID   USER     COMMAND"
    assert lines[1] == "    1 root     sh -c sleep 5 & ps; echo end"
    assert any(line.endswith(" root     sleep 5") for line in lines)
    # ps is a NOEXEC applet: the forked shell runs it without execve, so
    # it keeps the shell's command line and busybox shows its new name first
    assert lines[-1].endswith(" root     {ps} sh -c sleep 5 & ps; echo end")


def test_sh_c_execs_its_last_command_so_it_becomes_pid_1(box):
    # as ash does: no shell is left behind `docker run busybox ps` (and ps,
    # a NOEXEC applet, runs in the shell's process without execve)
    assert ok(box, "ps") == "PID   USER     COMMAND\n    1 root     {ps} sh -c ps\n"
    assert ok(box, "cat /proc/1/comm") == "cat\n"  # cat is exec'd


def test_ps_o(box):
    out = ok(box, "ps -o pid,comm")
    assert out.splitlines()[0] == "PID   COMMAND"  # busybox left-aligns headers
    assert out.splitlines()[1] == "    1 ps"


def test_kill_applet_and_signal_names(box):
    r = box.sh("sleep 100 & /bin/kill -9 $!; wait $!; echo $?; kill -l 15; /bin/kill 99999")
    assert r.stdout == "137\nTERM\n"
    assert r.stderr == "Killed\nkill: can't kill pid 99999: No such process\n"


def test_sleep_takes_virtual_time_only(box):
    assert ok(box, "sleep 100; sleep 1m; echo done") == "done\n"
    r = box.sh("sleep x")
    assert (r.stderr, r.status) == ("sleep: invalid number 'x'\n", 1)


def test_hostname_id_whoami_uname(box):
    out = ok(box, "hostname; id; whoami; uname; uname -s -m")
    lines = out.splitlines()
    assert lines[0].startswith("c")  # the container's own UTS namespace
    assert lines[1:4] == ["uid=0(root) gid=0(root)", "root", "Linux"]
    assert lines[4].startswith("Linux ")


def test_env(box):
    assert ok(box, "env -i A=1 B=2 env", env={"PATH": "/bin"}) == "A=1\nB=2\n"
    r = box.sh("env nosuch")
    assert (r.stderr, r.status) == ("env: can't execute 'nosuch': No such file or directory\n", 127)


def test_mount_lists_the_mount_table(box):
    out = ok(box, "mount")
    assert out.splitlines()[0].startswith("overlay on / type overlay (")
    assert "proc on /proc type proc (" in out


def test_mount_and_umount_errors(box):
    r = box.sh("mount -t tmpfs tmpfs /nosuch; echo $?; umount /nosuch")
    assert r.stdout == "255\n"
    assert r.stderr.startswith("mount: mounting tmpfs on /nosuch failed: ")
    assert "umount: can't unmount /nosuch: " in r.stderr


def test_ip_shows_loopback(box):
    out = ok(box, "ip link; ip addr")
    assert out.startswith("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\n")
    assert "    inet 127.0.0.1/8 scope host lo\n" in out


def test_free_reads_meminfo(box):
    lines = ok(box, "free").splitlines()
    assert lines[0] == "              total        used        free      shared  buff/cache   available"
    assert lines[1].startswith("Mem:   ") and lines[2].startswith("Swap:  ")


def test_nproc(box):
    assert ok(box, "nproc").strip().isdigit()


# -- the multi-call binary ------------------------------------------------------------


def test_busybox_dispatches_applets(box):
    assert ok(box, "busybox echo hi; busybox --list | grep -c '^ls$'") == "hi\n1\n"


def test_busybox_alone_prints_usage(box):
    out = ok(box, "busybox")
    assert out.startswith("BusyBox v1.35.0")
    assert "Currently defined functions:" in out


@pytest.mark.parametrize("argv", [["busybox", "fdisk"], ["busybox", "nosuchapplet"]])
def test_unknown_applets(box, argv):
    r = box.run(argv)
    assert r.status == 127
    name = argv[1]
    assert r.stderr in (
        f"{name}: applet not available in the stepbox simulator\n",
        f"{name}: applet not found\n",
    )


def test_usage_on_bad_option(box):
    r = box.sh("ls -Z")
    assert r.status == 1
    assert r.stderr.startswith("ls: invalid option -- 'Z'\nBusyBox v1.35.0")
    assert "Usage: ls " in r.stderr
