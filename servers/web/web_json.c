/* web_json.c: replies and deliveries as JSON for the page. Any reply
 * message is turned into JSON by walking its protobuf-c descriptor (so a
 * command added to social.proto reaches the page with no code here), and
 * a delivery becomes one server-sent event whose data is one JSON line
 * holding, beside its fields, the exact line script mode prints for it.
 * Strings are escaped by jansson; the page inserts them as text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

/* Length of the valid UTF-8 character at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k = s[0] < 0x80         ? 1
               : (s[0] >> 5) == 6  ? 2
               : (s[0] >> 4) == 14 ? 3
               : (s[0] >> 3) == 30 ? 4
                                   : 0;
    uint32_t c = k == 1 ? s[0] : s[0] & (0x7f >> k);

    if (k == 0 || k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    /* no overlong forms, no surrogates, nothing past U+10FFFF */
    if ((k == 2 && c < 0x80) || (k == 3 && c < 0x800) ||
        (k == 4 && c < 0x10000) || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
        return 0;
    return k;
}

json_t *web_json_str(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    char *fixed, *p;
    json_t *j;

    if (s == NULL)
        return json_string("");
    if ((j = json_stringn(s, n)) != NULL)
        return j;
    /* not UTF-8 (names are kept as given): U+FFFD for each bad byte */
    if ((fixed = malloc(n * 3 + 1)) == NULL)
        return NULL;
    p = fixed;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0) {
            memcpy(p, "\xef\xbf\xbd", 3);
            p += 3;
            i++;
        } else {
            memcpy(p, s + i, k);
            p += k;
            i += k;
        }
    }
    *p = '\0';
    j = json_string(fixed);
    free(fixed);
    return j;
}

static json_t *scalar(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return web_json_str(*(char *const *)v);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)v);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)v);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)v);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)v);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_integer((json_int_t) * (const uint64_t *)v);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(
            f->descriptor, *(const int *)v);
        return e != NULL ? json_string(e->name) : json_integer(*(const int *)v);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *)v;
        return m != NULL ? web_json_message(m) : json_null();
    }
    default:
        return json_null(); /* floats and bytes: not in social.proto */
    }
}

static size_t field_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    default:
        return 4;
    }
}

json_t *web_json_message(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *o = json_object();

    for (unsigned i = 0; o != NULL && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m + f->offset;
        json_t *v;

        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n =
                *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(const char *const *)base;
            v = json_array();
            for (size_t k = 0; v != NULL && k < n; k++)
                json_array_append_new(v, scalar(f, arr + k * field_size(f)));
        } else {
            v = scalar(f, base);
        }
        json_object_set_new(o, f->name, v);
    }
    return o;
}

static const char *kind_name(Sb__Social__Delivery__Kind k)
{
    switch (k) {
    case SB__SOCIAL__DELIVERY__KIND__GROUP:
        return "group";
    case SB__SOCIAL__DELIVERY__KIND__ROOM:
        return "room";
    case SB__SOCIAL__DELIVERY__KIND__ROOM_CLOSED:
        return "room_closed";
    default:
        return "direct";
    }
}

char *web_delivery_event(const Sb__Social__Delivery *d, size_t *len)
{
    int n = sb_format_delivery(NULL, 0, d);
    char *line = n >= 0 ? malloc((size_t)n + 1) : NULL, *data = NULL, *ev;
    json_t *j;

    if (line == NULL)
        return NULL;
    sb_format_delivery(line, (size_t)n + 1, d);
    j = json_pack("{sIsssososososIso}", "seq", (json_int_t)d->seq, "kind",
                  kind_name(d->kind), "from", web_json_str(d->from), "to",
                  web_json_str(d->to), "group", web_json_str(d->group), "text",
                  web_json_str(d->text), "time_ms",
                  (json_int_t)d->server_time_ms, "line", web_json_str(line));
    free(line);
    if (j != NULL)
        data = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (data == NULL)
        return NULL;
    /* One data line: JSON escapes every newline in the text. */
    size_t cap = strlen(data) + 64;
    if ((ev = malloc(cap)) != NULL)
        *len =
            (size_t)snprintf(ev, cap, "id: %llu\nevent: delivery\ndata: %s\n\n",
                             (unsigned long long)d->seq, data);
    free(data);
    return ev;
}
