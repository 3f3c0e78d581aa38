/* test_fleet_status.c: the status page served by nng's HTTP server on
 * 127.0.0.1 (a free port), fetched with libcurl: HTML (with escaping of
 * hostile user names), JSON, Prometheus metrics with the extra hook,
 * /healthz and an unknown path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "fleet.h"
#include "fleet_local.h"
#include "status.h"

typedef struct body {
    char *p;
    size_t n;
} body;

static size_t on_data(char *d, size_t sz, size_t nm, void *arg)
{
    body *b = arg;
    char *p = realloc(b->p, b->n + sz * nm + 1);

    assert_non_null(p);
    memcpy(p + b->n, d, sz * nm);
    b->p = p;
    b->n += sz * nm;
    b->p[b->n] = 0;
    return sz * nm;
}

/* GET http://127.0.0.1:port/path; returns the status code. */
static long get(int port, const char *path, body *b, char *ctype, size_t cap)
{
    CURL *c = curl_easy_init();
    char url[256];
    long code = 0;
    char *ct = NULL;

    memset(b, 0, sizeof(*b));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(ctype, cap, "%s", ct != NULL ? ct : "");
    curl_easy_cleanup(c);
    return code;
}

static void extra(void *arg, status_buf *b)
{
    status_buf_printf(b, "sb_rpc_calls_total{method=\"x\"} %d\n", *(int *)arg);
}

static const char *const users[] = {"<script>alert(1)</script>",
                                    "bob&amp;",
                                    "q\"uote's",
                                    "bad\xff\xfe",
                                    "ctl\x01\n",
                                    "\xc3\xbcn\xc3\xaf"};

static void test_status_page(void **state)
{
    char dir[] = "/tmp/sb-status-XXXXXX", ct[128], cmd[64];
    const char *argv[] = {"/bin/false", NULL};
    fleet_local_options lo = {argv, "status-test", 0};
    status_options so = {"http://127.0.0.1:0", NULL, extra, NULL};
    fleet_options o;
    status_server *srv;
    fleet_assignment a;
    rpc_status st;
    fleet *f;
    body b;
    int port, calls = 42;

    assert_non_null(mkdtemp(dir));
    fleet_options_init(&o);
    o.data_dir = dir;
    o.name = "status-<test>";
    o.driver = &fleet_local_driver;
    assert_int_equal(fleet_local_create(&lo, &o.driver_ctx, &st), RPC_OK);
    assert_int_equal(fleet_open(&o, &f, &st), RPC_OK);
    assert_int_equal(
        fleet_register(f, "app-<b>&1", "tcp://127.0.0.1:4\"1", 0, NULL, &st),
        RPC_OK);
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
        assert_int_equal(fleet_assign(f, users[i], &a, &st), RPC_OK);
    so.fleet = f;
    so.extra_arg = &calls;
    assert_int_equal(status_server_start(&so, &srv, &st), RPC_OK);
    port = status_server_port(srv);
    assert_true(port > 0);

    assert_int_equal(get(port, "/", &b, ct, sizeof(ct)), 200);
    assert_non_null(strstr(ct, "text/html"));
    assert_null(strstr(b.p, "<script>"));
    assert_non_null(strstr(b.p, "<td>&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(b.p, "<td>bob&amp;amp;</td>"));
    assert_non_null(strstr(b.p, "<td>q&quot;uote&#39;s</td>"));
    assert_non_null(strstr(b.p, "<td>bad&#xFFFD;&#xFFFD;</td>"));
    assert_non_null(strstr(b.p, "<td>ctl&#xFFFD;&#xFFFD;</td>"));
    assert_non_null(strstr(b.p, "<td>\xc3\xbcn\xc3\xaf</td>"));
    assert_non_null(strstr(b.p, "<tr id=\"srv-app-%3Cb%3E%261\">"));
    assert_non_null(strstr(b.p, "<a href=\"#srv-app-%3Cb%3E%261\">"
                                "app-&lt;b&gt;&amp;1</a>"));
    assert_non_null(strstr(b.p, "tcp://127.0.0.1:4&quot;1"));
    assert_non_null(strstr(b.p, "Fleet status-&lt;test&gt; (driver local)"));
    assert_non_null(strstr(b.p, "6/10"));
    free(b.p);

    assert_int_equal(get(port, "/api/fleet", &b, ct, sizeof(ct)), 200);
    assert_string_equal(ct, "application/json");
    assert_non_null(strstr(b.p, "{\"user\":\"<script>alert(1)</script>\","
                                "\"server\":\"app-<b>&1\"}"));
    assert_non_null(strstr(b.p, "\"user\":\"q\\\"uote's\""));
    assert_non_null(strstr(b.p, "\"user\":\"bad\\ufffd\\ufffd\""));
    assert_non_null(strstr(b.p, "\"user\":\"ctl\\u0001\\u000a\""));
    assert_non_null(strstr(b.p, "\"endpoint\":\"tcp://127.0.0.1:4\\\"1\""));
    assert_non_null(strstr(b.p, "\"state\":\"up\",\"capacity\":10,"
                                "\"users\":6"));
    assert_non_null(strstr(b.p, "\"assigns\":6"));
    assert_null(strchr(b.p, '\x01'));
    free(b.p);

    assert_int_equal(get(port, "/metrics", &b, ct, sizeof(ct)), 200);
    assert_non_null(strstr(ct, "text/plain; version=0.0.4"));
    assert_non_null(strstr(b.p, "sb_fleet_servers{state=\"up\"} 1\n"));
    assert_non_null(strstr(b.p, "sb_fleet_servers{state=\"dead\"} 0\n"));
    assert_non_null(strstr(b.p, "sb_fleet_users 6\n"));
    assert_non_null(strstr(b.p, "# TYPE sb_fleet_assigns_total counter\n"
                                "sb_fleet_assigns_total 6\n"));
    assert_non_null(strstr(b.p, "sb_fleet_launches_total 0\n"));
    assert_non_null(strstr(b.p, "sb_rpc_calls_total{method=\"x\"} 42\n"));
    free(b.p);

    /* A release shows at once. */
    assert_int_equal(fleet_release(f, users[0], &st), RPC_OK);
    assert_int_equal(get(port, "/metrics", &b, ct, sizeof(ct)), 200);
    assert_non_null(strstr(b.p, "sb_fleet_users 5\n"));
    assert_non_null(strstr(b.p, "sb_fleet_releases_total 1\n"));
    free(b.p);

    assert_int_equal(get(port, "/healthz", &b, ct, sizeof(ct)), 200);
    assert_string_equal(b.p, "ok\n");
    free(b.p);
    assert_int_equal(get(port, "/no-such-page", &b, ct, sizeof(ct)), 404);
    free(b.p);

    status_server_stop(srv);
    fleet_close(f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_bad_url(void **state)
{
    status_options so = {"not a url", (fleet *)&so, NULL, NULL};
    status_server *srv = NULL;
    rpc_status st;

    assert_int_equal(status_server_start(&so, &srv, &st), RPC_INVALID_ARGUMENT);
    assert_non_null(strstr(st.message, "not a url"));
    so.fleet = NULL;
    assert_int_equal(status_server_start(&so, &srv, &st), RPC_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_page),
        cmocka_unit_test(test_bad_url),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
