/* bench_rpc_srv.c: the servers behind `sb-bench rpc` (see
 * bench_rpc_srv.h): the framework's Echo server, the raw nng echo server
 * with the same number of contexts, and the --server-process child that
 * runs both so that client and server load land on different nng task
 * threads (and the tail latency of one process's scheduling can be told
 * from the framework's). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "bench_rpc_srv.h"
#include "bench_util.h"

int bench_fw_server_start(rpc_server **s, echo_service **e,
                          const rpc_server_config *cfg, int on_workers)
{
    *s = NULL;
    *e = NULL;
    if (rpc_server_create(s, cfg) == 0 && echo_service_register(*s, e) == 0 &&
        (!on_workers ||
         rpc_server_set_nonblocking(*s, sb_echo_Echo_Echo_METHOD, 0) == 0) &&
        rpc_server_listen(*s, "tcp://127.0.0.1:0") == 0 &&
        rpc_server_start(*s) == 0)
        return 0;
    rpc_server_destroy(*s);
    echo_service_free(*e);
    return -1;
}

/* ---- raw nng: echo from nng's callbacks, no envelope ---- */

struct raw_srv_ctx {
    nng_ctx ctx;
    nng_aio *aio;
    int sending;
};

static void raw_srv_cb(void *arg)
{
    raw_srv_ctx *c = arg;
    if (nng_aio_result(c->aio) != 0) {
        if (c->sending)
            nng_msg_free(nng_aio_get_msg(c->aio));
        if (nng_aio_result(c->aio) == NNG_ECLOSED)
            return;
        c->sending = 0;
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    if (c->sending) {
        c->sending = 0;
        nng_ctx_recv(c->ctx, c->aio);
    } else {
        c->sending = 1; /* echo the request message straight back */
        nng_ctx_send(c->ctx, c->aio);
    }
}

int raw_server_start(raw_server *rs, int contexts)
{
    nng_listener lst;
    int port = 0;
    memset(rs, 0, sizeof *rs);
    if ((rs->ctxs = calloc((size_t)contexts, sizeof *rs->ctxs)) == NULL)
        return -1;
    if (nng_rep0_open(&rs->sock) != 0) {
        free(rs->ctxs);
        return -1;
    }
    if (nng_listen(rs->sock, "tcp://127.0.0.1:0", &lst, 0) != 0 ||
        nng_listener_get_int(lst, NNG_OPT_TCP_BOUND_PORT, &port) != 0)
        goto fail;
    snprintf(rs->url, sizeof rs->url, "tcp://127.0.0.1:%d", port);
    for (; rs->n < contexts; rs->n++) {
        raw_srv_ctx *c = &rs->ctxs[rs->n];
        if (nng_ctx_open(&c->ctx, rs->sock) != 0)
            goto fail;
        if (nng_aio_alloc(&c->aio, raw_srv_cb, c) != 0) {
            nng_ctx_close(c->ctx);
            goto fail;
        }
        nng_ctx_recv(c->ctx, c->aio);
    }
    return 0;
fail:
    raw_server_stop(rs);
    return -1;
}

void raw_server_stop(raw_server *rs)
{
    nng_close(rs->sock);
    for (int i = 0; i < rs->n; i++)
        nng_aio_free(rs->ctxs[i].aio);
    free(rs->ctxs);
    rs->ctxs = NULL;
    rs->n = 0;
}

int64_t bench_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* ---- --server-process ---- */

/* The child: both servers, then a CPU figure per request byte until
 * the parent closes its end. */
static void child_serve(int cmd_fd, int reply_fd, const rpc_server_config *cfg,
                        int on_workers, int raw_contexts)
{
    rpc_server *s = NULL;
    echo_service *e = NULL;
    raw_server rs;
    char urls[128] = {0};
    int fw_ok = bench_fw_server_start(&s, &e, cfg, on_workers) == 0;
    int raw_ok = fw_ok && raw_server_start(&rs, raw_contexts) == 0;
    if (raw_ok) {
        snprintf(urls, 64, "%s", rpc_server_url(s, 0));
        snprintf(urls + 64, 64, "%s", rs.url);
    }
    if (bench_full_io(reply_fd, urls, sizeof urls, 1) == 0 && raw_ok) {
        char c;
        while (bench_full_io(cmd_fd, &c, 1, 0) == 0) {
            int64_t cpu = bench_cpu_us();
            if (bench_full_io(reply_fd, &cpu, sizeof cpu, 1) != 0)
                break;
        }
    }
    if (raw_ok)
        raw_server_stop(&rs);
    if (fw_ok) {
        rpc_server_destroy(s);
        echo_service_free(e);
    }
}

int srv_proc_start(srv_proc *sp, const rpc_server_config *cfg, int on_workers,
                   int raw_contexts)
{
    int cmd[2], rep[2];
    char urls[128];
    memset(sp, 0, sizeof *sp);
    sp->pid = -1;
    if (pipe(cmd) != 0)
        return -1;
    if (pipe(rep) != 0) {
        close(cmd[0]);
        close(cmd[1]);
        return -1;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid == 0) {
        close(cmd[1]);
        close(rep[0]);
        child_serve(cmd[0], rep[1], cfg, on_workers, raw_contexts);
        close(cmd[0]);
        close(rep[1]);
        return 1;
    }
    close(cmd[0]);
    close(rep[1]);
    signal(SIGPIPE, SIG_IGN); /* a dead child: an error, not our death */
    sp->pid = pid;
    sp->cmd_fd = cmd[1];
    sp->reply_fd = rep[0];
    if (pid < 0 || bench_full_io(sp->reply_fd, urls, sizeof urls, 0) != 0 ||
        urls[0] == '\0') {
        srv_proc_stop(sp);
        return -1;
    }
    memcpy(sp->fw_url, urls, 64);
    memcpy(sp->raw_url, urls + 64, 64);
    sp->fw_url[63] = sp->raw_url[63] = '\0';
    return 0;
}

int64_t srv_proc_cpu_us(srv_proc *sp)
{
    int64_t cpu;
    char c = 'c';
    if (bench_full_io(sp->cmd_fd, &c, 1, 1) != 0 ||
        bench_full_io(sp->reply_fd, &cpu, sizeof cpu, 0) != 0)
        return -1;
    return cpu;
}

void srv_proc_stop(srv_proc *sp)
{
    close(sp->cmd_fd); /* the child's read sees EOF and it stops */
    close(sp->reply_fd);
    if (sp->pid <= 0)
        return;
    for (int i = 0; i < 500; i++) {
        if (waitpid(sp->pid, NULL, WNOHANG) == sp->pid)
            return;
        bench_sleep_ms(10);
    }
    kill(sp->pid, SIGKILL);
    waitpid(sp->pid, NULL, 0);
}
