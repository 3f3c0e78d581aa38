/* sbd_store.c: the store role (`sbd store`): one LMDB environment in
 * DIR/store, its group-commit writer, and sb.store.Store served on
 * --listen (tcp://127.0.0.1:P+3 by default, 8891 for P = 8888) for login
 * and app servers in other processes. `sbd all` serves the same service
 * on P+3 beside its in-process use (sbd_store_serve). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rpc.h"
#include "sb_log.h"
#include "sbd.h"
#include "store_service.h"

int sbd_store_open(const char *data_dir, store_db **db, store_writer **w)
{
    char dir[4096];
    int rv;

    *db = NULL;
    *w = NULL;
    if (snprintf(dir, sizeof dir, "%s/store", data_dir) >= (int)sizeof dir)
        return ENAMETOOLONG;
    if ((rv = rpc_mkdirs(dir)) != 0) {
        sb_error("store", "cannot create %s: %s", dir, strerror(rv));
        return rv;
    }
    if ((rv = store_db_open(dir, NULL, db)) != 0)
        return rv;
    if ((rv = store_writer_start(*db, 0, w)) != 0) {
        store_db_close(*db);
        *db = NULL;
        return rv;
    }
    sb_info("store", "data in %s (stale reader slots cleared: %d)", dir,
            store_db_stale_readers(*db));
    return 0;
}

int sbd_store_serve(store_db *db, store_writer *w, const char *url,
                    const rpc_tls *tls, sbd_store_srv *out)
{
    /* Every write parks its call until the commit: room for many. */
    rpc_server_config sc = {
        .name = "store", .max_deferred = 16384, .contexts = 256};
    int rv;

    if (tls != NULL)
        sc.tls = *tls; /* mutual: rpc_tls_config asks for the client's */

    memset(out, 0, sizeof *out);
    if ((rv = rpc_server_create(&out->srv, &sc)) != 0 ||
        (rv = store_service_register(out->srv, db, w, &out->svc)) != 0)
        goto fail;
    if ((rv = rpc_server_listen(out->srv, url)) != 0) {
        sb_error("store", "cannot listen on %s: %s", url, rpc_code_name(rv));
        goto fail;
    }
    if ((rv = rpc_server_start(out->srv)) != 0)
        goto fail;
    sb_info("store", "serving sb.store.Store on %s",
            rpc_server_url(out->srv, 0));
    return 0;
fail:
    sbd_store_stop(out);
    return rv;
}

void sbd_store_stop(sbd_store_srv *s)
{
    rpc_server_destroy(s->srv); /* graceful: parked writes finish first */
    store_service_free(s->svc);
    s->srv = NULL;
    s->svc = NULL;
}

int sbd_run_store(const sbd_opts *o)
{
    store_db *db = NULL;
    store_writer *w = NULL;
    sbd_store_srv s = {0};
    rpc_tls tls;
    rpc_tls_files files;
    int rv;

    /* --listen: tcp://127.0.0.1:P+3 by default (sbd_main.c); never one
     * other hosts reach without mutual TLS */
    if (sbd_listen_tls(o, "store", o->draw_listen, &tls, &files) != 0)
        return -1;
    if ((rv = sbd_store_open(o->data_dir, &db, &w)) == 0)
        rv = sbd_store_serve(db, w, o->draw_listen, &tls, &s);
    if (rv == 0)
        sbd_wait_signal();
    sbd_store_stop(&s);   /* no new calls, parked ones answered */
    store_writer_stop(w); /* commits what was submitted */
    store_db_close(db);
    sb_info("sbd", "stopped");
    return rv == 0 ? 0 : -1;
}
