/* test_social_proc.c: start, kill and restart a real `sbd` child for the
 * social integration tests (see test_social_proc.h). sbd runs in its own
 * process group so that kill -9 also reaches its app-server children, and
 * it dies with the test (PR_SET_PDEATHSIG) so no run leaves it behind. */
#define _GNU_SOURCE
#include "sb_netutil.h"
#include "test_social_proc.h"

#include <arpa/inet.h>
#include <errno.h>
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

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tsp_init(tsp_sbd *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s/sb-social.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->data, sizeof s->data, "%s/data", s->dir);
    if ((s->port = sb_free_port_range(8)) > 0)
        return 0;
    fprintf(stderr, "tsp: no free port range\n");
    return -1;
}

int tsp_start(tsp_sbd *s)
{
    const char *bin = getenv("SB_BIN_DIR");
    char path[512], port[16], log[400];
    pid_t parent = getpid();

    snprintf(path, sizeof path, "%s/sbd", bin ? bin : "bin");
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(log, sizeof log, "%s/sbd.log", s->dir);
    s->pid = fork();
    if (s->pid < 0) {
        perror("fork");
        s->pid = 0;
        return -1;
    }
    if (s->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        if (!freopen(log, "a", stderr))
            _exit(127);
        char *argv[] = {path,
                        "--data-dir",
                        s->data,
                        "--base-port",
                        port,
                        "--host",
                        "127.0.0.1",
                        "--pw-cost",
                        "fast",
                        s->draw_url ? "--draw" : NULL,
                        (char *)s->draw_url,
                        NULL};
        execv(path, argv);
        _exit(127);
    }
    setpgid(s->pid, s->pid); /* also from here: no race with kill */
    for (int i = 0; i < 300; i++) {
        int wst;
        if (waitpid(s->pid, &wst, WNOHANG) == s->pid) {
            fprintf(stderr, "tsp: sbd exited at start (see %s)\n", log);
            s->pid = 0;
            return -1;
        }
        if (sb_port_accepts(s->port))
            return 0;
        sleep_ms(100);
    }
    fprintf(stderr, "tsp: sbd did not accept on %d in 30 s\n", s->port);
    return -1;
}

void tsp_stop(tsp_sbd *s, int sig)
{
    int wst;

    if (s->pid <= 0)
        return;
    kill(-s->pid, sig);
    for (int i = 0; i < 150; i++) {
        if (waitpid(s->pid, &wst, WNOHANG) == s->pid)
            goto reaped;
        sleep_ms(100);
    }
    kill(-s->pid, SIGKILL);
    waitpid(s->pid, &wst, 0);
reaped:
    /* The group's other members (app servers) die with SIGKILL too;
     * give the kernel a moment to release their ports. */
    kill(-s->pid, SIGKILL);
    for (int i = 0; i < 50 && kill(-s->pid, 0) == 0; i++)
        sleep_ms(100);
    s->pid = 0;
}

void tsp_cleanup(tsp_sbd *s)
{
    char cmd[400];

    tsp_stop(s, SIGTERM);
    if (s->dir[0] && !getenv("SB_KEEP_DATA")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "tsp: could not remove %s\n", s->dir);
    }
}
