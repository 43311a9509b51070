"""The container lifecycle's steps in Chinese: what ``stepbox step --lang zh`` (or under a
Chinese locale, LANG=zh_CN.UTF-8) and the Chinese notebooks show.

Keyed by the English explanation each one translates, so a step whose English text
changed has no Chinese text until it is translated again -- and
``tests/core/test_steps_in_chinese.py`` fails until then, instead of the learner getting a
stale sentence.  A title with ``{}`` is the English one's pattern (``Send {}``) filled
with the same value (the signal, the grace period).
"""

from __future__ import annotations

import re
from typing import Any

from stepbox.core.dockerfile.in_chinese import IN_CHINESE as BUILD_IN_CHINESE
from stepbox.core.runtime.in_chinese import IN_CHINESE as RUNTIME_IN_CHINESE

from .steps import Step

# English explanation -> (English title pattern, Chinese title, Chinese explanation)
IN_CHINESE: dict[str, tuple[str, str, str]] = {
    # network
    'A new network namespace starts with only `lo`, and it is down. A container on no bridge network (--network none, or a daemon started with --bridge=none) gets nothing more: it can talk to itself, and to nobody else.': (
        'Bring up the loopback interface',
        '启动回环接口',
        '新的网络命名空间里只有 `lo`，而且是关着的。不在任何网桥网络上的容器（--network none，或守护进程以 --bridge=none 启动）再也得不到别的：它能和自己通信，和别人都不行。',
    ),
    # join_network
    "--network container:X puts this container into X's network namespace instead of a new one: the same interfaces, addresses, routes and ports -- the two reach each other on localhost, as the containers of a Kubernetes pod do. It also takes X's hostname and name-resolution files.": (
        "Join another container's network namespace",
        '加入另一个容器的网络命名空间',
        '--network container:X 让这个容器进入 X 的网络命名空间，而不是新建一个：同样的接口、地址、路由和端口——两者在 localhost 上就能互相访问，就像 Kubernetes pod 里的容器那样。它也沿用 X 的主机名和名字解析文件。',
    ),
    # ipam
    'Every network has a subnet, and its first address is the gateway -- the bridge. The container gets the lowest address still free (or the one --ip asks for) and a MAC address made from it. Nothing touches the kernel yet: this is bookkeeping.': (
        "Choose the container's address (IPAM)",
        '选定容器的地址（IPAM）',
        '每个网络都有一个子网，子网的第一个地址是网关——也就是网桥。容器分到还空着的最小地址（或 --ip 要的那个），再由它生成一个 MAC 地址。这一步还不碰内核：只是记账。',
    ),
    # veth
    "A veth pair is a virtual cable: what goes in one end comes out of the other. One end is plugged into the network's bridge -- a virtual switch in the host's namespace -- so it can reach the bridge and every other container plugged into it.": (
        'Create a veth pair and plug one end into the bridge',
        '创建一对 veth，把一端插到网桥上',
        '一对 veth 就是一根虚拟网线：从一端进去的，从另一端出来。一端插在网络的网桥上——网桥是宿主机命名空间里的一台虚拟交换机——这样它就能到达网桥和插在上面的每一个容器。',
    ),
    # veth_move
    "An interface lives in exactly one network namespace. Moving the cable's other end into the container's namespace -- renamed eth0 -- is what gives the container a network of its own, invisible from the host's `ip link` and from other containers.": (
        "Move the other end into the container's namespace (eth0)",
        '把另一端移进容器的命名空间（eth0）',
        '一个网络接口只属于一个网络命名空间。把网线的另一端移进容器的命名空间——并改名为 eth0——容器才有了自己的网络，宿主机的 `ip link` 和其他容器都看不到它。',
    ),
    # interfaces
    'A new network namespace has only `lo`, and it is down. Inside the container, lo comes up, and eth0 gets its address and MAC and comes up; the kernel adds the route to the subnet by itself.': (
        'Bring up lo and eth0 with its address',
        '启动 lo 和带地址的 eth0',
        '新的网络命名空间里只有 `lo`，而且是关着的。在容器里，lo 被启动，eth0 得到它的地址和 MAC 并被启动；到子网的路由由内核自己加上。',
    ),
    # route
    "Packets for anywhere outside the subnet go to the gateway -- the bridge's address on the host -- which routes them on and masquerades them (outbound NAT) so the answers find the way back. An internal network gets no default route: it has no way out.": (
        'Add the default route through the gateway',
        '添加经过网关的默认路由',
        '发往子网之外任何地方的包都交给网关——网桥在宿主机上的地址——由它继续路由并做伪装（出站 NAT），让回应找得到回来的路。internal 网络没有默认路由：它没有出口。',
    ),
    # etc_files
    "Names are resolved in /etc/hosts first (localhost, --add-host, the container's own name and address), then by the nameservers /etc/resolv.conf lists: the host's, or on a user-defined network the embedded DNS server at 127.0.0.11. Both files are the container's own, in its directory, bind-mounted over the init layer's placeholders: they are rewritten in place, and never end up in a layer.": (
        'Write /etc/hosts and /etc/resolv.conf',
        '写 /etc/hosts 和 /etc/resolv.conf',
        '名字先在 /etc/hosts 里解析（localhost、--add-host、容器自己的名字和地址），再交给 /etc/resolv.conf 列出的域名服务器：宿主机的，或者在用户自定义网络上，127.0.0.11 处的内嵌 DNS 服务器。这两个文件都是容器自己的，放在它的目录里，绑定挂载在初始层的占位文件之上：它们被原地改写，永远不会进到任何层里。',
    ),
    # publish
    "The container's address is private to the host. -p 8080:80 makes the host's port 8080 lead to the container's port 80: a DNAT rule rewrites packets arriving from outside, and a userland proxy holds the host port and relays connections made to 127.0.0.1, which never pass through DNAT.": (
        'Publish ports: a proxy on each host port, and DNAT rules',
        '发布端口：每个宿主机端口一个代理，外加 DNAT 规则',
        '容器的地址是宿主机私有的。-p 8080:80 让宿主机的 8080 端口通向容器的 80 端口：一条 DNAT 规则改写从外面来的包，一个用户态代理占住宿主机端口，转发连到 127.0.0.1 的连接——这些连接从不经过 DNAT。',
    ),
    # dns
    "On a network of your own, containers find each other by name: the engine serves DNS at 127.0.0.11 inside the container's namespace, answers container names and aliases with their addresses, and forwards every other name to the host's nameservers.": (
        'Start the embedded DNS server (user-defined networks)',
        '启动内嵌 DNS 服务器（用户自定义网络）',
        '在你自己建的网络上，容器按名字互相找到对方：引擎在容器的命名空间里于 127.0.0.11 提供 DNS，用地址回答容器名和别名，其余的名字都转发给宿主机的域名服务器。',
    ),
    # start_failed
    'Everything the start had set up is undone; the container stays created, and inspect shows the error and an exit code (127: the command was not found, 126: it could not be executed) -- as after a failed `docker start`.': (
        'Record why the start failed',
        '记下启动失败的原因',
        '启动时建立的一切都被撤销；容器停留在 created 状态，inspect 显示错误和退出码（127：找不到命令，126：无法执行）——和 `docker start` 失败之后一样。',
    ),
    # confinement
    "Before anything runs, work out what the container will be allowed to do: which of root's capabilities it keeps (Docker keeps 14 of 41), which system calls its seccomp profile allows, which device files it may open, and whether no_new_privs is set. Flags like --cap-add, --privileged and --security-opt change this.": (
        'Decide the confinement',
        '确定约束',
        '在运行任何东西之前，先弄清楚容器能做什么：保留 root 的哪些能力（capabilities，Docker 保留 41 个中的 14 个），seccomp 配置允许哪些系统调用，能打开哪些设备文件，是否设置 no_new_privs。--cap-add、--privileged 和 --security-opt 之类的参数会改变这些。',
    ),
    # volumes_on_host
    "Before anything of the container exists, its mounts are made ready on the host: its own /etc/hostname, /etc/hosts and /etc/resolv.conf are written in its directory, a volume created with driver options (type=tmpfs) gets its filesystem mounted over its data directory, and a missing host directory named with -v is created. A mount that cannot work (over /proc, a propagation the host's mount does not allow) fails the start here, and the container stays created -- as with Docker.": (
        'Get the volumes and bind sources ready on the host',
        '在宿主机上准备好卷和绑定挂载的源',
        '在容器的任何东西存在之前，它的挂载先在宿主机上准备好：它自己的 /etc/hostname、/etc/hosts 和 /etc/resolv.conf 写在它的目录里，带驱动选项（type=tmpfs）创建的卷把它的文件系统挂载到数据目录上，-v 指定的宿主机目录不存在时被创建。行不通的挂载（盖在 /proc 上，或宿主机的挂载不允许的传播方式）让启动在这里失败，容器停留在 created 状态——和 Docker 一样。',
    ),
    # mount_rootfs
    'UnionFS mounts several directories at one place: the image layers (read-only, lowerdir), the init layer, and the read-write layer (upperdir). The merged directory is what the container will see as /.': (
        'Mount the union filesystem',
        '挂载联合文件系统',
        'UnionFS 把多个目录挂载到同一个地方：镜像的层（只读，lowerdir）、初始层，以及可读写层（upperdir）。合并后的目录就是容器将看到的 /。',
    ),
    # cgroup
    "Namespaces only hide things. A cgroup limits what the container may use -- memory, number of processes, CPU time, and which device files it may open -- so one container cannot starve the others or read the host's disk, and an OOM kill hits a process inside the container instead of an innocent one outside.": (
        'Create the cgroup and set its limits',
        '创建 cgroup 并设置限制',
        '命名空间只负责隐藏。cgroup 限制容器能用多少——内存、进程数、CPU 时间，以及能打开哪些设备文件——这样一个容器就不能饿死别的容器，也不能读宿主机的磁盘；OOM 被杀的也是容器里的进程，而不是外面无辜的进程。',
    ),
    # spawn
    'clone() with CLONE_NEW* flags starts a process in new namespaces: its own PID numbers (it is PID 1), hostname, mount table, network and IPC. It joins the cgroup before it runs anything, and waits for the next steps.': (
        'Create the namespaces and the first process',
        '创建命名空间和第一个进程',
        '带 CLONE_NEW* 标志位的 clone() 在新的命名空间里启动一个进程：它有自己的 PID 编号（它是 1 号进程）、主机名、挂载表、网络和 IPC。它在运行任何东西之前就加入 cgroup，然后等待接下来的步骤。',
    ),
    # hostname
    "Inside its own UTS namespace the container can have its own hostname; the host's does not change.": (
        'Set the hostname',
        '设置主机名',
        '在自己的 UTS 命名空间里，容器可以有自己的主机名；宿主机的主机名不变。',
    ),
    # mounts
    "In its own mount namespace the container mounts a /proc that shows only its processes, a small /dev of its own (fresh device files made with mknod, never the host's), and a read-only /sys -- without touching the host's mounts. Then, while host paths can still be reached, each volume and host directory is bind-mounted at its place (parents before children), each --tmpfs gets a fresh tmpfs, and the container's own hostname, hosts and resolv.conf are bind-mounted over the init layer's placeholders. These mounts sit on top of the union filesystem: what is written there never reaches the read-write layer -- not in `diff`, not in `commit` -- and a volume outlives the container.": (
        'Mount /proc, /dev and /sys -- and the volumes',
        '挂载 /proc、/dev 和 /sys——还有卷',
        '在自己的挂载命名空间里，容器挂载一个只显示它自己进程的 /proc、一个属于它自己的小 /dev（用 mknod 新建的设备文件，从不用宿主机的），以及一个只读的 /sys——都不碰宿主机的挂载。然后，趁宿主机的路径还能到达，把每个卷和宿主机目录绑定挂载到它的位置（父目录先于子目录），每个 --tmpfs 得到一个新的 tmpfs，容器自己的 hostname、hosts 和 resolv.conf 绑定挂载在初始层的占位文件之上。这些挂载位于联合文件系统之上：写在那里的东西永远到不了可读写层——`diff` 里没有，`commit` 里也没有——而卷比容器活得更久。',
    ),
    # pivot_root
    "pivot_root makes the merged union mount the new / and detaches the old one, so no path -- not even ../../.. -- leads back to the host's files (chroot alone can be escaped). Sensitive /proc files are masked. With --read-only the root is remounted read-only now; the volumes, tmpfs and /dev mounted on it stay writable.": (
        'Switch the root filesystem (pivot_root)',
        '切换根文件系统（pivot_root）',
        'pivot_root 让合并后的联合挂载成为新的 /，并把旧的根卸下，于是没有任何路径——连 ../../.. 也不行——能回到宿主机的文件（单用 chroot 是可以逃出去的）。敏感的 /proc 文件被遮住。加了 --read-only 时，根在这时被重新挂载为只读；挂在它上面的卷、tmpfs 和 /dev 仍然可写。',
    ),
    # seccomp
    "From now on every system call passes a filter: Docker's default profile refuses about 50 of them (unshare, mount, reboot, loading modules...) with EPERM. Loaded before the capabilities are dropped, because without no_new_privs only a process holding CAP_SYS_ADMIN may install one. (With --security-opt no-new-privileges it comes last instead; --privileged and seccomp=unconfined load none.)": (
        'Load the seccomp filter',
        '加载 seccomp 过滤器',
        '从现在起，每个系统调用都要经过一个过滤器：Docker 的默认配置以 EPERM 拒绝其中大约 50 个（unshare、mount、reboot、加载内核模块……）。它在丢弃能力之前加载，因为没有 no_new_privs 时，只有持有 CAP_SYS_ADMIN 的进程才能安装过滤器。（用 --security-opt no-new-privileges 时它改在最后加载；--privileged 和 seccomp=unconfined 不加载。）',
    ),
    # capabilities
    "root in a container is not the host's root: most capabilities (mounting, loading modules, changing the clock...) leave the bounding set for good. Then the process becomes the container's user (with its groups, from the image's /etc/passwd and /etc/group); a non-root user keeps no capabilities at all.": (
        'Switch user and drop capabilities',
        '切换用户，丢弃能力',
        '容器里的 root 不是宿主机的 root：大多数能力（挂载、加载模块、改时钟……）永远离开了边界集（bounding set）。然后进程变成容器的用户（带上它的组，取自镜像的 /etc/passwd 和 /etc/group）；非 root 用户不保留任何能力。',
    ),
    # no_new_privs
    '--security-opt no-new-privileges: no setuid program or file capability can raise privileges again -- and the seccomp filter is loaded now, as late as possible. Docker leaves no_new_privs off by default, so setuid programs in images work.': (
        'Set no_new_privs, then load the seccomp filter',
        '设置 no_new_privs，然后加载 seccomp 过滤器',
        '--security-opt no-new-privileges：任何 setuid 程序或文件能力都不能再提升权限——seccomp 过滤器也在此时、尽可能晚地加载。Docker 默认不开 no_new_privs，这样镜像里的 setuid 程序才能用。',
    ),
    # exec
    "execve() replaces the waiting process with the container's command. From now on the container is running: a process, in its own namespaces, limited by its cgroup, on its own root filesystem.": (
        'Execute the command',
        '执行命令',
        'execve() 用容器的命令替换正在等待的进程。从现在起容器就在运行了：一个进程，在自己的命名空间里，受自己 cgroup 的限制，跑在自己的根文件系统上。',
    ),
    # disconnect
    "Deleting the host's end of the veth pair deletes the container's end too: the interface disappears from the container, its address is free again, and /etc/hosts no longer names it.": (
        'Disconnect from the network',
        '断开网络',
        '删掉 veth 对在宿主机上的一端，容器那一端也跟着删除：接口从容器里消失，它的地址重新空出来，/etc/hosts 里也不再有它的名字。',
    ),
    # resolve_image
    "An image is a stack of read-only layers, each holding only what changed against its parent. Find the image's layers and make sure each one is unpacked -- once; every container of this image shares them.": (
        'Resolve the image to its layers',
        '把镜像解析成它的层',
        '镜像是一叠只读的层，每一层只保存相对父层变化的部分。找出镜像的层，确保每一层都已解包——只解一次；这个镜像的所有容器共享它们。',
    ),
    # init_layer
    "Docker puts a thin layer on top of the image with what every container needs to find in place: the mount points /proc, /sys, /dev and empty placeholders for /etc/hostname, /etc/hosts and /etc/resolv.conf -- the real files live in the container's own directory and are bind-mounted over them at start. The seed calls it the init layer.": (
        'Prepare the init layer',
        '准备初始层',
        'Docker 在镜像上面放一层薄薄的层，里面是每个容器都要在原位找到的东西：挂载点 /proc、/sys、/dev，以及 /etc/hostname、/etc/hosts 和 /etc/resolv.conf 的空占位文件——真正的文件在容器自己的目录里，启动时绑定挂载到它们上面。seed 把它叫作初始层（init layer）。',
    ),
    # volumes
    "The seed's Dockerfile ends with VOLUME /data: data that must outlive the container. The read-write layer dies with the container, so /data is not kept there: it becomes a volume, a directory of the host outside every layer (volumes/NAME/_data), which a bind mount will show at /data. A new volume is filled with what the image has at that path. -v NAME:/path uses (or makes) a named volume; -v /path and VOLUME make anonymous ones.": (
        'Create the volumes',
        '创建卷',
        'seed 的 Dockerfile 以 VOLUME /data 结尾：那是必须比容器活得更久的数据。可读写层随容器一起消失，所以 /data 不放在那里：它成为一个卷——所有层之外的一个宿主机目录（volumes/NAME/_data），由一个绑定挂载在 /data 处显示出来。新卷用镜像在该路径下的内容填充。-v NAME:/path 使用（或创建）一个命名卷；-v /path 和 VOLUME 创建匿名卷。',
    ),
    # rw_layer
    "An empty layer on top of everything: the only place the container's processes can write. Whatever they change lands here, and `commit` turns it into an image layer.": (
        'Prepare the read-write layer',
        '准备可读写层',
        '在一切之上的一个空层：容器的进程唯一能写的地方。它们改的一切都落在这里，`commit` 把它变成镜像的一层。',
    ),
    # wait
    'The container lives as long as its first process. When PID 1 exits, the kernel kills everything else in its PID namespace; stepbox records the exit status (128+N for a signal: 137 = SIGKILL, e.g. by the OOM killer), then unmounts the rootfs and removes the cgroup; a volume mounted for it alone (type=tmpfs) is unmounted. The read-write layer stays, and so do the volumes.': (
        'Wait for the container to exit',
        '等待容器退出',
        '容器的寿命和它的第一个进程一样长。1 号进程退出时，内核杀掉它 PID 命名空间里的其他所有进程；stepbox 记下退出状态（被信号杀死时是 128+N：137 = SIGKILL，比如被 OOM killer 杀死），然后卸载 rootfs、删除 cgroup；只为它挂载的卷（type=tmpfs）也被卸载。可读写层留下，卷也留下。',
    ),
    # stop_signal
    "docker stop asks politely first: SIGTERM (or the image's STOPSIGNAL) to PID 1, sent from the host so the kernel delivers it even to a namespace's init.": (
        'Stop: send {}',
        '停止：发送 {}',
        'docker stop 先礼貌地请求：把 SIGTERM（或镜像的 STOPSIGNAL）发给 1 号进程，从宿主机发出，这样内核连命名空间的 init 进程也会投递。',
    ),
    # grace_period
    "The container gets a grace period (10 seconds unless -t says otherwise) to exit. A PID 1 that installed no handler ignores SIGTERM -- the kernel protects a namespace's init -- so after the grace period SIGKILL ends it for sure.": (
        'Wait up to {}s, then SIGKILL',
        '最多等 {} 秒，然后 SIGKILL',
        '容器有一段宽限期（10 秒，除非 -t 另行指定）来退出。没有安装信号处理函数的 1 号进程会忽略 SIGTERM——内核保护命名空间的 init 进程——所以宽限期过后由 SIGKILL 确保结束它。',
    ),
    # kill
    "docker kill sends one signal to PID 1 (SIGKILL unless --signal says otherwise) and waits for nothing: SIGKILL cannot be caught or ignored, any other signal is the container's to handle.": (
        'Send {}',
        '发送 {}',
        'docker kill 给 1 号进程发一个信号（SIGKILL，除非 --signal 另行指定），什么也不等：SIGKILL 不能被捕获或忽略，其他信号由容器自己处理。',
    ),
    # freeze
    'The freezer stops every process of the cgroup where it stands -- no signal, nothing the processes could notice or refuse -- until the cgroup is thawed.': (
        'Freeze the cgroup',
        '冻结 cgroup',
        'freezer 让 cgroup 里的每个进程原地停住——没有信号，进程察觉不到也无法拒绝——直到 cgroup 被解冻。',
    ),
    # thaw
    'The frozen processes carry on where they stopped. A frozen process cannot act on a signal either, so stop and kill thaw a paused container first.': (
        'Thaw the cgroup',
        '解冻 cgroup',
        '被冻结的进程从停下的地方继续。被冻结的进程也无法响应信号，所以 stop 和 kill 会先解冻一个暂停的容器。',
    ),
    # remove
    "Unmount (if still mounted), delete the cgroup, and delete the container's own layers -- the init layer and the read-write layer -- and its record and logs. The image's layers stay: other containers share them. So do volumes: only `rm -v` (and `run --rm`) delete the container's anonymous volumes; a named one stays until `volume rm`.": (
        'Remove the container',
        '删除容器',
        '卸载（如果还挂着）、删除 cgroup，删除容器自己的层——初始层和可读写层——以及它的记录和日志。镜像的层留下：别的容器还在共享它们。卷也留下：只有 `rm -v`（以及 `run --rm`）会删除容器的匿名卷；命名卷一直留到 `volume rm`。',
    ),
    # init
    "docker run --init: a tiny init (tini) from the host is bind-mounted read-only at /sbin/docker-init and becomes PID 1, with the command as its child. It reaps orphaned processes (a namespace's init must, or they stay zombies) and passes signals on: the kernel gives a namespace's init only the signals it has handlers for, so a plain program as PID 1 ignores docker stop's SIGTERM.": (
        'Bind an init as PID 1 (--init)',
        '绑定一个 init 作为 1 号进程（--init）',
        'docker run --init：宿主机上的一个小 init（tini）以只读方式绑定挂载到 /sbin/docker-init，成为 1 号进程，命令是它的子进程。它回收孤儿进程（命名空间的 init 必须这么做，否则它们会一直是僵尸进程），并转发信号：内核只把 init 装了处理函数的信号交给命名空间的 init，所以一个普通程序当 1 号进程时会忽略 docker stop 的 SIGTERM。',
    ),
    # terminal
    "docker run -t: a pseudo-terminal is opened from the container's own /dev/pts. Its slave side becomes the command's stdin, stdout and stderr and its controlling terminal (and /dev/console); the master side stays outside, with the shim, which types what the client sends and copies what the terminal shows to the log. The kernel's line discipline in between echoes keys, edits lines, and turns ^C into SIGINT -- which is why a shell now prints a prompt.": (
        'Open a pseudo-terminal',
        '打开一个伪终端',
        'docker run -t：从容器自己的 /dev/pts 打开一个伪终端。它的从端成为命令的 stdin、stdout、stderr 和控制终端（以及 /dev/console）；主端留在外面，交给 shim，由它把客户端发来的内容敲进去，再把终端显示的内容复制到日志。中间的内核行规程（line discipline）回显按键、编辑行，并把 ^C 变成 SIGINT——所以 shell 这时会打印提示符。',
    ),
    # ulimits
    'docker run --ulimit nofile=100:200: setrlimit() on the waiting process, whose limits its command keeps across execve() and hands down to its children. Unlike a cgroup, a limit of this kind counts per process (open files, stack size, core dumps...). It is set before capabilities are dropped: raising a hard limit needs CAP_SYS_RESOURCE.': (
        'Set resource limits (--ulimit)',
        '设置资源限制（--ulimit）',
        'docker run --ulimit nofile=100:200：对正在等待的进程调用 setrlimit()，它的命令在 execve() 之后保留这些限制，并传给它的子进程。和 cgroup 不同，这种限制按进程计算（打开的文件数、栈大小、core dump……）。它在丢弃能力之前设置：提高硬限制需要 CAP_SYS_RESOURCE。',
    ),
    # user_network
    "Without root there is no bridge, veth or NAT rule. A user-mode network stack takes their place, in an ordinary process: slirp4netns enters the container's namespace, makes a TAP device there (tap0, 10.0.2.100/24, default route via 10.0.2.2) and replays every connection the container makes with sockets of its own on the host. 10.0.2.3 forwards DNS to the host's nameservers, so /etc/resolv.conf names it. The process is the container's network: it is stopped when the container exits.": (
        "Attach a user-mode network (slirp4netns): tap0, 10.0.2.100",
        '接上用户态网络（slirp4netns）：tap0，10.0.2.100',
        '没有 root 就没有网桥、veth 和 NAT 规则。一个用户态网络栈在一个普通进程里替代它们：slirp4netns 进入容器的命名空间，在那里建一个 TAP 设备（tap0，10.0.2.100/24，默认路由经 10.0.2.2），再用它自己在宿主机上的套接字重放容器发起的每个连接。10.0.2.3 把 DNS 查询转给宿主机的域名服务器，所以 /etc/resolv.conf 写的是它。这个进程就是容器的网络：容器退出时它也被停掉。',
    ),
    # publish_relay
    "Without root there is no bridge and no DNAT rule: the container has only lo. Rootless Docker publishes ports anyway (rootlesskit's builtin port driver), and so does this step: the engine holds the host port, and for each connection opens a socket inside the container's network namespace -- it is root of the user namespace that owns it, so it may enter -- connected to the container's 127.0.0.1, and copies bytes both ways.": (
        "Publish ports: relay each host port into the container's namespace",
        '发布端口：把每个宿主机端口转发进容器的命名空间',
        '没有 root 就没有网桥，也没有 DNAT 规则：容器只有 lo。rootless Docker 照样发布端口（rootlesskit 的内置端口驱动），这一步也一样：引擎占住宿主机端口，每来一个连接，就在容器的网络命名空间里打开一个套接字——引擎是拥有这个命名空间的用户命名空间里的 root，所以可以进入——连到容器的 127.0.0.1，再双向复制字节。',
    ),
}


def chinese(step: Step[Any]) -> tuple[str, str] | None:
    """The step's (title, explanation) in Chinese; None if it has none.  A step of
    another walk -- a build, the OCI runtime's own -- is looked up in its table."""
    found = IN_CHINESE.get(step.explain)
    for table in (BUILD_IN_CHINESE, RUNTIME_IN_CHINESE):
        if found is None:
            found = table.get(step.explain)
    if found is None:
        return None
    pattern, title, explain = found
    if "{}" in pattern:
        match = re.fullmatch(re.escape(pattern).replace(re.escape("{}"), "(.+?)"), step.title)
        if match is None:
            return None
        title = title.format(*match.groups())
    elif pattern != step.title:
        return None
    return title, explain


def text_of(step: Step[Any], lang: str) -> tuple[str, str]:
    """(title, explanation) in ``lang`` ("en" or "zh")."""
    if lang == "zh":
        found = chinese(step)
        if found is not None:
            return found
    return step.title, step.explain
