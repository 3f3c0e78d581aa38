/* sbd_fleet.c: the fleet part of `sbd all`: either an orchestrator of its
 * own (fleet record in DIR/orchestrator, RPC on 127.0.0.1:P+2, status page
 * on P+6) whose local driver runs app servers as child `sbd app` processes
 * that die with this process, or, with --orchestrator URL, an external
 * one. Either way login reaches it through login_orch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_log.h"
#include "sbd.h"

struct sbd_fleet {
    orch_role *orch; /* NULL when external */
    login_orch *lo;
    sbd_argv av;
};

/* Removes the LMDB files of the fleet record in dir (if any). */
static void wipe_record(const char *dir)
{
    char path[4200];

    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (unlink(path) != 0 && errno != ENOENT)
        sb_warn("sbd", "cannot remove %s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
}

int sbd_fleet_start(const sbd_opts *o, const sbd_app_urls *u, sbd_fleet **out)
{
    char dir[4096], listen[64], name[64], idle[16], skew[16];
    const char *extra[16];
    size_t n = 0;
    orch_config c;
    sbd_fleet *f = calloc(1, sizeof(*f));
    const char *url = o->orch.url;

    *out = NULL;
    if (f == NULL)
        return -1;
    if (url == NULL) {
        sbd_orch_config(o, &c);
        snprintf(dir, sizeof dir, "%s/orchestrator", o->data_dir);
        snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", o->base_port + 2);
        c.data_dir = dir;
        c.listen_url = listen;
        /* P+6 (8894 by default: 8080 is the web client's; sbd_main.c);
         * a page that cannot bind is only a warning here (the chat
         * service matters more than the page). */
        c.http_port = o->orch.http_port;
        c.http_optional = 1;
        c.children_die_with_parent = 1;
        /* Our app servers die with us, so a previous run's fleet is gone
         * (or going): start from an empty record, and tag this run's
         * fleet by its port, so a restart terminates any stragglers of
         * the last run and never touches another sbd's app servers. */
        snprintf(name, sizeof name, "sbd-all-%d", o->base_port);
        if (c.fleet_name == NULL)
            c.fleet_name = name;
        wipe_record(dir);
        extra[n++] = "--store", extra[n++] = u->store;
        extra[n++] = "--bus-in", extra[n++] = u->bus_in;
        extra[n++] = "--bus-out", extra[n++] = u->bus_out;
        extra[n++] = "--listen", extra[n++] = u->app_listen;
        if (u->draw != NULL)
            extra[n++] = "--draw", extra[n++] = u->draw;
        /* The app servers end idle sessions and report skewed time (a
         * test-only flag) exactly as an in-process one would. */
        snprintf(idle, sizeof idle, "%d", o->session_idle_ms);
        extra[n++] = "--session-idle-ms", extra[n++] = idle;
        if (o->clock_skew_ms != 0) {
            snprintf(skew, sizeof skew, "%d", o->clock_skew_ms);
            extra[n++] = "--test-clock-skew-ms", extra[n++] = skew;
        }
        if (sbd_app_argv(o, listen, extra, n, &f->av) != 0)
            goto fail;
        c.app_argv = (const char *const *)f->av.v;
        if (orch_role_start(&c, &f->orch) != 0)
            goto fail;
        url = orch_role_url(f->orch);
    }
    if (login_orch_open(url, 0, &f->lo) != 0) {
        sb_error("sbd", "cannot open the orchestrator client for %s", url);
        goto fail;
    }
    *out = f;
    return 0;
fail:
    sbd_fleet_stop(f);
    return -1;
}

login_orch *sbd_fleet_login(sbd_fleet *f)
{
    return f->lo;
}

void sbd_fleet_stop(sbd_fleet *f)
{
    if (f == NULL)
        return;
    login_orch_close(f->lo);
    /* Our app servers stop with us: SIGTERM, then SIGKILL after 5 s. */
    orch_role_stop(f->orch, 1);
    free(f);
}
