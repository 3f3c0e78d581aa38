/* rpc_wire.c: the Call and Reply envelopes (proto/rpc.proto) read and
 * written by hand. Every call crosses them four times (Call written and
 * read, Reply written and read); protobuf-c's descriptor-driven
 * pack/unpack, with an allocation per field, cost ~2,500 instructions
 * per call there. Here a frame is read in place (fields point into it)
 * and written straight into the nng message. The bytes on the wire are
 * rpc.proto's; a frame is refused exactly where protobuf-c 1.4's unpack
 * refuses it (test_rpc_wire checks both against protobuf-c, on valid and
 * on malformed frames). Method bodies stay with protobuf-c. */
#include <limits.h>
#include <string.h>

#include "rpc_internal.h"

enum { K_SKIP, K_VARINT, K_LEN }; /* what a field number holds */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
#define N_FIELDS 7 /* field numbers 1..6 */

static const uint8_t call_kinds[N_FIELDS] = {K_SKIP, K_LEN, K_LEN, K_VARINT,
                                             K_LEN,  K_LEN, K_LEN};
static const uint8_t reply_kinds[N_FIELDS] = {K_SKIP, K_VARINT, K_LEN, K_LEN,
                                              K_LEN,  K_LEN,    K_SKIP};

/* A field key as protobuf-c reads it: at most 5 bytes, and the first one
 * must carry field-number bits. NULL when malformed. */
static const uint8_t *read_key(const uint8_t *p, const uint8_t *end,
                               uint32_t *field, int *wt)
{
    size_t left = (size_t)(end - p), max = left < 5 ? left : 5;
    if ((p[0] & 0xf8) == 0)
        return NULL;
    *wt = p[0] & 7;
    uint32_t f = (uint32_t)(p[0] & 0x7f) >> 3;
    unsigned shift = 4;
    if ((p[0] & 0x80) == 0) {
        *field = f;
        return p + 1;
    }
    for (size_t i = 1; i < max; i++) {
        f |= (uint32_t)(p[i] & 0x7f) << shift;
        shift += 7;
        if ((p[i] & 0x80) == 0) {
            *field = f;
            return p + i + 1;
        }
    }
    return NULL;
}

/* A varint of at most max bytes at p; its length, 0 if unterminated. */
static size_t read_varint(const uint8_t *p, size_t max, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < max; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if ((p[i] & 0x80) == 0) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* Walks a frame: fields 1..6 of the kinds given land in vals/bytes (the
 * last occurrence wins), any other field is skipped. 0, or -1 when the
 * frame is malformed or a known field has the wrong wire type. */
static int wire_read(const uint8_t *p, size_t len, const uint8_t *kinds,
                     uint64_t *vals, ProtobufCBinaryData *bytes)
{
    const uint8_t *end = p + len;
    while (p < end) {
        uint32_t f;
        int wt;
        uint64_t v;
        if ((p = read_key(p, end, &f, &wt)) == NULL)
            return -1;
        size_t left = (size_t)(end - p), n;
        int kind = f < N_FIELDS ? kinds[f] : K_SKIP;
        if (wt == WT_VARINT) {
            if ((n = read_varint(p, left < 10 ? left : 10, &v)) == 0 ||
                kind == K_LEN)
                return -1;
            if (kind == K_VARINT)
                vals[f] = v;
            p += n;
        } else if (wt == WT_LEN) {
            if ((n = read_varint(p, left < 5 ? left : 5, &v)) == 0 ||
                v > INT_MAX || v > left - n || kind == K_VARINT)
                return -1;
            if (kind == K_LEN) {
                bytes[f].data = (uint8_t *)(p + n);
                bytes[f].len = (size_t)v;
            }
            p += n + (size_t)v;
        } else if (wt == WT_I64 || wt == WT_I32) {
            n = wt == WT_I64 ? 8 : 4;
            if (left < n || kind != K_SKIP)
                return -1;
            p += n;
        } else {
            return -1; /* groups and wire types 6, 7 */
        }
    }
    return 0;
}

int rpc_wire_call_read(const uint8_t *buf, size_t len, rpc_wire_call *out)
{
    uint64_t vals[N_FIELDS] = {0};
    ProtobufCBinaryData b[N_FIELDS] = {{0, NULL}};
    if (wire_read(buf, len, call_kinds, vals, b) != 0)
        return -1;
    out->method = b[1];
    out->request_id = b[2];
    out->timeout_ms = (uint32_t)vals[3];
    out->token = b[4];
    out->body = b[5];
    out->credential = b[6];
    return 0;
}

int rpc_wire_reply_read(const uint8_t *buf, size_t len, rpc_wire_reply *out)
{
    uint64_t vals[N_FIELDS] = {0};
    ProtobufCBinaryData b[N_FIELDS] = {{0, NULL}};
    if (wire_read(buf, len, reply_kinds, vals, b) != 0)
        return -1;
    out->code = (int32_t)(uint32_t)vals[1];
    out->message = b[2];
    out->body = b[3];
    out->redirect = b[4];
    out->request_id = b[5];
    return 0;
}

/* ---- writing ---- */

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    for (; v >= 0x80; v >>= 7)
        n++;
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        *p++ = (uint8_t)(v | 0x80);
    *p++ = (uint8_t)v;
    return p;
}

/* proto3: a zero or empty field is not written at all. */
static size_t len_size(size_t n)
{
    return n ? 1 + varint_size(n) + n : 0;
}

static size_t varint_field_size(uint64_t v)
{
    return v ? 1 + varint_size(v) : 0;
}

/* The key and length of a length-delimited field; where its bytes go. */
static uint8_t *put_len_head(uint8_t *p, unsigned field, size_t n)
{
    *p++ = (uint8_t)(field << 3 | WT_LEN);
    return put_varint(p, n);
}

static uint8_t *put_len(uint8_t *p, unsigned field, ProtobufCBinaryData b)
{
    if (b.len == 0)
        return p;
    p = put_len_head(p, field, b.len);
    memcpy(p, b.data, b.len);
    return p + b.len;
}

static uint8_t *put_varint_field(uint8_t *p, unsigned field, uint64_t v)
{
    if (v == 0)
        return p;
    *p++ = (uint8_t)(field << 3 | WT_VARINT);
    return put_varint(p, v);
}

size_t rpc_wire_call_size(const rpc_wire_call *c)
{
    return len_size(c->method.len) + len_size(c->request_id.len) +
           varint_field_size(c->timeout_ms) + len_size(c->token.len) +
           len_size(c->body.len) + len_size(c->credential.len);
}

void rpc_wire_call_write(const rpc_wire_call *c, uint8_t *out)
{
    out = put_len(out, 1, c->method);
    out = put_len(out, 2, c->request_id);
    out = put_varint_field(out, 3, c->timeout_ms);
    out = put_len(out, 4, c->token);
    out = put_len(out, 5, c->body);
    put_len(out, 6, c->credential);
}

/* An enum is an int32: negative values go as 10-byte varints. */
static uint64_t enum_wire(int32_t v)
{
    return (uint64_t)(int64_t)v;
}

size_t rpc_wire_reply_size(const rpc_wire_reply *r)
{
    return varint_field_size(enum_wire(r->code)) + len_size(r->message.len) +
           len_size(r->body.len) + len_size(r->redirect.len) +
           len_size(r->request_id.len);
}

void rpc_wire_reply_write(const rpc_wire_reply *r, const ProtobufCMessage *body,
                          uint8_t *out)
{
    out = put_varint_field(out, 1, enum_wire(r->code));
    out = put_len(out, 2, r->message);
    if (body != NULL && r->body.len > 0) { /* packed in place, no copy */
        out = put_len_head(out, 3, r->body.len);
        out += protobuf_c_message_pack(body, out);
    } else {
        out = put_len(out, 3, r->body);
    }
    out = put_len(out, 4, r->redirect);
    put_len(out, 5, r->request_id);
}

int rpc_msg_size(nng_msg **msg, size_t len)
{
    int rv;
    if (*msg == NULL)
        return nng_msg_alloc(msg, len);
    nng_msg_clear(*msg);
    if ((rv = nng_msg_realloc(*msg, len)) != 0) {
        nng_msg_free(*msg);
        *msg = NULL;
    }
    return rv;
}
