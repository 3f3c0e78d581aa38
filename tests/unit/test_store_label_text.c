/* test_store_label_text.c: the label and text rules and the interchange
 * format (store_label_text.h): every rule's verdict, a table of malformed
 * data that import must refuse (delimiters inside labels and texts among
 * them), and print -> parse round trips, labels with spaces included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_label_text.h"

static store_str sn(const char *p, size_t n)
{
    store_str s = {p, n};
    return s;
}

static void test_label_rules(void **state)
{
    char long_label[STORE_LABEL_MAX + 2];
    memset(long_label, 'x', sizeof long_label);
    static const struct {
        const char *s;
        size_t len; /* 0: strlen */
        store_res want;
    } cases[] = {
        {"UDP", 0, STORE_OK},
        {"Execution Environment", 0, STORE_OK},
        {"caf\xc3\xa9 \xe2\x82\xac", 0, STORE_OK}, /* café € */
        {"FXGZ2", 0, STORE_OK},                    /* not the word */
        {"fxgz", 0, STORE_OK},                     /* case matters */
        {"a'b", 0, STORE_OK},
        {"", 0, STORE_LABEL_EMPTY},
        {"say \"hi\"", 0, STORE_LABEL_QUOTE},
        {"\"", 0, STORE_LABEL_QUOTE},
        {"a\0b", 3, STORE_LABEL_NOT_PRINTABLE},
        {"tab\there", 0, STORE_LABEL_NOT_PRINTABLE},
        {"new\nline", 0, STORE_LABEL_NOT_PRINTABLE},
        {"\xff\xfe", 0, STORE_LABEL_NOT_PRINTABLE},     /* not UTF-8 */
        {"\xc0\xaf", 0, STORE_LABEL_NOT_PRINTABLE},     /* overlong '/' */
        {"\xed\xa0\x80", 0, STORE_LABEL_NOT_PRINTABLE}, /* a surrogate */
        {"caf\xc3", 0, STORE_LABEL_NOT_PRINTABLE},      /* cut sequence */
        {" UDP", 0, STORE_LABEL_NOT_PRINTABLE},
        {"UDP ", 0, STORE_LABEL_NOT_PRINTABLE},
        {"FXGZ", 0, STORE_LABEL_DELIMITER},
        {"a ZGXF b", 0, STORE_LABEL_DELIMITER},
        {"b FXGZ", 0, STORE_LABEL_DELIMITER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].s);
        store_res r = store_label_check(sn(cases[i].s, n));
        if (r != cases[i].want)
            fail_msg("label case %zu: %s, want %s", i, store_res_name(r),
                     store_res_name(cases[i].want));
    }
    assert_int_equal(store_label_check(sn(long_label, STORE_LABEL_MAX)),
                     STORE_OK);
    assert_int_equal(store_label_check(sn(long_label, STORE_LABEL_MAX + 1)),
                     STORE_LABEL_TOO_LONG);
    /* a 64-byte limit counts bytes, not characters: 22 euro signs = 66 */
    char euros[67] = {0};
    for (int i = 0; i < 22; i++)
        memcpy(euros + 3 * i, "\xe2\x82\xac", 3);
    assert_int_equal(store_label_check(store_s(euros)), STORE_LABEL_TOO_LONG);
}

static void test_text_rules(void **state)
{
    static char big[STORE_LABEL_TEXT_MAX + 1];
    memset(big, 'y', sizeof big);
    assert_int_equal(store_label_text_check(store_s("a connectionless proto")),
                     STORE_OK);
    assert_int_equal(store_label_text_check(store_s("say \"hi\"")), STORE_OK);
    assert_int_equal(store_label_text_check(sn(big, STORE_LABEL_TEXT_MAX)),
                     STORE_OK);
    assert_int_equal(store_label_text_check(sn(big, STORE_LABEL_TEXT_MAX + 1)),
                     STORE_TEXT_TOO_LONG);
    assert_int_equal(store_label_text_check(store_s("")),
                     STORE_INVALID_ARGUMENT);
    assert_int_equal(store_label_text_check(sn("a\0b", 3)),
                     STORE_TEXT_NOT_PRINTABLE);
    assert_int_equal(store_label_text_check(store_s("two\nlines")),
                     STORE_TEXT_NOT_PRINTABLE);
    assert_int_equal(store_label_text_check(store_s("\x80")),
                     STORE_TEXT_NOT_PRINTABLE);
    assert_int_equal(store_label_text_check(store_s("ends ")),
                     STORE_TEXT_NOT_PRINTABLE);
    assert_int_equal(store_label_text_check(store_s("x ZGXF y")),
                     STORE_LABEL_DELIMITER);
    assert_int_equal(store_label_text_check(store_s("FXGZ")),
                     STORE_LABEL_DELIMITER);
}

static void test_parse(void **state)
{
    store_xchg x;
    const char *d = "UDP FXGZ a connectionless transport ZGXF "
                    "Execution Environment FXGZ where  code runs ZGXF";
    assert_int_equal(store_xchg_parse(store_s(d), &x), STORE_OK);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.v[0].label.len, 3);
    assert_memory_equal(x.v[0].label.ptr, "UDP", 3);
    assert_int_equal(x.v[0].text.len, strlen("a connectionless transport"));
    assert_int_equal(x.v[1].label.len, strlen("Execution Environment"));
    assert_memory_equal(x.v[1].label.ptr, "Execution Environment", 21);
    /* inner spaces of a text travel exactly */
    assert_int_equal(x.v[1].text.len, strlen("where  code runs"));
    assert_memory_equal(x.v[1].text.ptr, "where  code runs", 16);
    store_xchg_free(&x);
    assert_int_equal(store_xchg_parse(store_s("L FXGZ T ZGXF"), &x), STORE_OK);
    assert_int_equal(x.n, 1);
    store_xchg_free(&x);
}

static void test_parse_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        " ",
        "UDP",
        "UDP FXGZ",
        "UDP FXGZ text",
        "UDP FXGZ text ZGXF ",     /* trailing space */
        " UDP FXGZ text ZGXF",     /* leading space */
        "UDP  FXGZ text ZGXF",     /* label ends with a space */
        "UDP FXGZ  text ZGXF",     /* text starts with a space */
        "UDP FXGZ text  ZGXF",     /* text ends with a space */
        "FXGZ text ZGXF",          /* empty label */
        "UDP FXGZ ZGXF",           /* empty text */
        "UDP FXGZ FXGZ t ZGXF",    /* delimiter inside a text */
        "UDP FXGZ a FXGZ b ZGXF",  /* ditto */
        "U ZGXF P FXGZ text ZGXF", /* delimiter inside a label */
        "UDP ZGXF",
        "UDP FXGZ t ZGXF ZGXF",
        "UDP FXGZ t ZGXF  TCP FXGZ u ZGXF", /* two spaces between */
        "UDP FXGZ t ZGXFTCP FXGZ u ZGXF",   /* no space between */
        "UDP FXGZ t ZGXF TCP",
        "U\"DP FXGZ t ZGXF",        /* a quote in a label */
        "U\tP FXGZ t ZGXF",         /* a control character */
        "UDP FXGZ t\nu ZGXF",       /* a newline in a text */
        "UDP FXGZ \xff ZGXF",       /* invalid UTF-8 */
        "UDPFXGZ t ZGXF",           /* not the word */
        "UDP FXGZ t ZGXF\n",        /* a stray newline */
        "UDP FXGZ t ZGXF TCP FXGZ", /* an unfinished record */
    };
    store_xchg x;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store_res r = store_xchg_parse(store_s(bad[i]), &x);
        if (r != STORE_LABEL_MALFORMED)
            fail_msg("accepted malformed case %zu: \"%s\"", i, bad[i]);
        store_xchg_free(&x);
    }
    char nul[] = "UDP FXGZ a\0b ZGXF";
    assert_int_equal(store_xchg_parse(sn(nul, sizeof nul - 1), &x),
                     STORE_LABEL_MALFORMED);
    store_xchg_free(&x);
    /* an over-long label or text is malformed too */
    char big[STORE_LABEL_MAX + 40];
    memset(big, 'L', STORE_LABEL_MAX + 1);
    strcpy(big + STORE_LABEL_MAX + 1, " FXGZ t ZGXF");
    assert_int_equal(store_xchg_parse(store_s(big), &x), STORE_LABEL_MALFORMED);
    store_xchg_free(&x);
}

/* Print then parse: the same records, for labels with spaces, unicode,
 * near-delimiter words and 2,000 records. */
static void test_round_trip(void **state)
{
    store_buf b = {0};
    store_xchg x;
    char label[80], text[200];
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        snprintf(label, sizeof label, "%s %d",
                 i % 2 ? "Exec Env" : "caf\xc3\xa9", i);
        snprintf(text, sizeof text, "text %d FXGZ2 zgxf \"q\" a  b %d", i,
                 i * 7);
        assert_int_equal(store_label_check(store_s(label)), STORE_OK);
        assert_int_equal(store_label_text_check(store_s(text)), STORE_OK);
        assert_int_equal(store_xchg_append(&b, store_s(label), store_s(text)),
                         0);
    }
    assert_int_equal(strlen(b.p), b.len);
    assert_int_equal(store_xchg_parse(sn(b.p, b.len), &x), STORE_OK);
    assert_int_equal(x.n, N);
    for (int i = 0; i < N; i++) {
        snprintf(label, sizeof label, "%s %d",
                 i % 2 ? "Exec Env" : "caf\xc3\xa9", i);
        snprintf(text, sizeof text, "text %d FXGZ2 zgxf \"q\" a  b %d", i,
                 i * 7);
        assert_int_equal(x.v[i].label.len, strlen(label));
        assert_memory_equal(x.v[i].label.ptr, label, strlen(label));
        assert_int_equal(x.v[i].text.len, strlen(text));
        assert_memory_equal(x.v[i].text.ptr, text, strlen(text));
    }
    store_xchg_free(&x);
    store_buf_free(&b);
    /* one record prints exactly as the assignment shows */
    assert_int_equal(
        store_xchg_append(&b, store_s("UDP"), store_s("datagrams")), 0);
    assert_string_equal(b.p, "UDP FXGZ datagrams ZGXF");
    store_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_rules),
        cmocka_unit_test(test_text_rules),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
