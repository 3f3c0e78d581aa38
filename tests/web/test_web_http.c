/* test_web_http.c: the web role of a real sbd (child process, loopback),
 * attacked and checked over plain HTTP: the same texts as script mode
 * (`sb` run on the same commands), markup in every field coming back only
 * as JSON data, an event-stream injection through a message, CSRF (no
 * token, a wrong one, a form's content type, a foreign origin, a login
 * that must rotate the cookie), oversized headers and bodies and bad
 * JSON, login backoff, acknowledgement only after the page says so (a
 * stream dropped before the ack gets the delivery again, after it never),
 * a form re-sent with its request id applied once,
 * and a reader that stops reading while 300 messages queue for it (none
 * lost, none doubled, nobody else slowed). The 1000-stream and slow-client
 * cases are in test_web_load.c. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_social_proc.h"
#include "web_test_util.h"

static tsp_sbd S;
static int WEB;

static int setup(void **state)
{
    return wt_start_sbd(&S, &WEB);
}

static int teardown(void **state)
{
    tsp_cleanup(&S);
    return 0;
}

/* ---- the same texts as script mode --------------------------------- */

/* The script-mode lines for (user, command) pairs; the web side runs the
 * same commands and must print the same, users renamed. */
static const char *const script_cmds[][6] = {
    {"A", "invite", "B", NULL},
    {"A", "invite", "B", NULL},
    {"A", "invite", "A", NULL},
    {"A", "invite", "nobody9", NULL},
    {"B", "list-invite", NULL, NULL},
    {"B", "accept-invite", "A", NULL},
    {"B", "accept-invite", "A", NULL},
    {"A", "list-friend", NULL, NULL},
    {"A", "post", "hello   world", NULL},
    {"B", "receive-post", NULL, NULL},
    {"A", "send", "nobody9", "x"},
    {"A", "create-group", "G", NULL},
    {"B", "create-group", "G", NULL},
    {"B", "send-group", "G", "hi"},
    {"B", "join-group", "G", NULL},
    {"B", "join-group", "G", NULL},
    {"B", "list-joined", NULL, NULL},
    {"A", "create-room", "R", NULL},
    {"B", "join-room", "R", NULL},
    {"B", "delete-room", "R", NULL},
    {"A", "set-profile", "Ann", "Lee", "200", "f"},
    {"A", "set-profile", "Ann", "Lee Ray", "3", "f"},
    {"A", "set-profile", "Ann", "Lee", "33", "f"},
    {"B", "show-profile", "A", NULL},
    {"B", "show-profile", "nobody9", NULL},
    {"A", "invite", "B C", NULL},
    {"A", "draw", "0", NULL},
    {"A", "draw", "many", NULL},
    {"A", "leave-room", NULL, NULL},
    {"A", "leave-room", NULL, NULL},
};
#define NSCRIPT (sizeof script_cmds / sizeof script_cmds[0])

static const char *rename_user(const char *w, const char *a, const char *b)
{
    return strcmp(w, "A") == 0 ? a : strcmp(w, "B") == 0 ? b : w;
}

static void test_same_texts_as_script(void **state)
{
    char in[8192] = "", *out, *web = NULL;
    size_t n = 0, wn = 0;
    FILE *wf = open_memstream(&web, &wn);
    wc a, b;

    /* script mode: qqa, qqb, group qqg, room qqr; the web: zz... */
    n += (size_t)snprintf(in + n, sizeof in - n,
                          "register qqa pw\nregister qqb pw\nlogin qqa pw\n"
                          "login qqb pw\n");
    for (size_t i = 0; i < NSCRIPT; i++) {
        const char *const *c = script_cmds[i];
        n += (size_t)snprintf(in + n, sizeof in - n, "%s %s", c[1],
                              rename_user(c[0], "qqa", "qqb"));
        for (int k = 2; k < 6 && c[k]; k++) {
            const char *v = strcmp(c[k], "G") == 0   ? "qqg"
                            : strcmp(c[k], "R") == 0 ? "qqr"
                                                     : c[k];
            n += (size_t)snprintf(in + n, sizeof in - n, " %s",
                                  rename_user(v, "qqa", "qqb"));
        }
        n += (size_t)snprintf(in + n, sizeof in - n, "\n");
    }
    out = wt_run_sb(S.port, in);
    assert_non_null(out);
    assert_int_equal(wc_join(&a, WEB, "zza", "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "zzb", "pw"), 0);
    fprintf(wf, "Success!\nSuccess!\nSuccess!\nSuccess!\n");
    for (size_t i = 0; i < NSCRIPT; i++) {
        const char *const *c = script_cmds[i];
        const char *args[4];
        int k = 0;
        for (int j = 2; j < 6 && c[j]; j++) {
            const char *v = strcmp(c[j], "G") == 0   ? "zzg"
                            : strcmp(c[j], "R") == 0 ? "zzr"
                                                     : c[j];
            args[k++] = rename_user(v, "zza", "zzb");
        }
        char *l = wc_cmd(strcmp(c[0], "A") == 0 ? &a : &b, c[1], k, args);
        assert_non_null(l);
        fprintf(wf, "%s\n", l);
        free(l);
    }
    fclose(wf);
    /* the same lines with the names swapped (deliveries aside: script
     * mode prints them between replies, the page gets them as events) */
    char *s = wt_replace(wt_drop_deliveries(out), "qq", "zz");
    if (strcmp(s, web) != 0)
        fprintf(stderr, "script mode:\n%s\nweb:\n%s\n", s, web);
    assert_string_equal(s, web);
    assert_non_null(strstr(web, "Usage: invite <user> <id>"));
    assert_non_null(strstr(web, "Age must be 0 to 150"));
    free(s);
    free(web);
}

/* ---- markup in every field ------------------------------------------ */

static const char *const evil[] = {
    "<img/src=x/onerror=alert(1)>",
    "\"><script>alert(2)</script>",
    "</script><svg/onload=alert(3)>",
    "javascript:alert(4)",
};

/* Every reply is JSON data with nosniff: the markup comes back as an
 * exact string, never as HTML; the page itself never changes. */
static void test_markup_every_field(void **state)
{
    wc a, b;
    char etag1[80], etag2[80];
    hc_resp r;
    hc_sse es;

    assert_int_equal(hc_request(WEB, "GET", "/", NULL, NULL, &r, 5000), 0);
    hc_header(&r, "ETag", etag1, sizeof etag1);
    hc_free(&r);
    assert_int_equal(wc_join(&a, WEB, evil[0], "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "xb", "pw"), 0);
    wt_befriend(&a, &b);
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
        const char *g[] = {evil[i]}, *p[] = {evil[i], "Lee", "3", "f"},
                   *s[] = {"xb", evil[i]};
        wt_expect(&a, "create-group", 1, g, "Success!");
        wt_expect(&a, "create-room", 1, g, "Success!");
        wt_expect(&a, "post", 1, g, "Success!");
        wt_expect(&a, "set-profile", 4, p, "Success!");
        wt_expect(&a, "send", 2, s, "Success!");
    }
    /* lists echo every string exactly, in JSON */
    wt_expect_has(&b, "list-group", 0, NULL, evil[1]);
    wt_expect_has(&b, "list-rooms", 0, NULL, evil[2]);
    wt_expect_has(&b, "receive-post", 0, NULL, evil[3]);
    wt_expect_has(&b, "list-users", 0, NULL, evil[0]);
    const char *who[] = {evil[0]};
    wt_expect_has(&b, "show-profile", 1, who, "javascript:alert(4) Lee, 3, f");
    /* the deliveries' data are JSON lines with the text intact */
    for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
        json_t *d = wt_next_delivery(&es, 10000);
        assert_non_null(d);
        assert_string_equal(json_string_value(json_object_get(d, "text")),
                            evil[i]);
        assert_string_equal(json_string_value(json_object_get(d, "from")),
                            evil[0]);
        json_decref(d);
    }
    hc_sse_close(&es);
    assert_int_equal(hc_request(WEB, "GET", "/", NULL, NULL, &r, 5000), 0);
    hc_header(&r, "ETag", etag2, sizeof etag2);
    assert_null(strstr(r.body, "alert("));
    hc_free(&r);
    assert_string_equal(etag1, etag2); /* no user data in the page */
}

/* A message cannot forge an event: newlines never reach the stream. */
static void test_stream_injection(void **state)
{
    wc a, b;
    hc_sse es;
    const char *s[] = {
        "ib",
        "x\n\nid: 99999\nevent: session\ndata: {\"state\":\"ended\"}\n\n"};
    char *ev;
    int deliveries = 0, sessions = 0;

    assert_int_equal(wc_join(&a, WEB, "ia", "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "ib", "pw"), 0);
    wt_befriend(&a, &b);
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    wt_expect(&a, "send", 2, s, "Success!");
    for (int waited = 0; waited < 3000 && deliveries == 0; waited += 20) {
        hc_sse_pump(&es);
        while ((ev = hc_sse_next(&es)) != NULL) {
            /* an event is its three lines, the text inside the JSON */
            int lines = 1;
            for (const char *p = ev; (p = strchr(p, '\n')) != NULL; p++)
                lines++;
            if (strstr(ev, "event: delivery") == ev + strcspn(ev, "\n") + 1) {
                json_t *d = json_loads(strstr(ev, "\ndata: ") + 7, 0, NULL);
                char id[32];
                snprintf(id, sizeof id, "id: %lld\n",
                         json_integer_value(json_object_get(d, "seq")));
                assert_int_equal(strncmp(ev, id, strlen(id)), 0);
                assert_int_equal(lines, 3);
                assert_string_equal(
                    json_string_value(json_object_get(d, "text")),
                    "x id: 99999 event: session data: {\"state\":\"ended\"}");
                json_decref(d);
                deliveries++;
            }
            sessions += strncmp(ev, "event: session", 14) == 0;
            free(ev);
        }
        wt_sleep_ms(20);
    }
    assert_int_equal(deliveries, 1);
    assert_int_equal(sessions, 0);
    hc_sse_close(&es);
}

/* ---- CSRF ------------------------------------------------------------ */

static void test_csrf(void **state)
{
    wc a, b, evil_c;
    int st;
    json_t *j;
    char hdr[512];
    hc_resp r;
    const char *post_body = "{\"cmd\":\"post\",\"args\":[\"forged\"]}";

    assert_int_equal(wc_join(&a, WEB, "ca", "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "cb", "pw"), 0);
    wt_befriend(&a, &b);
    /* the cookie: an opaque id, HttpOnly, SameSite=Strict */
    assert_int_equal(
        hc_request(WEB, "GET", "/api/session", NULL, NULL, &r, 5000), 0);
    assert_non_null(hc_header(&r, "Set-Cookie", hdr, sizeof hdr));
    assert_non_null(strstr(hdr, "HttpOnly"));
    assert_non_null(strstr(hdr, "SameSite=Strict"));
    assert_int_equal(strcspn(hdr + 7, ";"), 32);
    hc_free(&r);
    /* each forgery: refused, and nothing posted */
    const char *forged[] = {
        "Cookie: %s\r\nContent-Type: application/json\r\n",
        "Cookie: %s\r\nX-CSRF-Token: 00000000000000000000000000000000\r\n"
        "Content-Type: application/json\r\n",
        "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: text/plain\r\n",
        "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: application/json\r\n"
        "Origin: http://evil.example\r\n",
        "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: application/json\r\n"
        "Sec-Fetch-Site: cross-site\r\n",
    };
    for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
        snprintf(hdr, sizeof hdr, forged[i], a.cookie, a.csrf);
        assert_int_equal(
            hc_request(WEB, "POST", "/api/cmd", hdr, post_body, &r, 5000), 0);
        assert_int_equal(r.status, 403);
        hc_free(&r);
    }
    /* no cookie at all */
    snprintf(hdr, sizeof hdr,
             "X-CSRF-Token: %s\r\nContent-Type: "
             "application/json\r\n",
             a.csrf);
    assert_int_equal(
        hc_request(WEB, "POST", "/api/cmd", hdr, post_body, &r, 5000), 0);
    assert_int_equal(r.status, 403);
    hc_free(&r);
    wt_expect(&b, "receive-post", 0, NULL, "No posts");
    /* a session id known before a login is worthless after it */
    assert_int_equal(wc_open(&evil_c, WEB), 0);
    wc fixed = evil_c;
    j = wc_post(&evil_c, "/api/login", "{\"name\":\"ca\",\"password\":\"pw\"}",
                NULL, &st);
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    assert_string_not_equal(fixed.cookie, evil_c.cookie);
    char *l = wc_cmd(&fixed, "whoami", 0, NULL);
    assert_non_null(l);
    assert_string_equal(l, "");
    free(l);
    j = wc_post(&fixed, "/api/cmd", "{\"cmd\":\"whoami\",\"args\":[]}", NULL,
                &st);
    assert_int_equal(st, 403);
    json_decref(j);
    /* the right way works */
    const char *p[] = {"real"};
    wt_expect(&a, "post", 1, p, "Success!");
    wt_expect(&b, "receive-post", 0, NULL, "ca: real");
}

/* ---- limits and bad requests ------------------------------------------ */

static void test_limits(void **state)
{
    wc a;
    hc_resp r;
    int st;
    size_t big = 100 * 1024;
    char *body = malloc(big + 64), *hdr = malloc(20000);
    json_t *j;

    assert_int_equal(wc_join(&a, WEB, "la", "pw"), 0);
    snprintf(hdr, 20000, "Cookie: %s\r\nX-Pad: ", a.cookie);
    size_t n = strlen(hdr);
    memset(hdr + n, 'p', 16000);
    strcpy(hdr + n + 16000, "\r\n");
    assert_int_equal(
        hc_request(WEB, "GET", "/api/session", hdr, NULL, &r, 5000), 0);
    assert_int_equal(r.status, 431);
    hc_free(&r);
    snprintf(body, big + 64, "{\"cmd\":\"post\",\"args\":[\"");
    n = strlen(body);
    memset(body + n, 'b', big);
    strcpy(body + n + big, "\"]}");
    j = wc_post(&a, "/api/cmd", body, NULL, &st);
    assert_int_equal(st, 413);
    json_decref(j);
    const char *bad[] = {"{",
                         "[1,2]",
                         "{\"cmd\":\"post\",\"args\":[1]}",
                         "{\"cmd\":\"frob\",\"args\":[]}",
                         "{\"cmd\":\"login\",\"args\":[\"a\",\"b\"]}",
                         "{\"cmd\":\"post\",\"args\":\"x\"}",
                         "{\"cmd\":\"post\",\"cmd\":\"send\",\"args\":[]}",
                         "{\"cmd\":\"post\",\"args\":[\"a\\u0000b\"]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        j = wc_post(&a, "/api/cmd", bad[i], NULL, &st);
        assert_int_equal(st, 400);
        json_decref(j);
    }
    /* 17 arguments */
    j = wc_post(
        &a, "/api/cmd",
        "{\"cmd\":\"post\",\"args\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
        "\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\","
        "\"16\",\"17\"]}",
        NULL, &st);
    assert_int_equal(st, 400);
    json_decref(j);
    assert_int_equal(hc_request(WEB, "GET", "/nothing", NULL, NULL, &r, 5000),
                     0);
    assert_int_equal(r.status, 404);
    hc_free(&r);
    wt_expect_has(&a, "whoami", 0, NULL, "la on app-"); /* still serving */
    free(body);
    free(hdr);
}

/* ---- login backoff ---------------------------------------------------- */

static void test_login_backoff(void **state)
{
    wc a, v;
    json_t *j;
    int st;

    assert_int_equal(wc_join(&a, WEB, "victim", "right"), 0);
    assert_int_equal(wc_open(&v, WEB), 0);
    for (int i = 0; i < 4; i++) {
        j = wc_post(&v, "/api/login",
                    "{\"name\":\"victim\",\"password\":\"wrong\"}", NULL, &st);
        char *l = wc_lines(j);
        assert_string_equal(l, "No such user or password error");
        free(l);
        json_decref(j);
    }
    /* the fifth try comes too soon: refused, even with the password */
    j = wc_post(&v, "/api/login",
                "{\"name\":\"victim\",\"password\":\"right\"}", NULL, &st);
    assert_int_equal(st, 429);
    char *l = wc_lines(j);
    assert_non_null(strstr(l, "Too many failed logins; try again in"));
    free(l);
    json_decref(j);
    wt_sleep_ms(1200);
    j = wc_post(&v, "/api/login",
                "{\"name\":\"victim\",\"password\":\"right\"}", NULL, &st);
    assert_true(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    /* a success clears it */
    j = wc_post(&v, "/api/login",
                "{\"name\":\"victim\",\"password\":\"wrong\"}", NULL, &st);
    assert_int_equal(st, 200);
    json_decref(j);
}

/* ---- acknowledgement after receipt ------------------------------------ */

static void test_ack_after_receipt(void **state)
{
    wc a, b;
    hc_sse es;
    const char *s1[] = {"kb", "first"}, *s2[] = {"kb", "second"};
    json_t *d;
    int st;
    char ack[64], hdr[64];
    long long seq1;

    assert_int_equal(wc_join(&a, WEB, "ka", "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "kb", "pw"), 0);
    wt_befriend(&a, &b);
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    wt_expect(&a, "send", 2, s1, "Success!");
    assert_non_null(d = wt_next_delivery(&es, 10000));
    seq1 = json_integer_value(json_object_get(d, "seq"));
    assert_string_equal(json_string_value(json_object_get(d, "line")),
                        "<<<ka->kb: first>>>");
    json_decref(d);
    /* dropped before acknowledging: the next stream gets it again */
    hc_sse_close(&es);
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    assert_non_null(d = wt_next_delivery(&es, 10000));
    assert_int_equal(json_integer_value(json_object_get(d, "seq")), seq1);
    json_decref(d);
    hc_sse_close(&es);
    /* a page that says it has seq1 (Last-Event-ID) is not sent it again */
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %lld\r\n", seq1);
    assert_int_equal(hc_sse_open(&es, WEB, "/api/events", b.cookie, hdr), 0);
    wt_expect(&a, "send", 2, s2, "Success!");
    assert_non_null(d = wt_next_delivery(&es, 10000));
    assert_string_equal(json_string_value(json_object_get(d, "text")),
                        "second");
    long long seq2 = json_integer_value(json_object_get(d, "seq"));
    json_decref(d);
    hc_sse_close(&es);
    /* acknowledged: gone for good, from the mailbox too */
    snprintf(ack, sizeof ack, "{\"seq\":%lld}", seq2);
    json_decref(wc_post(&b, "/api/ack", ack, NULL, &st));
    assert_int_equal(st, 200);
    wt_sleep_ms(300); /* the Ack reaches the app server */
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    assert_null(d = wt_next_delivery(&es, 1500));
    hc_sse_close(&es);
}

/* ---- a re-sent form is applied once ------------------------------------ */

/* The page re-sends a submission with its request id when the network
 * failed: the store must apply it once, and the answer is the same. */
static void test_same_rid_once(void **state)
{
    wc a, b;
    hc_sse es;
    int st;
    json_t *d;
    const char *post = "{\"cmd\":\"post\",\"args\":[\"once\"],"
                       "\"rid\":\"0190000000000000000000000000aa01\"}";
    const char *send = "{\"cmd\":\"send\",\"args\":[\"ob\",\"once too\"],"
                       "\"rid\":\"0190000000000000000000000000aa02\"}";

    assert_int_equal(wc_join(&a, WEB, "oa", "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "ob", "pw"), 0);
    wt_befriend(&a, &b);
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    for (int i = 0; i < 3; i++) {
        json_t *j = wc_post(&a, "/api/cmd", post, NULL, &st);
        char *l = wc_lines(j);
        assert_string_equal(l, "Success!");
        free(l);
        json_decref(j);
        j = wc_post(&a, "/api/cmd", send, NULL, &st);
        l = wc_lines(j);
        assert_string_equal(l, "Success!");
        free(l);
        json_decref(j);
    }
    wt_expect(&b, "receive-post", 0, NULL, "oa: once");
    assert_non_null(d = wt_next_delivery(&es, 10000));
    assert_string_equal(json_string_value(json_object_get(d, "text")),
                        "once too");
    json_decref(d);
    assert_null(wt_next_delivery(&es, 1500));
    hc_sse_close(&es);
    /* without an id, each submission is its own */
    const char *p2[] = {"twice"};
    wt_expect(&a, "post", 1, p2, "Success!");
    wt_expect(&a, "post", 1, p2, "Success!");
    wt_expect(&b, "receive-post", 0, NULL, "oa: once\noa: twice\noa: twice");
}

/* ---- a page that stops reading ---------------------------------------- */

static void test_reader_stops(void **state)
{
    wc a, b, c, d2;
    hc_sse es;
    enum { N = 300 };
    char text[512];

    assert_int_equal(wc_join(&a, WEB, "ra", "pw"), 0);
    assert_int_equal(wc_join(&b, WEB, "rb", "pw"), 0);
    assert_int_equal(wc_join(&c, WEB, "rc", "pw"), 0);
    assert_int_equal(wc_join(&d2, WEB, "rd", "pw"), 0);
    wt_befriend(&a, &b);
    wt_befriend(&c, &d2);
    /* rb's page opens its stream and never reads it */
    assert_int_equal(wt_stream(&es, &b, 0), 0);
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "m%03d %0400d", i, 0);
        const char *s[] = {"rb", text};
        wt_expect(&a, "send", 2, s, "Success!");
    }
    /* meanwhile, others are served as usual */
    const char *cd[] = {"rd", "unaffected"};
    int64_t t0 = wt_now_ms();
    wt_expect(&c, "send", 2, cd, "Success!");
    assert_true(wt_now_ms() - t0 < 3000);
    hc_sse_close(&es);
    /* then it reads (and acknowledges): every message once, in order */
    int got = wt_drain(&b, N, "m");
    assert_int_equal(got, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_texts_as_script),
        cmocka_unit_test(test_markup_every_field),
        cmocka_unit_test(test_stream_injection),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_login_backoff),
        cmocka_unit_test(test_ack_after_receipt),
        cmocka_unit_test(test_same_rid_once),
        cmocka_unit_test(test_reader_stops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
