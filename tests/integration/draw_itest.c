/* draw_itest.c: see draw_itest.h. The server is the real sbd binary from
 * SB_BIN_DIR; its log goes to DIR/sbd.log so a failing test can show it. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "draw_itest.h"
#include "sb_netutil.h"

int dproc_init(dproc *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/sb-drawit.XXXXXX");
    return mkdtemp(p->dir) != NULL ? 0 : -1;
}

static pid_t spawn(const dproc *p, uint32_t size)
{
    const char *bin = getenv("SB_BIN_DIR");
    char exe[512], listen[64], sz[16], log[128];

    snprintf(exe, sizeof exe, "%s/sbd", bin != NULL ? bin : "bin");
    snprintf(sz, sizeof sz, "%u", size);
    snprintf(log, sizeof log, "%s/sbd.log", p->dir);
    snprintf(listen, sizeof listen, "%s", p->url);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0)
        dup2(fd, 2);
    if (size > 0)
        execl(exe, "sbd", "draw", "--data-dir", p->dir, "--listen", listen,
              "--pool-size", sz, (char *)NULL);
    else
        execl(exe, "sbd", "draw", "--data-dir", p->dir, "--listen", listen,
              (char *)NULL);
    _exit(127);
}

/* Starts sbd draw on a port below the ephemeral range (other processes'
 * outgoing connections cannot take it between the check and the bind);
 * a port another test took anyway makes sbd exit, and a new one is tried. */
int dproc_start(dproc *p, uint32_t size)
{
    Sb__Draw__StatusReply *s = NULL;

    for (int attempt = 0; attempt < 5; attempt++) {
        if ((p->port = sb_free_port_range(1)) < 0)
            return -1;
        snprintf(p->url, sizeof p->url, "tcp://127.0.0.1:%d", p->port);
        if ((p->pid = spawn(p, size)) < 0)
            return -1;
        for (int i = 0; i < 200; i++) { /* 20 s: the sanitizer build is slow */
            if (dproc_status(p->url, &s) == RPC_OK) {
                sb_draw_Draw_free(s);
                return 0;
            }
            if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
                p->pid = 0;
                break; /* exited: most likely the port was taken */
            }
            usleep(100000);
        }
        if (p->pid > 0)
            return -1; /* up but not answering for 20 s */
    }
    return -1;
}

void dproc_stop(dproc *p, int kill9)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, kill9 ? SIGKILL : SIGTERM);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
}

void dproc_cleanup(dproc *p)
{
    char cmd[128];

    dproc_stop(p, 1);
    if (p->dir[0] != '\0') {
        snprintf(cmd, sizeof cmd, "rm -rf %s", p->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", p->dir);
    }
}

int dproc_status(const char *url, Sb__Draw__StatusReply **out)
{
    Sb__Draw__StatusRequest req = SB__DRAW__STATUS_REQUEST__INIT;
    rpc_opts o = {.timeout_ms = 500, .no_retry = 1};
    rpc_client *c;
    rpc_status st;

    if (rpc_client_open(&c, url, NULL) != 0)
        return RPC_UNAVAILABLE;
    int rv = sb_draw_Draw_Status(c, &req, out, &o, &st);
    rpc_client_close(c);
    return rv;
}

int dproc_draw(rpc_client *c, uint32_t count, Sb__Draw__DrawReply **out,
               rpc_status *st)
{
    Sb__Draw__DrawRequest req = SB__DRAW__DRAW_REQUEST__INIT;
    rpc_opts o = {.timeout_ms = 3000, .no_retry = 1};

    req.count = count;
    return sb_draw_Draw_Draw(c, &req, out, &o, st);
}
