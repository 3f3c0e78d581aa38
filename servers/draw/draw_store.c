/* draw_store.c: one LMDB record "pool" (format, size, gen, mark, seed,
 * little-endian) plus the shuffle's name under "shuffle". The environment
 * uses LMDB's default durable flags (no NOSYNC/NOMETASYNC/MAPASYNC): the
 * pool's no-duplicate guarantee rests on a commit being on disk when
 * mdb_txn_commit returns. */
#include "draw_store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRAW_STORE_FORMAT 1u
#define DRAW_RECORD_BYTES (4 * 4 + DRAW_SEED_BYTES)

struct draw_store {
    MDB_env *env;
    MDB_dbi dbi;
    int lock_fd;
};

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int draw_store_lock(const char *dir, int *fd_out)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/draw.lock", dir) >= (int)sizeof path)
        return ENAMETOOLONG;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int rc = errno == EWOULDBLOCK ? EBUSY : errno;
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

int draw_store_open(draw_store **out, const char *dir)
{
    int rc;
    MDB_txn *txn = NULL;
    draw_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return ENOMEM;
    st->lock_fd = -1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = errno;
        goto fail;
    }
    if ((rc = draw_store_lock(dir, &st->lock_fd)) != 0)
        goto fail;
    if ((rc = mdb_env_create(&st->env)) != 0)
        goto fail;
    /* The record is tiny; 1 MiB leaves room for LMDB's copy-on-write pages. */
    if ((rc = mdb_env_set_mapsize(st->env, 1u << 20)) != 0)
        goto fail;
    if ((rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) != 0)
        goto fail;
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
        goto fail;
    if ((rc = mdb_dbi_open(txn, NULL, 0, &st->dbi)) != 0)
        goto fail;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0)
        goto fail;
    *out = st;
    return 0;
fail:
    if (txn != NULL)
        mdb_txn_abort(txn);
    draw_store_close(st);
    return rc;
}

static int draw_store_decode(const MDB_val *rec, const MDB_val *shuf,
                             draw_state *out)
{
    if (shuf->mv_size != strlen(DRAW_PERM_SHUFFLE) ||
        memcmp(shuf->mv_data, DRAW_PERM_SHUFFLE, shuf->mv_size) != 0)
        return EPROTO;
    if (rec->mv_size != DRAW_RECORD_BYTES)
        return EBADMSG;
    const uint8_t *p = rec->mv_data;
    if (get_u32(p) != DRAW_STORE_FORMAT)
        return EPROTO;
    out->size = get_u32(p + 4);
    out->gen = get_u32(p + 8);
    out->mark = get_u32(p + 12);
    memcpy(out->seed, p + 16, DRAW_SEED_BYTES);
    if (out->size == 0 || out->mark > out->size || out->gen == 0)
        return EBADMSG;
    return 0;
}

int draw_store_load(draw_store *st, draw_state *out)
{
    MDB_txn *txn;
    MDB_val k_rec = {4, "pool"}, k_shuf = {7, "shuffle"}, rec, shuf;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    rc = mdb_get(txn, st->dbi, &k_rec, &rec);
    if (rc == 0)
        rc = mdb_get(txn, st->dbi, &k_shuf, &shuf);
    if (rc == 0)
        rc = draw_store_decode(&rec, &shuf, out);
    mdb_txn_abort(txn);
    return rc;
}

int draw_store_save(draw_store *st, const draw_state *s)
{
    uint8_t buf[DRAW_RECORD_BYTES];
    put_u32(buf, DRAW_STORE_FORMAT);
    put_u32(buf + 4, s->size);
    put_u32(buf + 8, s->gen);
    put_u32(buf + 12, s->mark);
    memcpy(buf + 16, s->seed, DRAW_SEED_BYTES);
    MDB_val k_rec = {4, "pool"}, v_rec = {sizeof buf, buf};
    MDB_val k_shuf = {7, "shuffle"};
    MDB_val v_shuf = {strlen(DRAW_PERM_SHUFFLE), (void *)DRAW_PERM_SHUFFLE};
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != 0)
        return rc;
    if ((rc = mdb_put(txn, st->dbi, &k_rec, &v_rec, 0)) != 0 ||
        (rc = mdb_put(txn, st->dbi, &k_shuf, &v_shuf, 0)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn); /* fsyncs before returning */
}

void draw_store_close(draw_store *st)
{
    if (st == NULL)
        return;
    if (st->env != NULL)
        mdb_env_close(st->env);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    free(st);
}
