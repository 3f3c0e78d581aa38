/* bench_sbd.c: starting a child sbd for the end-to-end benchmarks
 * (sb-bench social, chat): free ports below the ephemeral range, its own
 * process group, killed with the bench (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "sb_netutil.h"

void bench_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

pid_t bench_start_sbd(const char *sbd, const char *dir, int *port)
{
    char data[300], ps[16], log[300];
    pid_t pid, parent = getpid();

    if (*port == 0)
        *port = sb_free_port_range(8);
    if (*port <= 0)
        return -1;
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/sbd.log", dir);
    snprintf(ps, sizeof ps, "%d", *port);
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* its stdout too (sbd prints the web client's URL there): the
         * bench's own stdout carries only results (--json lines) */
        if (getppid() != parent || !freopen(log, "a", stderr) ||
            !freopen(log, "a", stdout))
            _exit(127);
        execl(sbd, sbd, "--data-dir", data, "--base-port", ps, "--host",
              "127.0.0.1", "--pw-cost", "fast", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        if (sb_port_accepts(*port))
            return pid;
        bench_sleep_ms(100);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

void bench_stop_sbd(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(-pid, SIGTERM); /* the graceful stop; its app children too */
    for (int i = 0; i < 100 && waitpid(pid, NULL, WNOHANG) != pid; i++)
        bench_sleep_ms(100);
    kill(-pid, SIGKILL); /* whatever of the group is left */
    waitpid(pid, NULL, 0);
}

void bench_default_sbd(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 8);
    char *slash;
    buf[len > 0 ? len : 0] = '\0';
    slash = strrchr(buf, '/');
    snprintf(slash ? slash + 1 : buf, 8, "sbd");
}
