/* rpc_validate.c: proto3 says a string field holds UTF-8, but protobuf-c
 * unpacks strings as C strings, so a NUL byte would silently cut a name
 * short ("ali\0ce" would register "ali"). The server therefore walks the
 * raw body with the method's descriptor before unpacking and refuses any
 * string field that holds a NUL byte or is not valid UTF-8. Malformed
 * wire data is left for protobuf-c's own unpack to refuse. */
#include <stdio.h>

#include "rpc_internal.h"

#define MAX_DEPTH 16

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            return 0;
    }
    return -1;
}

/* Length of the UTF-8 sequence at s (0 if invalid), no NUL, no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_char(const uint8_t *s, size_t left)
{
    uint8_t c = s[0];
    size_t n;
    uint32_t cp;
    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static const char *bad_text(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (s[i] == 0)
            return "holds a NUL byte";
        size_t n = utf8_char(s + i, len - i);
        if (n == 0)
            return "is not valid UTF-8";
        i += n;
    }
    return NULL;
}

static int check(const ProtobufCMessageDescriptor *d, const uint8_t *p,
                 size_t len, int depth, char *why, size_t n)
{
    const uint8_t *end = p + len;
    while (p < end) {
        uint64_t tag, l;
        if (read_varint(&p, end, &tag) != 0)
            return 0;
        switch (tag & 7) {
        case 0:
            if (read_varint(&p, end, &l) != 0)
                return 0;
            continue;
        case 1:
        case 5: {
            size_t skip = (tag & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < skip)
                return 0;
            p += skip;
            continue;
        }
        case 2:
            break;
        default:
            return 0; /* groups or junk: unpack decides */
        }
        if (read_varint(&p, end, &l) != 0 || l > (uint64_t)(end - p))
            return 0;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
        const char *bad;
        if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
            (bad = bad_text(p, (size_t)l)) != NULL) {
            snprintf(why, n, "field '%s' of %s %s", f->name, d->name, bad);
            return -1;
        }
        if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
            depth < MAX_DEPTH &&
            check(f->descriptor, p, (size_t)l, depth + 1, why, n) != 0)
            return -1;
        p += l;
    }
    return 0;
}

int rpc_check_strings(const ProtobufCMessageDescriptor *d, const uint8_t *body,
                      size_t len, char *why, size_t n)
{
    return check(d, body, len, 0, why, n);
}
