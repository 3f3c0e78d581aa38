/* store_codec.c: how the store lays bytes out in LMDB. Keys are built so an
 * ordered cursor scan gives creation order (name \0 big-endian seq), values
 * are a flat list of u64 and length-prefixed strings, and every input is
 * validated here before it can reach a key. */
#include <string.h>
#include <time.h>

#include "store_internal.h"

store_str store_s(const char *cstr)
{
    store_str s = {cstr ? cstr : "", cstr ? strlen(cstr) : 0};
    return s;
}

static const char *const res_names[STORE_RES_COUNT] = {
    "OK",
    "NOT_LOGGED_IN",
    "ALREADY_USED",
    "NO_SUCH_USER",
    "SELF",
    "ALREADY_FRIEND",
    "ALREADY_INVITED",
    "INVITED_YOU",
    "NOT_INVITED",
    "NOT_FRIEND",
    "NOT_ONLINE",
    "ALREADY_EXISTS",
    "NO_SUCH_GROUP",
    "ALREADY_MEMBER",
    "NOT_MEMBER",
    "INVALID_ARGUMENT",
    "ERR_INTERNAL",
    "ERR_SHUTDOWN",
    "ERR_UNAVAILABLE",
    "NOT_CREATOR",
    "IN_LOBBY",
    "LOBBY",
    "BAD_AGE",
    "BAD_PROFILE",
    "NO_SUCH_LABEL",
    "NO_LABELS",
    "LABEL_BUSY",
    "LABEL_RESERVED",
    "LABEL_NEW",
    "LABEL_UNCHECKED",
    "LABEL_DRAFTED",
    "LABEL_MALFORMED",
    "LABEL_EMPTY",
    "LABEL_TOO_LONG",
    "LABEL_QUOTE",
    "LABEL_NOT_PRINTABLE",
    "TEXT_TOO_LONG",
    "TEXT_NOT_PRINTABLE",
    "LABEL_DELIMITER",
    "LABEL_HOLD_MAX",
    "ROUND_NO_GRANT",
};

const char *store_res_name(store_res r)
{
    if ((unsigned)r >= STORE_RES_COUNT)
        return "UNKNOWN";
    return res_names[r];
}

int store_res_commits(store_res r)
{
    return r == STORE_OK || r == STORE_LABEL_RESERVED || r == STORE_LABEL_NEW ||
           r == STORE_LABEL_DRAFTED;
}

void store_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

uint64_t store_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Callers validated lengths, so the copies below always fit the buffer. */
void store_key_name(store_key *k, store_str name)
{
    memcpy(k->b, name.ptr, name.len);
    k->len = name.len;
}

void store_key_prefix(store_key *k, store_str name)
{
    store_key_name(k, name);
    k->b[k->len++] = 0;
}

void store_key_name_seq(store_key *k, store_str name, uint64_t seq)
{
    store_key_prefix(k, name);
    store_put_u64(k->b + k->len, seq);
    k->len += 8;
}

void store_key_pair(store_key *k, store_str a, store_str b)
{
    store_key_prefix(k, a);
    memcpy(k->b + k->len, b.ptr, b.len);
    k->len += b.len;
}

uint64_t store_key_seq(const MDB_val *k)
{
    if (k->mv_size < 8)
        return 0;
    return store_get_u64((const unsigned char *)k->mv_data + k->mv_size - 8);
}

void store_enc_u64(store_enc *e, uint64_t v)
{
    if (e->len + 8 > sizeof e->b)
        return;
    store_put_u64(e->b + e->len, v);
    e->len += 8;
}

void store_enc_str(store_enc *e, store_str s)
{
    if (s.len > 0xffff || e->len + 2 + s.len > sizeof e->b)
        return; /* unreachable after validation */
    e->b[e->len++] = (unsigned char)(s.len >> 8);
    e->b[e->len++] = (unsigned char)(s.len & 0xff);
    if (s.len)
        memcpy(e->b + e->len, s.ptr, s.len);
    e->len += s.len;
}

void store_dec_init(store_dec *d, const MDB_val *v)
{
    d->p = v->mv_data;
    d->left = v->mv_size;
    d->bad = 0;
}

uint64_t store_dec_u64(store_dec *d)
{
    if (d->left < 8) {
        d->bad = 1;
        return 0;
    }
    uint64_t v = store_get_u64(d->p);
    d->p += 8;
    d->left -= 8;
    return v;
}

store_str store_dec_str(store_dec *d, char *dst, size_t cap)
{
    store_str s = {"", 0};
    if (d->left < 2) {
        d->bad = 1;
        goto out;
    }
    size_t n = ((size_t)d->p[0] << 8) | d->p[1];
    if (d->left - 2 < n) {
        d->bad = 1;
        goto out;
    }
    s.ptr = (const char *)d->p + 2;
    s.len = n;
    d->p += 2 + n;
    d->left -= 2 + n;
out:
    if (dst && cap) {
        size_t c = s.len < cap - 1 ? s.len : cap - 1;
        memcpy(dst, s.ptr, c);
        dst[c] = 0;
    }
    return s;
}

MDB_val store_val(const void *p, size_t len)
{
    MDB_val v = {len, (void *)p};
    return v;
}

store_str store_vstr(const MDB_val *v)
{
    store_str s = {v->mv_data, v->mv_size};
    return s;
}

int store_valid_text(store_str s, size_t max, int allow_empty)
{
    if (s.len == 0)
        return allow_empty;
    if (!s.ptr || s.len > max)
        return 0;
    return memchr(s.ptr, 0, s.len) == NULL;
}

int store_valid_token(store_str s)
{
    return store_valid_text(s, STORE_TOKEN_MAX, 0);
}

/* Names end up as words of a course command line, so whitespace would make
 * them unreachable; any other byte (non-UTF-8 included) is kept as given. */
int store_valid_name(store_str s)
{
    if (!store_valid_text(s, STORE_NAME_MAX, 0))
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == ' ' || (c >= '\t' && c <= '\r'))
            return 0;
    }
    return 1;
}

uint64_t store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
