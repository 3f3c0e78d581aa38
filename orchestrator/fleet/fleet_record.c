/* fleet_record.c: the fleet record on LMDB (see fleet_record.h). Rows are
 * fixed-size structs zeroed before filling, tagged by size: the record is
 * read only by the orchestrator that wrote it, on the same host. The map
 * grows by itself when full. */
#include "fleet_record.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sb_log.h"

#define REC_MAP_START (16u << 20)

struct fleet_record {
    MDB_env *env;
    MDB_dbi servers, sessions, meta;
    size_t map_size;
};

static int lmdb_fail(rpc_status *st, int rc, const char *what)
{
    return fleet_status(st, RPC_INTERNAL, "fleet record: %s: %s", what,
                        mdb_strerror(rc));
}

int fleet_record_open(const char *dir, fleet_record **out, rpc_status *st)
{
    fleet_record *r = calloc(1, sizeof(*r));
    MDB_txn *txn = NULL;
    int rc, dead = 0;

    if (r == NULL)
        return fleet_status(st, RPC_INTERNAL, "fleet record: out of memory");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fleet_status(st, RPC_INTERNAL, "fleet record: cannot create %s: %s",
                     dir, strerror(errno));
        goto fail;
    }
    r->map_size = REC_MAP_START;
    if ((rc = mdb_env_create(&r->env)) != 0 ||
        (rc = mdb_env_set_maxdbs(r->env, 4)) != 0 ||
        (rc = mdb_env_set_mapsize(r->env, r->map_size)) != 0 ||
        (rc = mdb_env_open(r->env, dir, MDB_NOTLS, 0600)) != 0) {
        lmdb_fail(st, rc, dir);
        goto fail;
    }
    mdb_reader_check(r->env, &dead);
    if ((rc = mdb_txn_begin(r->env, NULL, 0, &txn)) != 0 ||
        (rc = mdb_dbi_open(txn, "servers", MDB_CREATE, &r->servers)) != 0 ||
        (rc = mdb_dbi_open(txn, "sessions", MDB_CREATE, &r->sessions)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &r->meta)) != 0) {
        lmdb_fail(st, rc, "opening databases");
        goto fail;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0) {
        lmdb_fail(st, rc, "creating databases");
        goto fail;
    }
    *out = r;
    return RPC_OK;
fail:
    if (txn != NULL)
        mdb_txn_abort(txn);
    fleet_record_close(r);
    return RPC_INTERNAL;
}

void fleet_record_close(fleet_record *r)
{
    if (r == NULL)
        return;
    if (r->env != NULL)
        mdb_env_close(r->env);
    free(r);
}

/* One write (put, or delete when val is NULL) in one transaction; grows the
 * map and retries once when it is full. */
static int rec_write(fleet_record *r, MDB_dbi dbi, const void *key, size_t klen,
                     const void *val, size_t vlen, rpc_status *st)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        MDB_txn *txn;
        MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
        int rc = mdb_txn_begin(r->env, NULL, 0, &txn);

        if (rc != 0)
            return lmdb_fail(st, rc, "begin");
        rc = val != NULL ? mdb_put(txn, dbi, &k, &v, 0)
                         : mdb_del(txn, dbi, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
        if (rc != 0) {
            mdb_txn_abort(txn);
        } else if ((rc = mdb_txn_commit(txn)) == 0) {
            return RPC_OK;
        }
        if (rc != MDB_MAP_FULL || attempt > 0)
            return lmdb_fail(st, rc, "write");
        r->map_size *= 2;
        if ((rc = mdb_env_set_mapsize(r->env, r->map_size)) != 0)
            return lmdb_fail(st, rc, "growing the map");
        sb_info("fleet", "fleet record map grown to %zu MiB",
                r->map_size >> 20);
    }
    return RPC_INTERNAL;
}

int fleet_record_put_server(fleet_record *r, const fleet_rec_server *s,
                            rpc_status *st)
{
    return rec_write(r, r->servers, s->id, strlen(s->id), s, sizeof(*s), st);
}

int fleet_record_del_server(fleet_record *r, const char *id, rpc_status *st)
{
    return rec_write(r, r->servers, id, strlen(id), NULL, 0, st);
}

int fleet_record_put_session(fleet_record *r, const char *user,
                             const char *server_id, rpc_status *st)
{
    return rec_write(r, r->sessions, user, strlen(user), server_id,
                     strlen(server_id), st);
}

int fleet_record_del_session(fleet_record *r, const char *user, rpc_status *st)
{
    return rec_write(r, r->sessions, user, strlen(user), NULL, 0, st);
}

static int load_servers(fleet_record *r, MDB_txn *txn, fleet_rec_server_fn fn,
                        void *arg, rpc_status *st)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, r->servers, &cur);

    if (rc != 0)
        return lmdb_fail(st, rc, "cursor");
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        fleet_rec_server s;

        if (v.mv_size != sizeof(s)) {
            mdb_cursor_close(cur);
            return fleet_status(st, RPC_INTERNAL,
                                "fleet record: server row of %zu bytes, "
                                "expected %zu (corrupt or foreign record)",
                                v.mv_size, sizeof(s));
        }
        memcpy(&s, v.mv_data, sizeof(s));
        s.id[FLEET_ID_MAX - 1] = s.endpoint[FLEET_ENDPOINT_MAX - 1] = 0;
        s.instance_id[FLEET_INSTANCE_MAX - 1] = 0;
        fn(arg, &s);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? RPC_OK : lmdb_fail(st, rc, "reading servers");
}

static int load_sessions(fleet_record *r, MDB_txn *txn, fleet_rec_session_fn fn,
                         void *arg, rpc_status *st)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, r->sessions, &cur);

    if (rc != 0)
        return lmdb_fail(st, rc, "cursor");
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        char sid[FLEET_ID_MAX];

        if (v.mv_size == 0 || v.mv_size >= sizeof(sid) || k.mv_size == 0 ||
            k.mv_size > FLEET_USER_MAX) {
            sb_warn("fleet", "fleet record: skipping a malformed session row");
            continue;
        }
        memcpy(sid, v.mv_data, v.mv_size);
        sid[v.mv_size] = 0;
        fn(arg, k.mv_data, k.mv_size, sid);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? RPC_OK : lmdb_fail(st, rc, "reading sessions");
}

int fleet_record_load(fleet_record *r, fleet_rec_server_fn server_fn,
                      fleet_rec_session_fn session_fn, void *arg,
                      rpc_status *st)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn);

    if (rc != 0)
        return lmdb_fail(st, rc, "begin read");
    rc = load_servers(r, txn, server_fn, arg, st);
    if (rc == RPC_OK)
        rc = load_sessions(r, txn, session_fn, arg, st);
    mdb_txn_abort(txn);
    return rc;
}

static int read_seq(fleet_record *r, uint64_t *seq, rpc_status *st)
{
    MDB_txn *txn;
    MDB_val k = {3, "seq"}, v;
    int rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn);

    if (rc != 0)
        return lmdb_fail(st, rc, "begin read");
    *seq = 1;
    rc = mdb_get(txn, r->meta, &k, &v);
    if (rc == 0 && v.mv_size == sizeof(*seq))
        memcpy(seq, v.mv_data, sizeof(*seq));
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND ? RPC_OK
                                         : lmdb_fail(st, rc, "reading seq");
}

int fleet_record_next_seq(fleet_record *r, uint64_t *seq, rpc_status *st)
{
    uint64_t next;
    int rc = read_seq(r, seq, st);

    if (rc != RPC_OK)
        return rc;
    next = *seq + 1;
    return rec_write(r, r->meta, "seq", 3, &next, sizeof(next), st);
}

int fleet_record_bump_seq(fleet_record *r, uint64_t min, rpc_status *st)
{
    uint64_t cur;
    int rc = read_seq(r, &cur, st);

    if (rc != RPC_OK || cur >= min)
        return rc;
    return rec_write(r, r->meta, "seq", 3, &min, sizeof(min), st);
}
