/* test_ec2_moto.c: the EC2 client's whole cycle against moto's EC2 server
 * on 127.0.0.1, configured the way an operator would (environment: the
 * endpoint override, keys, region; IMDS off): RunInstances with tags and
 * user data, DescribeInstances by tag and state finds them running, the
 * user data decodes back, TerminateInstances, and Describe then shows them
 * shutting-down or terminated. Skips (exit 77) without moto. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ec2/test_ec2_proc.h"
#include "ec2_client.h"

static ec2_proc moto;
static ec2_client *client;

static const char *user_data =
    "#!/bin/sh\n# cloud-init: start the app server\n"
    "exec sbd app --orchestrator tcp://10.0.0.1:8890 --name \"app-1\"\n";

static int setup(void **state)
{
    char url[64];
    aws_error e;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", moto.port);
    setenv("AWS_ENDPOINT_URL_EC2", url, 1);
    setenv("AWS_ACCESS_KEY_ID", "testing", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    unsetenv("AWS_PROFILE");
    ec2_config cfg = {.base_delay_ms = 50, .timeout_ms = 15000};
    return ec2_client_new(&cfg, &client, &e) == AWS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    ec2_client_free(client);
    return 0;
}

static void describe_fleet(const char *fleet, const char *const *states,
                           size_t n_states, ec2_instance_list *l)
{
    char tag[64];
    aws_error e;
    snprintf(tag, sizeof tag, "tag:%s", "sb-fleet");
    const char *vals[] = {fleet};
    ec2_filter f[2] = {{tag, vals, 1},
                       {"instance-state-name", states, n_states}};
    assert_int_equal(
        ec2_describe_instances(client, f, states ? 2 : 1, NULL, 0, 0, l, &e),
        AWS_OK);
}

static void test_cycle(void **state)
{
    ec2_instance_list run, found, other;
    ec2_state_change_list term;
    aws_error e;
    const char *groups[] = {"sg-0123456789abcdef0"};
    ec2_tag tags[] = {{"sb-fleet", "test-fleet"}, {"Name", "sb-app"}};
    ec2_run_params p = {.image_id = "ami-12c6146b",
                        .instance_type = "t3.micro",
                        .min_count = 2,
                        .max_count = 2,
                        .security_group_ids = groups,
                        .n_security_group_ids = 1,
                        .key_name = NULL,
                        .instance_profile = NULL,
                        .user_data = user_data,
                        .tags = tags,
                        .n_tags = 2,
                        .client_token = "sb-test-token-1"};
    /* moto checks the group exists: proves SecurityGroupId.1 is sent */
    assert_int_equal(ec2_run_instances(client, &p, &run, &e), AWS_ESERVICE);
    assert_string_equal(e.code, "InvalidGroup.NotFound");
    assert_non_null(strstr(e.message, groups[0]));
    assert_int_equal(run.n, 0);
    p.n_security_group_ids = 0;
    assert_int_equal(ec2_run_instances(client, &p, &run, &e), AWS_OK);
    assert_int_equal(run.n, 2);
    for (size_t i = 0; i < run.n; i++) {
        assert_non_null(run.items[i].id);
        assert_int_equal(strncmp(run.items[i].id, "i-", 2), 0);
        assert_non_null(run.items[i].private_ip);
        assert_string_equal(ec2_instance_tag(&run.items[i], "sb-fleet"),
                            "test-fleet");
    }

    /* another fleet's instance must not show up in ours */
    ec2_tag other_tags[] = {{"sb-fleet", "other"}};
    p.tags = other_tags;
    p.n_tags = 1;
    p.min_count = p.max_count = 1;
    p.client_token = "sb-test-token-2";
    assert_int_equal(ec2_run_instances(client, &p, &other, &e), AWS_OK);

    const char *running[] = {"running"};
    describe_fleet("test-fleet", running, 1, &found);
    assert_int_equal(found.n, 2);
    for (size_t i = 0; i < found.n; i++) {
        assert_string_equal(found.items[i].state, "running");
        assert_string_equal(ec2_instance_tag(&found.items[i], "Name"),
                            "sb-app");
        assert_non_null(found.items[i].launch_time);
        assert_true(strcmp(found.items[i].id, run.items[0].id) == 0 ||
                    strcmp(found.items[i].id, run.items[1].id) == 0);
    }
    ec2_instance_list_free(&found);

    char *ud = NULL;
    size_t udl = 0;
    assert_int_equal(ec2_get_user_data(client, run.items[0].id, &ud, &udl, &e),
                     AWS_OK);
    assert_int_equal(udl, strlen(user_data));
    assert_string_equal(ud, user_data);
    free(ud);

    const char *ids[] = {run.items[0].id, run.items[1].id};
    assert_int_equal(ec2_terminate_instances(client, ids, 2, &term, &e),
                     AWS_OK);
    assert_int_equal(term.n, 2);
    for (size_t i = 0; i < term.n; i++) {
        assert_string_equal(term.items[i].previous_state, "running");
        assert_true(strcmp(term.items[i].current_state, "shutting-down") == 0 ||
                    strcmp(term.items[i].current_state, "terminated") == 0);
    }
    ec2_state_change_list_free(&term);

    describe_fleet("test-fleet", running, 1, &found);
    assert_int_equal(found.n, 0); /* none running any more */
    ec2_instance_list_free(&found);
    describe_fleet("test-fleet", NULL, 0, &found);
    assert_int_equal(found.n, 2);
    for (size_t i = 0; i < found.n; i++)
        assert_true(strcmp(found.items[i].state, "shutting-down") == 0 ||
                    strcmp(found.items[i].state, "terminated") == 0);
    ec2_instance_list_free(&found);

    describe_fleet("other", running, 1, &found);
    assert_int_equal(found.n, 1);
    assert_string_equal(found.items[0].id, other.items[0].id);
    ec2_instance_list_free(&found);
    ec2_instance_list_free(&other);
    ec2_instance_list_free(&run);
}

static void test_not_found(void **state)
{
    ec2_state_change_list term;
    aws_error e;
    const char *ids[] = {"i-0000000000000dead"};
    assert_int_equal(ec2_terminate_instances(client, ids, 1, &term, &e),
                     AWS_ESERVICE);
    assert_string_equal(e.code, "InvalidInstanceID.NotFound");
    assert_int_equal(e.http_status, 400);
    assert_non_null(strstr(e.message, "i-0000000000000dead"));
}

static void test_paging(void **state)
{
    ec2_instance_list run, all;
    aws_error e;
    ec2_tag tags[] = {{"sb-fleet", "paged"}};
    ec2_run_params p = {.image_id = "ami-12c6146b",
                        .instance_type = "t3.micro",
                        .min_count = 7,
                        .tags = tags,
                        .n_tags = 1};
    assert_int_equal(ec2_run_instances(client, &p, &run, &e), AWS_OK);
    assert_int_equal(run.n, 7);
    const char *vals[] = {"paged"};
    ec2_filter f = {"tag:sb-fleet", vals, 1};
    /* 5 per page: the 7 come back over two pages */
    assert_int_equal(
        ec2_describe_instances(client, &f, 1, NULL, 0, 5, &all, &e), AWS_OK);
    assert_int_equal(all.n, 7);
    ec2_instance_list_free(&all);
    ec2_instance_list_free(&run);
}

int main(void)
{
    if (!ec2_proc_have_moto()) {
        printf("SKIP: python3 cannot import moto; EC2 cycle not tested\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (ec2_proc_start_moto(&moto) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_paging),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    ec2_proc_stop(&moto);
    curl_global_cleanup();
    return rc;
}
