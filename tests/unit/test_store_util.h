/* test_store_util.h: shared scaffolding for the store's tests: a fresh
 * LMDB environment in a mkdtemp directory with a running writer, and one-
 * line helpers that submit a write op and wait for its result. */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_db.h"
#include "store_writer.h"

typedef struct tenv {
    char dir[64];
    store_db *db;
    store_writer *w;
} tenv;

static inline void tenv_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static inline int tenv_open(tenv *t, const store_opts *o)
{
    if (!t->dir[0]) {
        strcpy(t->dir, "/tmp/sb-store-test-XXXXXX");
        if (!mkdtemp(t->dir))
            return -1;
    }
    if (store_db_open(t->dir, o, &t->db))
        return -1;
    return store_writer_start(t->db, 0, &t->w);
}

static inline void tenv_close(tenv *t, int remove)
{
    store_writer_stop(t->w);
    store_db_close(t->db);
    t->w = NULL;
    t->db = NULL;
    if (remove)
        tenv_rmdir(t->dir);
}

static inline store_res wr_full(tenv *t, store_op_kind kind, const char *token,
                                const char *name, const char *text,
                                store_wres *out)
{
    store_wop op = {.kind = kind};
    op.token = store_s(token);
    op.name = store_s(name);
    op.text = store_s(text);
    store_res r = store_writer_submit_wait(t->w, &op);
    if (out)
        *out = op.out;
    return r;
}

static inline store_res wr(tenv *t, store_op_kind kind, const char *token,
                           const char *name, const char *text)
{
    return wr_full(t, kind, token, name, text, NULL);
}

/* Registers @name and logs it in with token "T<name>". */
static inline store_res reg_login(tenv *t, const char *name)
{
    char tok[80];
    snprintf(tok, sizeof tok, "T%s", name);
    store_res r = wr(t, STORE_OP_REGISTER, NULL, name, "hash-of-pw");
    if (r != STORE_OK)
        return r;
    return wr(t, STORE_OP_LOGIN, tok, name, NULL);
}

#endif
