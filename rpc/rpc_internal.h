/* rpc_internal.h: pieces shared by the runtime's client, server and bus
 * (not part of the public API): a bump arena for per-call memory, TLS
 * configuration, and helpers to (un)pack the envelope. */
#ifndef SB_RPC_INTERNAL_H
#define SB_RPC_INTERNAL_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "rpc.h"
#include "rpc.pb-c.h"

/* A bump allocator: blocks chained, freed together. */
typedef struct rpc_arena_block rpc_arena_block;
typedef struct rpc_arena {
    rpc_arena_block *head;
    size_t used, cap;
} rpc_arena;

void *rpc_arena_alloc(rpc_arena *a, size_t size);
void rpc_arena_free(rpc_arena *a);
/* Empties a for reuse: keeps one standard block, frees the rest. */
void rpc_arena_reset(rpc_arena *a);

/* protobuf-c allocator backed by an arena (free is a no-op). */
void rpc_arena_allocator(rpc_arena *a, ProtobufCAllocator *out);

/* Builds a TLS config for a listener (server=1) or dialer of url from t.
 * *out stays NULL for non-TLS URLs. Returns 0 or an nng error. */
int rpc_tls_config(const char *url, const rpc_tls *t, int server,
                   nng_tls_config **out);

/* Sets the largest frame a socket accepts. */
int rpc_set_recv_max(nng_socket s, size_t max);

/* 0 if every string field in the wire body of a d message is UTF-8 with
 * no NUL byte; else -1 and why says which field (rpc_validate.c). */
int rpc_check_strings(const ProtobufCMessageDescriptor *d, const uint8_t *body,
                      size_t len, char *why, size_t n);

/* Makes *msg len bytes long: a fresh message when *msg is NULL, else
 * *msg emptied and resized (on failure it is freed and set to NULL).
 * Returns 0 or an nng error. */
int rpc_msg_size(nng_msg **msg, size_t len);

/* ---- the envelopes, by hand (rpc_wire.c) ----
 * rpc.proto's Call and Reply as views: the bytes fields point into the
 * frame that was read (or at the caller's memory, to write); strings are
 * not NUL-terminated. */
typedef struct rpc_wire_call {
    ProtobufCBinaryData method, request_id, token, body;
    ProtobufCBinaryData credential; /* the caller's role credential */
    uint32_t timeout_ms;
} rpc_wire_call;

typedef struct rpc_wire_reply {
    int32_t code;
    ProtobufCBinaryData message, body, redirect, request_id;
} rpc_wire_reply;

/* Reads a frame in place into *out (fields absent stay zero/empty).
 * Returns 0, or -1 when the frame is malformed or a known field has the
 * wrong wire type (where protobuf-c's unpack would fail too). */
int rpc_wire_call_read(const uint8_t *buf, size_t len, rpc_wire_call *out);
int rpc_wire_reply_read(const uint8_t *buf, size_t len, rpc_wire_reply *out);

/* The frame's size, and the frame written to out (that many bytes). */
size_t rpc_wire_call_size(const rpc_wire_call *c);
void rpc_wire_call_write(const rpc_wire_call *c, uint8_t *out);
/* For a reply, r->body.len is the body's size; when body is not NULL it
 * is packed in place (r->body.len must be its packed size), else
 * r->body's bytes are copied. */
size_t rpc_wire_reply_size(const rpc_wire_reply *r);
void rpc_wire_reply_write(const rpc_wire_reply *r, const ProtobufCMessage *body,
                          uint8_t *out);

#endif
