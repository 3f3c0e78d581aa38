/* store_conn.c: store_conn's lifecycle and writes. Local writes go to the
 * group-commit writer as they are; remote writes become one
 * sb.store.Store/Write call whose request id is the op's reqid (so retries
 * apply once) and whose reply fills op->out before op->done runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store.sb.h"
#include "store_conn_internal.h"

#define STORE_CONN_TIMEOUT_MS 5000
#define STORE_CONN_RECV_MAX (256u * 1024 * 1024) /* receive-post is unbounded */

int store_conn_local(store_db *db, store_writer *w, store_conn **out)
{
	store_conn *c = calloc(1, sizeof *c);

	*out = NULL;
	if (c == NULL)
		return ENOMEM;
	c->db = db;
	c->w = w;
	*out = c;
	return 0;
}

int store_conn_remote(const char *url, int timeout_ms, store_conn **out)
{
	rpc_client_config cc = {.recv_max = STORE_CONN_RECV_MAX};
	store_conn *c;
	int rv;

	*out = NULL;
	if (url == NULL || url[0] == '\0')
		return EINVAL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return ENOMEM;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : STORE_CONN_TIMEOUT_MS;
	cc.timeout_ms = c->timeout_ms;
	if ((rv = rpc_client_open(&c->rc, url, &cc)) != 0) {
		sb_error("store", "cannot open a client for %s: %s", url,
		         rpc_code_name(rv));
		free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void store_conn_close(store_conn *c)
{
	if (c == NULL)
		return;
	if (c->rc != NULL)
		rpc_client_close(c->rc);
	free(c);
}

int store_conn_is_remote(const store_conn *c)
{
	return c->rc != NULL;
}

store_res store_conn_res(const rpc_status *st, uint32_t res)
{
	switch (st->code) {
	case RPC_OK:
		return res < STORE_RES_COUNT ? (store_res)res : STORE_ERR_INTERNAL;
	case RPC_INVALID_ARGUMENT:
		return STORE_INVALID_ARGUMENT;
	case RPC_UNAVAILABLE:
	case RPC_DEADLINE_EXCEEDED:
	case RPC_CANCELLED:
		sb_warn("store", "store unreachable: %s %s", rpc_code_name(st->code),
		        st->message);
		return STORE_ERR_UNAVAILABLE;
	default:
		sb_warn("store", "store call failed: %s %s", rpc_code_name(st->code),
		        st->message);
		return STORE_ERR_INTERNAL;
	}
}

int store_conn_dup(store_str s, char **out)
{
	*out = NULL;
	if (s.len > 0 && memchr(s.ptr, '\0', s.len) != NULL)
		return -1;
	if ((*out = malloc(s.len + 1)) == NULL)
		return -2;
	if (s.len > 0)
		memcpy(*out, s.ptr, s.len);
	(*out)[s.len] = '\0';
	return 0;
}

/* ---- remote writes ------------------------------------------------------ */

#define N_WSTR 7

/* The wire form of @op. Strings are copied (store_str need not end in a
 * NUL) into strs[], freed by the caller. Returns STORE_OK,
 * STORE_INVALID_ARGUMENT (a NUL byte) or STORE_ERR_INTERNAL (ENOMEM). */
static store_res build_write(const store_wop *op, Sb__Store__WriteOp *m,
                             char *strs[N_WSTR])
{
	const store_str in[N_WSTR] = {op->token, op->name, op->text, op->server,
	                              op->first, op->last, op->gender};
	char **dst[N_WSTR] = {&m->token, &m->name, &m->text, &m->server,
	                      &m->first, &m->last, &m->gender};

	sb__store__write_op__init(m);
	m->kind = (Sb__Store__WriteKind)op->kind;
	m->age = op->age;
	m->seq = op->seq;
	for (int i = 0; i < N_WSTR; i++) {
		int rv = store_conn_dup(in[i], &strs[i]);
		if (rv != 0)
			return rv == -1 ? STORE_INVALID_ARGUMENT : STORE_ERR_INTERNAL;
		*dst[i] = strs[i];
	}
	return STORE_OK;
}

static void free_strs(char *strs[N_WSTR])
{
	for (int i = 0; i < N_WSTR; i++)
		free(strs[i]);
}

static void fill_out(store_wop *op, const rpc_status *st,
                     const Sb__Store__WriteResult *r)
{
	memset(&op->out, 0, sizeof op->out);
	op->out.res = store_conn_res(st, r != NULL ? r->res : 0);
	if (st->code != RPC_OK || r == NULL)
		return;
	op->out.seq = r->seq;
	op->out.count = r->count;
	if (r->token != NULL && strlen(r->token) <= STORE_TOKEN_MAX)
		memcpy(op->out.token, r->token, strlen(r->token) + 1);
}

static void remote_done(void *arg, const rpc_status *st,
                        Sb__Store__WriteResult *reply)
{
	store_wop *op = arg;

	fill_out(op, st, reply);
	sb_store_Store_free(reply);
	op->done(op, op->arg);
}

/* A zero reqid gets a random one, so the runtime's own retries dedupe. */
static void call_opts(store_conn *c, store_wop *op, rpc_opts *o)
{
	static const uint8_t zero[STORE_REQID_LEN];

	if (memcmp(op->reqid, zero, sizeof zero) == 0)
		rpc_random_bytes(op->reqid, sizeof op->reqid);
	memset(o, 0, sizeof *o);
	o->timeout_ms = c->timeout_ms;
	o->request_id = op->reqid;
}

int store_conn_write(store_conn *c, store_wop *op)
{
	Sb__Store__WriteOp m;
	char *strs[N_WSTR] = {0};
	rpc_opts o;
	store_res r;
	int rv;

	if (op == NULL || op->done == NULL)
		return STORE_INVALID_ARGUMENT;
	if (c->rc == NULL)
		return store_writer_submit(c->w, op);
	if ((r = build_write(op, &m, strs)) != STORE_OK) {
		free_strs(strs);
		memset(&op->out, 0, sizeof op->out);
		op->out.res = r;
		op->done(op, op->arg);
		return 0;
	}
	call_opts(c, op, &o);
	rv = sb_store_Store_Write_async(c->rc, &m, remote_done, op, &o);
	free_strs(strs); /* the call packed its own copy */
	return rv == 0 ? 0 : STORE_ERR_UNAVAILABLE;
}

store_res store_conn_write_wait(store_conn *c, store_wop *op)
{
	Sb__Store__WriteOp m;
	Sb__Store__WriteResult *reply = NULL;
	char *strs[N_WSTR] = {0};
	rpc_status st;
	rpc_opts o;
	store_res r;

	if (op == NULL)
		return STORE_INVALID_ARGUMENT;
	if (c->rc == NULL)
		return store_writer_submit_wait(c->w, op);
	memset(&op->out, 0, sizeof op->out);
	if ((r = build_write(op, &m, strs)) != STORE_OK) {
		free_strs(strs);
		return op->out.res = r;
	}
	call_opts(c, op, &o);
	sb_store_Store_Write(c->rc, &m, &reply, &o, &st);
	free_strs(strs);
	fill_out(op, &st, reply);
	sb_store_Store_free(reply);
	return op->out.res;
}
