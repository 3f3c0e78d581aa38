/* store_label_text.c: the label and text rules and the interchange format
 * (store_label_text.h). The format has no escape: the assignment defines
 * none, and one of our own would make other systems read a different
 * text. So the delimiter words are refused where text enters (check-label,
 * write-label, import) and an export can always be parsed back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_label_text.h"

static int is_word(const char *p, size_t len, const char *w)
{
    return len == 4 && memcmp(p, w, 4) == 0;
}

int store_xchg_has_delimiter(store_str s)
{
    size_t i = 0;
    while (i <= s.len) {
        size_t j = i;
        while (j < s.len && s.ptr[j] != ' ')
            j++;
        if (is_word(s.ptr + i, j - i, STORE_XCHG_OPEN) ||
            is_word(s.ptr + i, j - i, STORE_XCHG_CLOSE))
            return 1;
        i = j + 1;
    }
    return 0;
}

store_res store_label_check(store_str label)
{
    if (label.len == 0)
        return STORE_LABEL_EMPTY;
    if (label.len > STORE_LABEL_MAX)
        return STORE_LABEL_TOO_LONG;
    if (memchr(label.ptr, '"', label.len))
        return STORE_LABEL_QUOTE;
    if (!store_valid_printable(label, STORE_LABEL_MAX))
        return STORE_LABEL_NOT_PRINTABLE;
    return store_xchg_has_delimiter(label) ? STORE_LABEL_DELIMITER : STORE_OK;
}

store_res store_label_text_check(store_str text)
{
    if (text.len == 0)
        return STORE_INVALID_ARGUMENT;
    if (text.len > STORE_LABEL_TEXT_MAX)
        return STORE_TEXT_TOO_LONG;
    if (!store_valid_printable(text, STORE_LABEL_TEXT_MAX))
        return STORE_TEXT_NOT_PRINTABLE;
    return store_xchg_has_delimiter(text) ? STORE_LABEL_DELIMITER : STORE_OK;
}

static int add_rec(store_xchg *x, store_str label, store_str text)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        store_xchg_rec *v = realloc(x->v, cap * sizeof *v);
        if (!v)
            return ENOMEM;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n].label = label;
    x->v[x->n].text = text;
    x->n++;
    return 0;
}

/* The byte offset just past the next word at or after @i that equals @w,
 * where a word lies between single spaces or the ends; the word starts at
 * *@at. Returns 0 when there is none. */
static size_t find_word(store_str d, size_t i, const char *w, size_t *at)
{
    while (i <= d.len) {
        size_t j = i;
        while (j < d.len && d.ptr[j] != ' ')
            j++;
        if (is_word(d.ptr + i, j - i, w)) {
            *at = i;
            return j;
        }
        i = j + 1;
    }
    return 0;
}

/* A field runs from @from to the space before the delimiter at @at; it
 * must hold at least one byte and no delimiter word of either kind (an
 * OPEN inside a text or a CLOSE inside a label is a doubled delimiter). */
static int field(store_str d, size_t from, size_t at, store_str *out)
{
    if (at < from + 2 || d.ptr[at - 1] != ' ')
        return -1;
    out->ptr = d.ptr + from;
    out->len = at - 1 - from;
    return store_xchg_has_delimiter(*out) ? -1 : 0;
}

store_res store_xchg_parse(store_str data, store_xchg *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    if (data.len == 0)
        return STORE_LABEL_MALFORMED;
    while (i < data.len) {
        size_t at, j, k;
        store_str label, text;
        if (!(j = find_word(data, i, STORE_XCHG_OPEN, &at)) ||
            field(data, i, at, &label))
            return STORE_LABEL_MALFORMED;
        if (!(k = find_word(data, j + 1, STORE_XCHG_CLOSE, &at)) ||
            field(data, j + 1, at, &text))
            return STORE_LABEL_MALFORMED;
        /* after ZGXF: the end, or one space and the next record */
        if (k < data.len && (data.ptr[k] != ' ' || k + 1 >= data.len))
            return STORE_LABEL_MALFORMED;
        if (store_label_check(label) != STORE_OK ||
            store_label_text_check(text) != STORE_OK)
            return STORE_LABEL_MALFORMED;
        if (add_rec(out, label, text))
            return STORE_ERR_INTERNAL;
        i = k + 1;
    }
    return STORE_OK;
}

void store_xchg_free(store_xchg *x)
{
    if (!x)
        return;
    free(x->v);
    memset(x, 0, sizeof *x);
}

void store_buf_free(store_buf *b)
{
    if (!b)
        return;
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int buf_room(store_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_put(store_buf *b, const char *p, size_t n)
{
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

int store_xchg_append(store_buf *b, store_str label, store_str text)
{
    size_t sep = b->len ? 1 : 0;
    if (buf_room(b, sep + label.len + text.len + 11))
        return ENOMEM;
    if (sep)
        buf_put(b, " ", 1);
    buf_put(b, label.ptr, label.len);
    buf_put(b, " " STORE_XCHG_OPEN " ", 6);
    buf_put(b, text.ptr, text.len);
    buf_put(b, " " STORE_XCHG_CLOSE, 5);
    b->p[b->len] = 0;
    return 0;
}
