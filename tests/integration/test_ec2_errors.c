/* test_ec2_errors.c: the EC2 client's failure handling against
 * fake_aws.py on 127.0.0.1, one scenario per URL path: AuthFailure (clear
 * error, no retry), throttling then success, 5xx then success, 5xx every
 * time (bounded), InvalidInstanceID.NotFound, truncated / garbage / empty /
 * wrong-shaped bodies (AWS_EPARSE, no crash), a proxy's HTML error, a
 * refused connection (bounded retries), and paging. The fake recomputes
 * each request's SigV4 signature itself, so every success also checks the
 * signing on the wire. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ec2/test_ec2_proc.h"
#include "ec2_client.h"

static ec2_proc fake;
static aws_creds creds = {"AKIDTEST", "fake-secret", NULL, "test", 0};

static ec2_client *client_for(const char *scenario, int attempts,
                              const aws_creds *cr)
{
    char url[128];
    ec2_client *c = NULL;
    aws_error e;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s/", fake.port, scenario);
    ec2_config cfg = {.region = "us-east-1",
                      .endpoint = url,
                      .creds = cr ? cr : &creds,
                      .max_attempts = attempts,
                      .base_delay_ms = 10,
                      .max_delay_ms = 40,
                      .timeout_ms = 5000};
    assert_int_equal(ec2_client_new(&cfg, &c, &e), AWS_OK);
    return c;
}

/* How many requests the fake saw for a scenario. */
static int count(const char *scenario)
{
    char url[128], buf[32] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_count/%s", fake.port,
             scenario);
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 3000L);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    fclose(f);
    assert_int_equal(cc, CURLE_OK);
    return atoi(buf);
}

static aws_rc describe(const char *scenario, int attempts, ec2_instance_list *l,
                       aws_error *e)
{
    ec2_client *c = client_for(scenario, attempts, NULL);
    aws_rc rc = ec2_describe_instances(c, NULL, 0, NULL, 0, 0, l, e);
    ec2_client_free(c);
    return rc;
}

static void test_ok_paging(void **state)
{
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(describe("ok", 1, &l, &e), AWS_OK);
    assert_int_equal(l.n, 4); /* two pages of two */
    for (size_t i = 0; i < l.n; i++) {
        char id[32];
        snprintf(id, sizeof id, "i-%zu", i + 1);
        assert_string_equal(l.items[i].id, id);
        assert_string_equal(l.items[i].state, "running");
        assert_string_equal(l.items[i].private_ip, "10.0.0.5");
        assert_string_equal(l.items[i].launch_time, "2026-11-22T10:00:00.000Z");
        assert_string_equal(ec2_instance_tag(&l.items[i], "fleet"), "sb");
    }
    ec2_instance_list_free(&l);
    assert_int_equal(count("ok"), 2);
}

static void test_terminate_ok(void **state)
{
    ec2_client *c = client_for("ok", 1, NULL);
    ec2_state_change_list l;
    aws_error e;
    const char *ids[] = {"i-1", "i-2"};
    assert_int_equal(ec2_terminate_instances(c, ids, 2, &l, &e), AWS_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[1].id, "i-2");
    assert_string_equal(l.items[1].previous_state, "running");
    assert_string_equal(l.items[1].current_state, "shutting-down");
    ec2_state_change_list_free(&l);
    ec2_client_free(c);
}

static void test_auth_failure(void **state)
{
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(describe("authfail", 5, &l, &e), AWS_ESERVICE);
    assert_int_equal(e.rc, AWS_ESERVICE);
    assert_int_equal(e.http_status, 401);
    assert_string_equal(e.code, "AuthFailure");
    assert_non_null(strstr(e.message, "not able to validate"));
    assert_string_equal(e.request_id, "req-AuthFailure");
    assert_int_equal(e.attempts, 1);
    assert_int_equal(count("authfail"), 1); /* not retried */
    assert_int_equal(l.n, 0);
}

static void test_bad_signature_rejected(void **state)
{
    aws_creds wrong = {"AKIDTEST", "not-the-secret", NULL, "test", 0};
    ec2_client *c = client_for("ok", 3, &wrong);
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(ec2_describe_instances(c, NULL, 0, NULL, 0, 0, &l, &e),
                     AWS_ESERVICE);
    assert_string_equal(e.code, "SignatureDoesNotMatch");
    assert_int_equal(e.attempts, 1);
    ec2_client_free(c);
}

static void test_throttle_then_ok(void **state)
{
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(describe("throttle", 5, &l, &e), AWS_OK);
    assert_int_equal(l.n, 4);
    ec2_instance_list_free(&l);
    assert_int_equal(count("throttle"), 4); /* 2 throttled + 2 pages */
}

static void test_500_then_ok(void **state)
{
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(describe("err500", 5, &l, &e), AWS_OK);
    assert_int_equal(l.n, 4);
    ec2_instance_list_free(&l);
    assert_int_equal(count("err500"), 3);
}

static void test_503_gives_up(void **state)
{
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(describe("always503", 4, &l, &e), AWS_ESERVICE);
    assert_string_equal(e.code, "Unavailable");
    assert_int_equal(e.http_status, 503);
    assert_int_equal(e.attempts, 4);
    assert_int_equal(count("always503"), 4);
}

static void test_not_found(void **state)
{
    ec2_client *c = client_for("notfound", 5, NULL);
    ec2_state_change_list l;
    aws_error e;
    const char *ids[] = {"i-nope"};
    assert_int_equal(ec2_terminate_instances(c, ids, 1, &l, &e), AWS_ESERVICE);
    assert_string_equal(e.code, "InvalidInstanceID.NotFound");
    assert_non_null(strstr(e.message, "i-nope"));
    assert_int_equal(e.http_status, 400);
    assert_int_equal(count("notfound"), 1);
    assert_int_equal(l.n, 0);
    ec2_client_free(c);
}

static void test_malformed_bodies(void **state)
{
    const char *bad[] = {"truncated", "garbage", "empty", "wrongshape", "noid"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ec2_instance_list l;
        aws_error e;
        assert_int_equal(describe(bad[i], 5, &l, &e), AWS_EPARSE);
        assert_true(strlen(e.message) > 0);
        assert_int_equal(l.n, 0);
        assert_null(l.items);
        assert_int_equal(count(bad[i]), 1);
    }
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(describe("looptoken", 5, &l, &e), AWS_EPARSE);
    assert_non_null(strstr(e.message, "NextToken"));
}

static void test_html_error(void **state)
{
    ec2_instance_list l;
    aws_error e;
    assert_int_equal(describe("htmlerror", 2, &l, &e), AWS_ESERVICE);
    assert_int_equal(e.http_status, 502);
    assert_string_equal(e.code, "");
    assert_non_null(strstr(e.message, "Bad gateway"));
    assert_int_equal(count("htmlerror"), 2); /* 5xx is retried */
}

static void test_endpoint_down(void **state)
{
    char url[64];
    ec2_client *c = NULL;
    ec2_instance_list l;
    aws_error e;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", sb_free_port());
    ec2_config cfg = {.region = "us-east-1",
                      .endpoint = url,
                      .creds = &creds,
                      .max_attempts = 3,
                      .base_delay_ms = 20,
                      .max_delay_ms = 100,
                      .connect_timeout_ms = 1000};
    assert_int_equal(ec2_client_new(&cfg, &c, &e), AWS_OK);
    time_t t0 = time(NULL);
    assert_int_equal(ec2_describe_instances(c, NULL, 0, NULL, 0, 0, &l, &e),
                     AWS_ETRANSPORT);
    assert_true(time(NULL) - t0 <= 5);
    assert_int_equal(e.attempts, 3);
    assert_int_equal(e.http_status, 0);
    assert_non_null(strstr(e.message, "connect"));
    ec2_client_free(c);
}

static void test_bad_arguments(void **state)
{
    ec2_client *c = client_for("ok", 1, NULL);
    ec2_instance_list l;
    aws_error e;
    int before = count("ok");
    ec2_run_params p = {.image_id = "ami-1"};
    assert_int_equal(ec2_run_instances(c, &p, &l, &e), AWS_EINVAL);
    char *big = malloc(20000);
    memset(big, 'x', 19999);
    big[19999] = '\0';
    p.instance_type = "t3.micro";
    p.user_data = big;
    assert_int_equal(ec2_run_instances(c, &p, &l, &e), AWS_EINVAL);
    free(big);
    ec2_filter f = {"tag:fleet", NULL, 0};
    assert_int_equal(ec2_describe_instances(c, &f, 1, NULL, 0, 0, &l, &e),
                     AWS_EINVAL);
    assert_int_equal(ec2_describe_instances(c, NULL, 0, NULL, 0, 3, &l, &e),
                     AWS_EINVAL);
    ec2_state_change_list sl;
    assert_int_equal(ec2_terminate_instances(c, NULL, 0, &sl, &e), AWS_EINVAL);
    assert_int_equal(count("ok"), before); /* none of these was sent */
    ec2_client_free(c);
    ec2_config cfg = {
        .region = "us-east-1", .endpoint = "127.0.0.1:5", .creds = &creds};
    assert_int_equal(ec2_client_new(&cfg, &c, &e), AWS_EINVAL);
    assert_null(c);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (ec2_proc_start_fake("ec2", &fake) != 0) {
        fprintf(stderr, "cannot start fake_aws.py\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_paging),
        cmocka_unit_test(test_terminate_ok),
        cmocka_unit_test(test_auth_failure),
        cmocka_unit_test(test_bad_signature_rejected),
        cmocka_unit_test(test_throttle_then_ok),
        cmocka_unit_test(test_500_then_ok),
        cmocka_unit_test(test_503_gives_up),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_html_error),
        cmocka_unit_test(test_endpoint_down),
        cmocka_unit_test(test_bad_arguments),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ec2_proc_stop(&fake);
    curl_global_cleanup();
    return rc;
}
