/* syscall_probe: how every system call number is answered in this process.
 *
 * For each number N in [FIRST, LAST] a child calls syscall(N, -1, -1, -1,
 * -1, -1, -1) -- arguments no call can use, so nothing of consequence
 * happens -- and reports how it went: "N errno E" (it failed with errno E),
 * "N ok" (it returned), "N exit S" (it ended the child itself: exit), or
 * "N signal S" (a signal ended it: SIGSYS from a seccomp KILL, SIGSEGV from
 * a bad rt_sigreturn, SIGALRM from a call that blocks).  Run in two
 * containers confined the same way, the two reports must be the same.
 *
 * Built static by the tests (gcc -static) so it runs in a busybox image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long first = argc > 1 ? atol(argv[1]) : 0;
    long last = argc > 2 ? atol(argv[2]) : 462;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long nr = first; nr <= last; nr++) {
        int pipefd[2];
        if (pipe(pipefd) != 0) return 2;
        pid_t pid = fork();
        if (pid < 0) return 3;
        if (pid == 0) {
            close(pipefd[0]);
            alarm(2);
            long r = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
            int e = r == -1 ? errno : 0;
            /* tell the parent what the call said, then leave at once */
            (void)!write(pipefd[1], &e, sizeof e);
            _exit(0);
        }
        close(pipefd[1]);
        int e = -1, status = 0;
        ssize_t got = read(pipefd[0], &e, sizeof e);
        close(pipefd[0]);
        waitpid(pid, &status, 0);
        if (got == sizeof e)
            printf(e ? "%ld errno %d\n" : "%ld ok\n", nr, e);
        else if (WIFSIGNALED(status))
            printf("%ld signal %d\n", nr, WTERMSIG(status));
        else
            printf("%ld exit %d\n", nr, WEXITSTATUS(status));
    }
    return 0;
}
