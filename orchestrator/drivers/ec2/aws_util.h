/* aws_util.h: small pieces the AWS layer is built from (internal, not for
 * callers outside orchestrator/drivers/ec2): a growable string buffer with
 * a sticky out-of-memory flag, RFC 3986 percent-encoding as AWS wants it,
 * hex, SHA-256, HMAC-SHA256 and base64. */
#ifndef AWS_UTIL_H
#define AWS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A NUL-terminated growable string. After a failed allocation `oom` is set
 * and further appends do nothing, so a builder checks once at the end. */
typedef struct aws_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
} aws_buf;

void aws_buf_init(aws_buf *b);
void aws_buf_free(aws_buf *b);
void aws_buf_add(aws_buf *b, const void *p, size_t n);
void aws_buf_adds(aws_buf *b, const char *s);
void aws_buf_addc(aws_buf *b, char c);
void aws_buf_printf(aws_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (NULL after oom) and resets b. */
char *aws_buf_take(aws_buf *b);

/* Appends s[0..n) percent-encoded: unreserved (A-Z a-z 0-9 - _ . ~) kept,
 * '/' kept when keep_slash, every other byte as %XX (upper-case hex). */
void aws_uri_encode(aws_buf *b, const char *s, size_t n, int keep_slash);

/* out gets 2*n hex digits (lower case) and a NUL. */
void aws_hex(const uint8_t *in, size_t n, char *out);
/* hex_out: 65 bytes. */
void aws_sha256_hex(const void *data, size_t n, char hex_out[65]);
/* out: 32 bytes. Returns 0, or -1 if the crypto library failed. */
int aws_hmac_sha256(const void *key, size_t keylen, const void *msg,
                    size_t msglen, uint8_t out[32]);

/* Standard base64 with padding; returns a malloc'd string or NULL. */
char *aws_base64_encode(const void *data, size_t n);
/* Decodes standard base64 (whitespace ignored). Returns a malloc'd
 * NUL-terminated buffer with its length in *out_len, or NULL when the input
 * is not valid base64 or memory runs out. */
char *aws_base64_decode(const char *s, size_t *out_len);

/* strdup that accepts NULL (returns NULL). */
char *aws_strdup0(const char *s);
/* Fills buf with n random bytes (getrandom). Returns 0 or -1. */
int aws_random_bytes(void *buf, size_t n);

#endif
