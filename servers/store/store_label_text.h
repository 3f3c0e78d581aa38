/* store_label_text.h: what a knowledge-base label and its text may hold,
 * and the agents assignment's interchange format that carries them:
 * `<label> FXGZ <text> ZGXF` per label, joined by single spaces. Pure
 * functions (no LMDB): the store validates with them, import parses with
 * them, export prints with them, and a client may check input early. */
#ifndef STORE_LABEL_TEXT_H
#define STORE_LABEL_TEXT_H

#include <stddef.h>

#include "store_db.h"

#define STORE_LABEL_MAX 64        /* bytes in a label */
#define STORE_LABEL_TEXT_MAX 4096 /* bytes in a label's text */
#define STORE_XCHG_OPEN "FXGZ"    /* between a label and its text */
#define STORE_XCHG_CLOSE "ZGXF"   /* after a text */

/** Checks a label, in this order: STORE_LABEL_EMPTY (0 bytes),
 * STORE_LABEL_TOO_LONG (over STORE_LABEL_MAX bytes), STORE_LABEL_QUOTE (a
 * double quote: script mode quotes labels that hold spaces),
 * STORE_LABEL_NOT_PRINTABLE (a NUL or other control character, invalid
 * UTF-8, or a space at either end), STORE_LABEL_DELIMITER (the word FXGZ
 * or ZGXF, which the interchange format could not carry). STORE_OK when
 * none applies. Spaces inside a label are allowed. */
store_res store_label_check(store_str label);

/** Checks a text: STORE_INVALID_ARGUMENT (empty: usage, caught by the
 * client first), STORE_TEXT_TOO_LONG (over STORE_LABEL_TEXT_MAX bytes),
 * STORE_TEXT_NOT_PRINTABLE (as for labels: control characters include
 * newline and tab, so an export is always one line), STORE_LABEL_DELIMITER;
 * else STORE_OK. Double quotes are allowed in texts. */
store_res store_label_text_check(store_str text);

/** 1 when @s holds STORE_XCHG_OPEN or STORE_XCHG_CLOSE as a word (between
 * spaces or the ends), else 0. "FXGZ2" or "fxgz" is not that word. */
int store_xchg_has_delimiter(store_str s);

/** One parsed record; both point into the parsed data. */
typedef struct store_xchg_rec {
    store_str label, text;
} store_xchg_rec;
typedef struct store_xchg {
    size_t n, cap;
    store_xchg_rec *v;
} store_xchg;

/** Parses @data, which must be one or more records
 * `<label> FXGZ <text> ZGXF` joined by single spaces, every label passing
 * store_label_check and every text store_label_text_check. Returns STORE_OK
 * with the records in order in *@out (free with store_xchg_free, also after
 * failure), STORE_LABEL_MALFORMED for anything else (empty data, a missing
 * or doubled delimiter, an empty label or text, a space too many, a bad
 * label or text), or STORE_ERR_INTERNAL when memory ran out. */
store_res store_xchg_parse(store_str data, store_xchg *out);
void store_xchg_free(store_xchg *x);

/** A growing byte buffer, NUL-terminated whenever len > 0. */
typedef struct store_buf {
    char *p;
    size_t len, cap;
} store_buf;
void store_buf_free(store_buf *b);

/** Appends one record to @b, after a single space when @b is not empty.
 * The caller passes a label and text that passed the checks above, so the
 * result always parses back to the same records. Returns 0 or ENOMEM (then
 * @b is unchanged). */
int store_xchg_append(store_buf *b, store_str label, store_str text);

#endif
