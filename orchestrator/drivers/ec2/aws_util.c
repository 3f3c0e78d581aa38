/* aws_util.c: string buffer, percent-encoding, hashing and base64 for the
 * AWS layer. The crypto is OpenSSL's; the rest is plain C so that SigV4's
 * exact byte rules stay visible here. */
#include "aws_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

void aws_buf_init(aws_buf *b)
{
    memset(b, 0, sizeof *b);
}

void aws_buf_free(aws_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int buf_reserve(aws_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL)
        goto fail;
    b->data = p;
    b->cap = cap;
    return 0;
fail:
    b->oom = 1;
    return -1;
}

void aws_buf_add(aws_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void aws_buf_adds(aws_buf *b, const char *s)
{
    aws_buf_add(b, s, strlen(s));
}

void aws_buf_addc(aws_buf *b, char c)
{
    aws_buf_add(b, &c, 1);
}

void aws_buf_printf(aws_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *aws_buf_take(aws_buf *b)
{
    char *s = NULL;
    if (!b->oom && b->data == NULL)
        aws_buf_add(b, "", 0);
    if (!b->oom) {
        s = b->data;
        b->data = NULL;
    }
    aws_buf_free(b);
    return s;
}

void aws_uri_encode(aws_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~' || (keep_slash && c == '/')) {
            aws_buf_addc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            aws_buf_add(b, esc, 3);
        }
    }
}

void aws_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void aws_sha256_hex(const void *data, size_t n, char hex_out[65])
{
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256(data != NULL ? data : (const void *)"", n, md);
    aws_hex(md, sizeof md, hex_out);
}

int aws_hmac_sha256(const void *key, size_t keylen, const void *msg,
                    size_t msglen, uint8_t out[32])
{
    unsigned int outlen = 0;
    if (keylen > (size_t)INT32_MAX)
        return -1;
    if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen) ==
            NULL ||
        outlen != 32)
        return -1;
    return 0;
}

char *aws_base64_encode(const void *data, size_t n)
{
    if (n > (SIZE_MAX / 4) * 3 - 3 || n > (size_t)INT32_MAX / 2)
        return NULL;
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out == NULL)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, data, (int)n);
    return out;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Written out rather than EVP_DecodeBlock, which neither skips whitespace
 * nor reports the padding, so lengths would be guesswork. */
char *aws_base64_decode(const char *s, size_t *out_len)
{
    size_t n = strlen(s), o = 0, pad = 0;
    uint32_t acc = 0;
    int bits = 0;
    char *out = malloc(n / 4 * 3 + 4);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad > 0)
            goto fail; /* bad character, or data after the padding */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (pad > 2 || bits >= 6)
        goto fail;
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return out;
fail:
    free(out);
    return NULL;
}

char *aws_strdup0(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

int aws_random_bytes(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}
