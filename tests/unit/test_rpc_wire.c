/* test_rpc_wire.c: the hand-written envelope codec (rpc/rpc_wire.c)
 * against protobuf-c itself: the frames it writes are byte for byte what
 * protobuf-c packs, it reads what protobuf-c packs, and on random and
 * mutated frames it refuses exactly what protobuf-c's unpack refuses and
 * reads the same fields from the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo.pb-c.h"
#include "rpc_internal.h"

static uint64_t rng = 0x9e3779b97f4a7c15u; /* fixed seed: reproducible */

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* A field of length 0, small, or past one varint byte (> 127). */
static size_t rnd_len(void)
{
    static const size_t lens[] = {0, 1, 5, 16, 127, 128, 300, 20000};
    return lens[rnd() % (sizeof lens / sizeof *lens)];
}

static void rnd_fill(uint8_t *p, size_t n, int text)
{
    for (size_t i = 0; i < n; i++)
        p[i] = text ? (uint8_t)('a' + rnd() % 26) : (uint8_t)rnd();
}

static uint32_t rnd_u32(void)
{
    static const uint32_t v[] = {0, 1, 127, 128, 5000, 16384, UINT32_MAX};
    return v[rnd() % (sizeof v / sizeof *v)];
}

/* A protobuf-c string against a field read in place: the same bytes up
 * to the first NUL (protobuf-c's strings are C strings). */
static void assert_str_field(const char *s, ProtobufCBinaryData b)
{
    size_t n = b.len;
    const uint8_t *nul = n ? memchr(b.data, 0, n) : NULL;
    if (nul != NULL)
        n = (size_t)(nul - b.data);
    assert_int_equal(strlen(s), n);
    if (n)
        assert_memory_equal(s, b.data, n);
}

static void assert_bytes_field(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.data, b.data, a.len);
}

static void check_call(const uint8_t *f, size_t n)
{
    rpc_wire_call w;
    Sb__Rpc__Call *pc = sb__rpc__call__unpack(NULL, n, f);
    int rv = rpc_wire_call_read(f, n, &w);
    assert_int_equal(rv == 0, pc != NULL);
    if (pc == NULL)
        return;
    assert_str_field(pc->method, w.method);
    assert_bytes_field(pc->request_id, w.request_id);
    assert_int_equal(pc->timeout_ms, w.timeout_ms);
    assert_str_field(pc->token, w.token);
    assert_bytes_field(pc->body, w.body);
    assert_bytes_field(pc->credential, w.credential);
    sb__rpc__call__free_unpacked(pc, NULL);
}

static void check_reply(const uint8_t *f, size_t n)
{
    rpc_wire_reply w;
    Sb__Rpc__Reply *pc = sb__rpc__reply__unpack(NULL, n, f);
    int rv = rpc_wire_reply_read(f, n, &w);
    assert_int_equal(rv == 0, pc != NULL);
    if (pc == NULL)
        return;
    assert_int_equal((int32_t)pc->code, w.code);
    assert_str_field(pc->message, w.message);
    assert_bytes_field(pc->body, w.body);
    assert_str_field(pc->redirect, w.redirect);
    assert_bytes_field(pc->request_id, w.request_id);
    sb__rpc__reply__free_unpacked(pc, NULL);
}

static uint8_t bufs[6][20000];

static ProtobufCBinaryData rnd_field(int i, int text)
{
    ProtobufCBinaryData b = {rnd_len(), bufs[i]};
    rnd_fill(bufs[i], b.len, text);
    return b;
}

/* Random Calls written by both codecs: the same bytes, read back alike. */
static void test_call_same_bytes(void **state)
{
    (void)state;
    for (int k = 0; k < 2000; k++) {
        rpc_wire_call w = {.timeout_ms = rnd_u32()};
        w.method = rnd_field(0, 1);
        w.request_id = rnd_field(1, 0);
        w.token = rnd_field(2, 1);
        w.body = rnd_field(3, 0);
        w.credential = rnd_field(5, 0);
        char method[20001], token[20001];
        memcpy(method, w.method.data, w.method.len);
        method[w.method.len] = '\0';
        memcpy(token, w.token.data, w.token.len);
        token[w.token.len] = '\0';
        Sb__Rpc__Call pc = SB__RPC__CALL__INIT;
        pc.method = method;
        pc.request_id = w.request_id;
        pc.timeout_ms = w.timeout_ms;
        pc.token = token;
        pc.body = w.body;
        pc.credential = w.credential;
        size_t n = rpc_wire_call_size(&w);
        assert_int_equal(n, sb__rpc__call__get_packed_size(&pc));
        uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
        assert_non_null(a);
        assert_non_null(b);
        rpc_wire_call_write(&w, a);
        assert_int_equal(sb__rpc__call__pack(&pc, b), n);
        assert_memory_equal(a, b, n);
        check_call(a, n);
        free(a);
        free(b);
    }
}

/* Random Replies, the body packed in place or copied. */
static void test_reply_same_bytes(void **state)
{
    (void)state;
    static const int32_t codes[] = {0, 1, 4, 14, 16, -1, 1000};
    for (int k = 0; k < 2000; k++) {
        rpc_wire_reply w = {.code = codes[rnd() % 7]};
        w.message = rnd_field(0, 1);
        w.redirect = rnd_field(1, 1);
        w.request_id = rnd_field(2, 0);
        Sb__Echo__EchoReply er = SB__ECHO__ECHO_REPLY__INIT;
        er.data = rnd_field(3, 0);
        er.seq = rnd_u32();
        size_t blen = sb__echo__echo_reply__get_packed_size(&er);
        uint8_t *body = malloc(blen + 1);
        assert_non_null(body);
        sb__echo__echo_reply__pack(&er, body);
        char message[20001], redirect[20001];
        memcpy(message, w.message.data, w.message.len);
        message[w.message.len] = '\0';
        memcpy(redirect, w.redirect.data, w.redirect.len);
        redirect[w.redirect.len] = '\0';
        Sb__Rpc__Reply pc = SB__RPC__REPLY__INIT;
        pc.code = (Sb__Rpc__Code)w.code;
        pc.message = message;
        pc.redirect = redirect;
        pc.request_id = w.request_id;
        pc.body.data = body;
        pc.body.len = blen;
        w.body.len = blen;
        size_t n = rpc_wire_reply_size(&w);
        assert_int_equal(n, sb__rpc__reply__get_packed_size(&pc));
        uint8_t *a = malloc(n + 1), *b = malloc(n + 1), *c = malloc(n + 1);
        assert_true(a && b && c);
        rpc_wire_reply_write(&w, &er.base, a); /* in place */
        w.body.data = body;
        rpc_wire_reply_write(&w, NULL, c); /* copied */
        assert_int_equal(sb__rpc__reply__pack(&pc, b), n);
        assert_memory_equal(a, b, n);
        assert_memory_equal(c, b, n);
        check_reply(a, n);
        free(a);
        free(b);
        free(c);
        free(body);
    }
}

/* Random bytes, and valid frames mutated (bytes changed, cut short,
 * grown): accepted and refused exactly as protobuf-c does. */
static void test_malformed_like_protobuf_c(void **state)
{
    (void)state;
    uint8_t f[96];
    int accepted = 0, refused = 0;
    for (int k = 0; k < 300000; k++) {
        size_t n = rnd() % sizeof f;
        if (k % 2 == 0) {
            rnd_fill(f, n, 0);
        } else { /* a small valid frame, then damaged */
            rpc_wire_call w = {.timeout_ms = rnd_u32()};
            static const uint8_t m[] = "sb.echo.Echo/Echo", id[16] = {1, 2};
            w.method.data = (uint8_t *)m;
            w.method.len = rnd() % 2 ? sizeof m - 1 : 0;
            w.request_id.data = (uint8_t *)id;
            w.request_id.len = rnd() % 2 ? 16 : 0;
            w.body.data = (uint8_t *)m;
            w.body.len = rnd() % 18;
            size_t len = rpc_wire_call_size(&w);
            rpc_wire_call_write(&w, f);
            for (int j = (int)(rnd() % 3); j >= 0 && len > 0; j--)
                f[rnd() % len] = (uint8_t)rnd();
            n = rnd() % 4 == 0 ? rnd() % (len + 1) : len;
        }
        check_call(f, n);
        check_reply(f, n);
        rpc_wire_call w;
        if (rpc_wire_call_read(f, n, &w) == 0)
            accepted++;
        else
            refused++;
    }
    /* both kinds were really exercised */
    assert_true(accepted > 1000);
    assert_true(refused > 1000);
}

/* Edge cases by hand: empty frame, unterminated varints, a length past
 * the end, wrong wire types, groups, field 0, unknown fields. */
static void test_edges(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[16];
        size_t n;
    } cases[] = {
        {{0}, 0},                         /* empty: all defaults */
        {{0x0a, 0x03, 'a', 'b', 'c'}, 5}, /* method "abc" */
        {{0x0a, 0x05, 'a', 'b'}, 4},      /* length past the end */
        {{0x18, 0xff, 0xff}, 3},          /* unterminated varint */
        {{0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
         11}, /* 10-byte varint */
        {{0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
          0x01},
         12},                                      /* 11 bytes: too long */
        {{0x0b}, 1},                               /* field 1, group */
        {{0x08, 0x01}, 2},                         /* method as a varint */
        {{0x1a, 0x00}, 2},                         /* timeout as bytes */
        {{0x00, 0x01}, 2},                         /* field 0 */
        {{0x80, 0x00, 0x01}, 3},                   /* field 0, long key */
        {{0x7a, 0x02, 1, 2, 0x0a, 0x01, 'x'}, 7},  /* unknown field 15 */
        {{0x79, 1, 2, 3, 4, 5, 6, 7, 8}, 9},       /* unknown fixed64 */
        {{0x79, 1, 2, 3}, 4},                      /* fixed64 cut short */
        {{0x7d, 1, 2, 3, 4}, 5},                   /* unknown fixed32 */
        {{0x7e, 1}, 2},                            /* wire type 6 */
        {{0x0a, 0x01, 'a', 0x0a, 0x01, 'b'}, 6},   /* repeated: last wins */
        {{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, 6}, /* length > INT_MAX */
        {{0x0a, 0x80, 0x80, 0x80, 0x80, 0x80}, 6}, /* 5-byte length, open */
        {{0x0a, 0x02, 'a', 0}, 4},                 /* NUL inside a string */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        check_call(cases[i].b, cases[i].n);
        check_reply(cases[i].b, cases[i].n);
    }
    rpc_wire_call w;
    assert_int_equal(rpc_wire_call_read(cases[16].b, cases[16].n, &w), 0);
    assert_int_equal(w.method.len, 1);
    assert_int_equal(w.method.data[0], 'b');
    assert_int_equal(rpc_wire_call_read(cases[2].b, cases[2].n, &w), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_same_bytes),
        cmocka_unit_test(test_reply_same_bytes),
        cmocka_unit_test(test_malformed_like_protobuf_c),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
