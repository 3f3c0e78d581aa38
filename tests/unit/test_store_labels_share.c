/* test_store_labels_share.c: list-labels, export-labels and import-labels
 * on a real LMDB environment: creation order and pages, export -> import
 * into another group reproduces it byte for byte, import over existing
 * labels keeps drafts (never overwrites) and counts what it did, a live
 * reservation is not overtaken, and malformed data changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_labels_util.h"

static void checked_write(tenv *t, const char *me, const char *g,
                          const char *label, const char *text)
{
    assert_int_equal(kb_check(t, me, g, label, T0, NULL), STORE_LABEL_NEW);
    assert_int_equal(kb_write(t, me, g, label, text, T0), STORE_OK);
}

/* export of @g from @from, one page of at most @max bytes */
static store_res kb_export(tenv *t, const char *me, const char *g,
                           uint32_t from, size_t max, store_buf *line,
                           store_label_page *page)
{
    MDB_txn *txn = kb_begin(t, 0);
    int rc = store_labels_export(t->db, txn, store_s(me), store_s(g), from, max,
                                 line, page);
    store_read_end(t->db, txn);
    assert_int_equal(rc, 0);
    return page->res;
}

static store_res kb_list(tenv *t, const char *me, const char *g, uint32_t from,
                         size_t max, store_names *names, store_label_page *page)
{
    MDB_txn *txn = kb_begin(t, 0);
    int rc = store_labels_list(t->db, txn, store_s(me), store_s(g), from, max,
                               names, page);
    store_read_end(t->db, txn);
    assert_int_equal(rc, 0);
    return page->res;
}

static void test_list(void **state)
{
    tenv *t = *state;
    store_names l;
    store_label_page p;
    assert_int_equal(kb_list(t, "bob", "net", 0, 0, &l, &p), STORE_OK);
    assert_int_equal(l.n, 0); /* No labels */
    assert_int_equal(p.total, 0);
    store_names_free(&l);
    const char *labels[] = {"UDP", "Execution Environment", "TCP",
                            "caf\xc3\xa9"};
    for (int i = 0; i < 4; i++)
        checked_write(t, i % 2 ? "bob" : "alice", "net", labels[i], "text");
    assert_int_equal(kb_list(t, "dave", "net", 0, 0, &l, &p), STORE_OK);
    assert_int_equal(l.n, 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(l.v[i], labels[i]); /* oldest first */
    assert_int_equal(p.next, 4);
    assert_int_equal(p.total, 4);
    store_names_free(&l);
    /* pages */
    assert_int_equal(kb_list(t, "dave", "net", 1, 2, &l, &p), STORE_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0], labels[1]);
    assert_int_equal(p.next, 3);
    store_names_free(&l);
    assert_int_equal(kb_list(t, "dave", "net", 3, 2, &l, &p), STORE_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(p.next, 4);
    store_names_free(&l);
    assert_int_equal(kb_list(t, "carol", "net", 0, 0, &l, &p),
                     STORE_NOT_MEMBER);
    assert_int_equal(kb_list(t, "dave", "none", 0, 0, &l, &p),
                     STORE_NO_SUCH_GROUP);
    /* a rewrite does not move a label */
    assert_int_equal(kb_check(t, "dave", "net", "UDP", T0, NULL),
                     STORE_LABEL_RESERVED);
    assert_int_equal(kb_write(t, "dave", "net", "UDP", "new text", T0), 0);
    assert_int_equal(kb_list(t, "dave", "net", 0, 1, &l, &p), STORE_OK);
    assert_string_equal(l.v[0], "UDP");
    store_names_free(&l);
}

/* Export in the assignment's format, import into another group: the same
 * labels and texts; the second export is the first byte for byte. */
static void test_export_import_round_trip(void **state)
{
    tenv *t = *state;
    store_buf a = {0}, b = {0};
    store_label_page p;
    store_label_import_out io;
    assert_int_equal(kb_export(t, "bob", "net", 0, 0, &a, &p), STORE_OK);
    assert_int_equal(a.len, 0); /* No labels */
    checked_write(t, "alice", "net", "UDP", "a connectionless transport");
    checked_write(t, "bob", "net", "Execution Environment",
                  "where the  code runs, \"quoted\"");
    checked_write(t, "dave", "net", "caf\xc3\xa9", "FXGZ2 is not a delimiter");
    assert_int_equal(kb_export(t, "bob", "net", 0, 0, &a, &p), STORE_OK);
    assert_string_equal(
        a.p, "UDP FXGZ a connectionless transport ZGXF "
             "Execution Environment FXGZ where the  code runs, \"quoted\" ZGXF "
             "caf\xc3\xa9 FXGZ FXGZ2 is not a delimiter ZGXF");
    assert_int_equal(kb_import(t, "bob", "copy", store_s(a.p), T0 + 1, &io),
                     STORE_OK);
    assert_int_equal(io.added, 3);
    assert_int_equal(io.drafted, 0);
    assert_int_equal(io.unchanged, 0);
    assert_int_equal(kb_export(t, "alice", "copy", 0, 0, &b, &p), STORE_OK);
    assert_string_equal(a.p, b.p);
    store_buf_free(&b);
    /* imported labels are bob's, and can be checked and written as any */
    store_label_view v;
    assert_int_equal(kb_show(t, "alice", "copy", "UDP", &v), STORE_OK);
    assert_string_equal(v.author, "bob");
    assert_int_equal(v.rev, 1);
    store_label_view_free(&v);
    /* the same data again: all unchanged, nothing written */
    uint64_t before = kb_digest(t);
    assert_int_equal(kb_import(t, "alice", "copy", store_s(a.p), T0 + 2, &io),
                     STORE_OK);
    assert_int_equal(io.unchanged, 3);
    assert_int_equal(io.added + io.drafted, 0);
    assert_true(kb_digest(t) == before);
    /* pages: each parses alone, joined by one space they are the whole */
    store_buf joined = {0};
    uint32_t from = 0;
    int pages = 0;
    do {
        assert_int_equal(kb_export(t, "bob", "net", from, 40, &b, &p),
                         STORE_OK);
        assert_true(b.len > 0);
        store_xchg x;
        assert_int_equal(store_xchg_parse(store_s(b.p), &x), STORE_OK);
        for (size_t i = 0; i < x.n; i++)
            assert_int_equal(
                store_xchg_append(&joined, x.v[i].label, x.v[i].text), 0);
        store_xchg_free(&x);
        store_buf_free(&b);
        from = p.next;
        pages++;
    } while (from < p.total);
    assert_int_equal(pages, 3); /* every record is over 40 bytes */
    assert_string_equal(joined.p, a.p);
    store_buf_free(&joined);
    store_buf_free(&a);
}

/* Import over existing labels: another text becomes the importer's draft,
 * the same text is unchanged, a new label is added; a label under a live
 * reservation is not written either. */
static void test_import_over_existing(void **state)
{
    tenv *t = *state;
    store_label_import_out io;
    store_label_view v;
    checked_write(t, "alice", "net", "UDP", "datagrams");
    checked_write(t, "alice", "net", "TCP", "streams");
    assert_int_equal(kb_check(t, "dave", "net", "ARP", T0, NULL),
                     STORE_LABEL_NEW);
    const char *data = "UDP FXGZ user datagram protocol ZGXF "
                       "TCP FXGZ streams ZGXF "
                       "ICMP FXGZ control messages ZGXF "
                       "ARP FXGZ address resolution ZGXF "
                       "ICMP FXGZ echo ZGXF";
    assert_int_equal(kb_import(t, "bob", "net", store_s(data), T0 + 1, &io),
                     STORE_OK);
    assert_int_equal(io.added, 1);     /* ICMP */
    assert_int_equal(io.unchanged, 1); /* TCP */
    assert_int_equal(io.drafted, 3);   /* UDP, ARP, the second ICMP */
    assert_int_equal(kb_show(t, "alice", "net", "UDP", &v), STORE_OK);
    assert_string_equal(v.text, "datagrams"); /* never overwritten */
    assert_int_equal(v.rev, 1);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.drafts[0].author, "bob");
    assert_string_equal(v.drafts[0].text, "user datagram protocol");
    store_label_view_free(&v);
    assert_string_equal(kb_text(t, "net", "ICMP"), "control messages");
    assert_int_equal(kb_show(t, "alice", "net", "ARP", &v),
                     STORE_NO_SUCH_LABEL);
    assert_int_equal(v.n, 1);
    store_label_view_free(&v);
    /* dave's reservation still holds and his write goes through */
    assert_int_equal(kb_write(t, "dave", "net", "ARP", "who has", T0 + 2), 0);
    /* after the lease, an import adds a label nobody wrote */
    assert_int_equal(kb_check(t, "dave", "net", "RARP", T0, NULL),
                     STORE_LABEL_NEW);
    assert_int_equal(kb_import(t, "bob", "net",
                               store_s("RARP FXGZ reverse ZGXF"), T0 + LEASE_MS,
                               &io),
                     STORE_OK);
    assert_int_equal(io.added, 1);
}

/* Malformed data is refused whole: nothing of it is applied, even when
 * the bad record comes last. */
static void test_import_malformed(void **state)
{
    tenv *t = *state;
    store_label_import_out io;
    checked_write(t, "alice", "net", "UDP", "datagrams");
    static const char *const bad[] = {
        "",
        "NEW FXGZ fine ZGXF UDP FXGZ x ZGXF BAD FXGZ a ZGXF b ZGXF",
        "NEW FXGZ fine ZGXF U\"DP FXGZ quoted ZGXF",
        "NEW FXGZ fine ZGXF FXGZ empty label ZGXF",
        "NEW FXGZ fine ZGXF TCP FXGZ",
        "NEW FXGZ fine ZGXF  TCP FXGZ two spaces ZGXF",
        "0123456789012345678901234567890123456789012345678901234567890123X "
        "FXGZ long label ZGXF",
    };
    uint64_t before = kb_digest(t);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            kb_import(t, "bob", "net", store_s(bad[i]), T0 + 1, &io),
            STORE_LABEL_MALFORMED);
        assert_int_equal(io.added + io.drafted + io.unchanged, 0);
    }
    assert_true(kb_digest(t) == before);
    /* membership still comes first */
    assert_int_equal(kb_import(t, "carol", "net", store_s(bad[1]), T0, &io),
                     STORE_NOT_MEMBER);
    assert_int_equal(kb_import(t, "carol", "nope", store_s(bad[1]), T0, &io),
                     STORE_NO_SUCH_GROUP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        KB_TEST(test_list),
        KB_TEST(test_export_import_round_trip),
        KB_TEST(test_import_over_existing),
        KB_TEST(test_import_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
