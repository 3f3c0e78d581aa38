/* rpc_util.c: status codes and messages, clocks, randomness, the per-call
 * arena and TLS set-up shared by the client, server and bus. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>

#include "rpc_internal.h"

static const char *const code_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *rpc_code_name(int code)
{
    if (code < 0 || code >= (int)(sizeof code_names / sizeof *code_names))
        return "UNKNOWN_CODE";
    return code_names[code];
}

int rpc_status_set(rpc_status *st, int code, const char *fmt, ...)
{
    if (st == NULL)
        return code;
    st->code = code;
    if (fmt == NULL) {
        st->message[0] = '\0';
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
    return code;
}

void rpc_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* no entropy source: nothing safe to do */
        }
        p += r;
        n -= (size_t)r;
    }
}

int rpc_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof buf)
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p != '\0'; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return errno;
            *p = '/';
        }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return errno;
    return 0;
}

void rpc_request_id_stamp(uint8_t *id)
{
    uint64_t ms = (uint64_t)rpc_now_wall_ms();
    for (int i = 5; i >= 0; i--, ms >>= 8)
        id[i] = (uint8_t)ms;
}

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rpc_now_mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

int64_t rpc_now_mono_ms(void)
{
    return clock_us(CLOCK_MONOTONIC) / 1000;
}

int64_t rpc_now_wall_ms(void)
{
    return clock_us(CLOCK_REALTIME) / 1000;
}

/* ---- arena ---- */

struct rpc_arena_block {
    rpc_arena_block *next;
    size_t cap;
    max_align_t data[];
};

#define ARENA_BLOCK 4096

void *rpc_arena_alloc(rpc_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (a->head == NULL || a->used + size > a->cap) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        rpc_arena_block *b = malloc(sizeof *b + cap);
        if (b == NULL)
            abort(); /* see rpc_call_alloc's contract */
        b->next = a->head;
        b->cap = cap;
        a->head = b;
        a->used = 0;
        a->cap = cap;
    }
    void *p = (char *)a->head->data + a->used;
    a->used += size;
    memset(p, 0, size);
    return p;
}

void rpc_arena_free(rpc_arena *a)
{
    rpc_arena_block *b = a->head;
    while (b != NULL) {
        rpc_arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used = a->cap = 0;
}

void rpc_arena_reset(rpc_arena *a)
{
    rpc_arena_block *keep = NULL, *b = a->head;
    while (b != NULL) {
        rpc_arena_block *n = b->next;
        if (keep == NULL && b->cap == ARENA_BLOCK)
            keep = b;
        else
            free(b);
        b = n;
    }
    if (keep != NULL)
        keep->next = NULL;
    a->head = keep;
    a->used = 0;
    a->cap = keep != NULL ? keep->cap : 0;
}

static void *arena_pb_alloc(void *data, size_t size)
{
    return rpc_arena_alloc(data, size);
}

static void arena_pb_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

void rpc_arena_allocator(rpc_arena *a, ProtobufCAllocator *out)
{
    out->alloc = arena_pb_alloc;
    out->free = arena_pb_free;
    out->allocator_data = a;
}

/* ---- nng helpers ---- */

int rpc_set_recv_max(nng_socket s, size_t max)
{
    return nng_socket_set_size(s, NNG_OPT_RECVMAXSZ,
                               max ? max : RPC_DEFAULT_RECV_MAX);
}

/* The host part of "tls+tcp://host:port", for server-name checks. */
static void url_host(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t i = 0;
    if (*p == '[') { /* IPv6 literal */
        p++;
        while (*p && *p != ']' && i + 1 < n)
            out[i++] = *p++;
    } else {
        while (*p && *p != ':' && *p != '/' && i + 1 < n)
            out[i++] = *p++;
    }
    out[i] = '\0';
}

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
        n < 1024 * 1024 && fseek(fp, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(fp);
    return buf;
}

/* Certificate and key from two PEM files (nng's own file call wants
 * both in one file). */
static int own_cert(nng_tls_config *cfg, const char *cert_file,
                    const char *key_file)
{
    char *cert = read_text(cert_file), *key = read_text(key_file);
    int rv = (cert && key) ? nng_tls_config_own_cert(cfg, cert, key, NULL)
                           : NNG_ENOENT;
    free(cert);
    if (key != NULL)
        memset(key, 0, strlen(key));
    free(key);
    return rv;
}

int rpc_tls_config(const char *url, const rpc_tls *t, int server,
                   nng_tls_config **out)
{
    *out = NULL;
    if (strncmp(url, "tls+", 4) != 0)
        return 0;
    nng_tls_config *cfg;
    int rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER
                                               : NNG_TLS_MODE_CLIENT);
    if (rv != 0)
        return rv;
    if (server && (t == NULL || t->cert_file == NULL || t->key_file == NULL)) {
        rv = NNG_EINVAL; /* a TLS listener needs a certificate */
        goto fail;
    }
    if (t != NULL && t->cert_file != NULL && t->key_file != NULL &&
        (rv = own_cert(cfg, t->cert_file, t->key_file)) != 0)
        goto fail;
    if (t != NULL && t->ca_file != NULL) {
        if ((rv = nng_tls_config_ca_file(cfg, t->ca_file)) != 0 ||
            (rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) !=
                0)
            goto fail;
    } else if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE)) !=
               0) {
        goto fail;
    }
    if (!server) {
        char host[256];
        if (t != NULL && t->server_name != NULL)
            snprintf(host, sizeof host, "%s", t->server_name);
        else
            url_host(url, host, sizeof host);
        if ((rv = nng_tls_config_server_name(cfg, host)) != 0)
            goto fail;
    }
    *out = cfg;
    return 0;
fail:
    nng_tls_config_free(cfg);
    return rv;
}
