"""The OCI runtime's own steps in Chinese (``stepbox-runc``'s create, start, kill,
delete, exec, update): what a Chinese notebook's walk of a bundle shows.
``core/container/in_chinese.py`` looks here too.

The steps the runtime shares with ``stepbox run`` (cgroup, spawn, hostname, mounts,
pivot_root, network: ``plan._like``) keep the lifecycle's texts, and their Chinese is
in the lifecycle's table.  Keyed by the English explanation each one translates, as
that table is: an edited English text has no Chinese until translated again, and
``tests/core/test_steps_in_chinese.py`` says so.
"""

from __future__ import annotations

# English explanation -> (English title pattern, Chinese title, Chinese explanation)
IN_CHINESE: dict[str, tuple[str, str, str]] = {
    # create: state_dir
    "An OCI runtime is a command, not a daemon: each of create, start, kill, delete is a "
    "new process. What one command learns the next must find on disk, under --root.": (
        "Make the container's state directory",
        "建立容器的状态目录",
        "OCI 运行时是一个命令，不是守护进程：create、start、kill、delete 每一个都是一个新进程。"
        "一个命令知道的事，下一个命令必须能在磁盘上、在 --root 下面找到。",
    ),
    # create: hooks
    "The caller may ask for programs to run once the namespaces exist and before the "
    "container's root is switched -- e.g. to wire the network namespace up.": (
        "Run the prestart and createRuntime hooks",
        "运行 prestart 和 createRuntime 钩子",
        "调用者可以要求在命名空间建好之后、切换容器的根文件系统之前运行一些程序——例如给网络命名空间接上网络。",
    ),
    # create: sysctl
    "Some kernel parameters belong to a namespace (net.*, IPC limits): set inside the "
    "container they change only its own view.": (
        "Set the namespaced kernel parameters",
        "设置属于命名空间的内核参数",
        "有些内核参数属于某个命名空间（net.*、IPC 限制）：在容器里设置它们，只改变容器自己看到的那一份。",
    ),
    # create: exec
    "The command is looked up now -- a missing one fails the create. The process takes "
    "the config's user and groups, then keeps only the config's capabilities (in this "
    "order, as runc does: switching user needs CAP_SETUID), and blocks on a FIFO (runc's "
    "exec.fifo). `create` ends here: the container's process exists, in its namespaces "
    "and cgroup, confined, and has run nothing of the image.": (
        "Switch user, drop capabilities, and wait for start",
        "切换用户、丢弃能力，然后等待 start",
        "命令在这时查找——找不到就让 create 失败。进程换成配置里的用户和组，然后只保留配置里的能力"
        "（按这个顺序，和 runc 一样：切换用户需要 CAP_SETUID），再阻塞在一个 FIFO 上（runc 的 exec.fifo）。"
        "`create` 到此为止：容器的进程已经存在，在它的命名空间和 cgroup 里，受了限制，还没有运行镜像里的任何东西。",
    ),
    # start: start
    "One byte written to the FIFO the created process waits on: it calls execve() and "
    "the container is running -- the last step of `stepbox run`, held back until asked.": (
        "Start: let the waiting process execute its command",
        "启动：让等待中的进程执行它的命令",
        "往已创建的进程等待的 FIFO 里写一个字节：它调用 execve()，容器就运行起来了——"
        "这正是 `stepbox run` 的最后一步，只是等到被要求时才做。",
    ),
    # start: poststart
    "Programs the caller wants run once the container's command has started.": (
        "Run the poststart hooks",
        "运行 poststart 钩子",
        "调用者希望在容器的命令启动之后运行的程序。",
    ),
    # kill
    "kill(2) from the host to the container's first process (or, with --all, to every "
    "process of its cgroup).": (
        "Send a signal",
        "发送信号",
        "从宿主机用 kill(2) 给容器的第一个进程发信号（加 --all 时，发给它的 cgroup 里的每一个进程）。",
    ),
    # pause: freeze
    "Every process of the container stops where it stands.": (
        "Freeze the cgroup",
        "冻结 cgroup",
        "容器的每一个进程都停在原地。",
    ),
    # resume: thaw
    "The frozen processes carry on where they stopped.": (
        "Thaw the cgroup",
        "解冻 cgroup",
        "被冻结的进程从停下的地方接着运行。",
    ),
    # delete --force: kill
    "delete --force of a live container: SIGKILL first.": (
        "Kill the container's processes",
        "杀死容器的进程",
        "对还活着的容器执行 delete --force：先发 SIGKILL。",
    ),
    # delete: remove_cgroup
    "The cgroup the create made goes; one the caller made before stays (it is theirs).": (
        "Remove the cgroup",
        "删除 cgroup",
        "create 建的 cgroup 被删掉；调用者事先建好的那个留着（那是调用者的）。",
    ),
    # create: terminal
    "process.terminal: a pseudo-terminal is opened from the container's own /dev/pts "
    "(runc opens /dev/ptmx there too) and its slave bound on /dev/console; at exec it is "
    "the process's stdin, stdout and stderr and its controlling terminal. The master side "
    "is sent to the caller's --console-socket with SCM_RIGHTS: containerd's shim or "
    "conmon copies between it and the user's terminal.": (
        "Open a pseudo-terminal and send its master to the console socket",
        "打开一个伪终端，把它的主设备端发到 console socket",
        "process.terminal：从容器自己的 /dev/pts 打开一个伪终端（runc 也是在那里打开 /dev/ptmx），"
        "它的从设备端绑定挂载到 /dev/console 上；exec 时它就是进程的标准输入、标准输出和标准错误，"
        "也是进程的控制终端。主设备端用 SCM_RIGHTS 发到调用者的 --console-socket：containerd 的 shim "
        "或 conmon 在它和用户的终端之间来回复制数据。",
    ),
    # delete: poststop
    "Programs the caller wants run once the container is gone.": (
        "Run the poststop hooks",
        "运行 poststop 钩子",
        "调用者希望在容器消失之后运行的程序。",
    ),
    # delete: forget
    "Its state directory goes: `state` answers that it does not exist.": (
        "Forget the container",
        "忘掉这个容器",
        "它的状态目录被删掉：`state` 会回答它不存在。",
    ),
    # exec: exec_in
    "setns(2) into each of the container's namespaces and its cgroup, then execve -- "
    "`docker exec`, as runc's nsenter does it.": (
        "Start a process in the running container",
        "在运行中的容器里启动一个进程",
        "用 setns(2) 进入容器的每一个命名空间和它的 cgroup，然后 execve——这就是 `docker exec`，"
        "和 runc 的 nsenter 的做法一样。",
    ),
    # update: limits
    "docker update: new limits for a running container.": (
        "Change the cgroup's limits",
        "修改 cgroup 的限制",
        "docker update：给运行中的容器设新的限制。",
    ),
}

__all__ = ["IN_CHINESE"]
