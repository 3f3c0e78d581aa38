/* test_aws_creds.c: the credential chain, region and endpoint resolution,
 * with real files in a temporary HOME and real environment variables, and
 * the IMDSv2 step against fake_aws.py on 127.0.0.1 (which refuses GETs
 * without the session token, so success proves the v2 handshake). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws_creds.h"
#include "ec2/test_ec2_proc.h"

static char home[256];
static ec2_proc imds;

static const char *vars[] = {"AWS_ACCESS_KEY_ID",
                             "AWS_SECRET_ACCESS_KEY",
                             "AWS_SESSION_TOKEN",
                             "AWS_PROFILE",
                             "AWS_SHARED_CREDENTIALS_FILE",
                             "AWS_CONFIG_FILE",
                             "AWS_REGION",
                             "AWS_DEFAULT_REGION",
                             "AWS_ENDPOINT_URL",
                             "AWS_ENDPOINT_URL_EC2",
                             "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                             "AWS_EC2_METADATA_DISABLED",
                             NULL};

static void write_file(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", home, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Every test starts from a clean environment, an empty ~/.aws, and IMDS
 * disabled (tests of IMDS switch it on). */
static int reset(void **state)
{
    char p[512];
    for (int i = 0; vars[i] != NULL; i++)
        unsetenv(vars[i]);
    setenv("HOME", home, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    snprintf(p, sizeof p, "%s/.aws/credentials", home);
    unlink(p);
    snprintf(p, sizeof p, "%s/.aws/config", home);
    unlink(p);
    return 0;
}

static void test_env_first(void **state)
{
    aws_creds c;
    aws_error e;
    write_file(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\n"
                                   "aws_secret_access_key = filesecret\n");
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_OK);
    assert_string_equal(c.access_key_id, "ENVKEY");
    assert_string_equal(c.secret_access_key, "envsecret");
    assert_string_equal(c.session_token, "envtoken");
    assert_string_equal(c.source, "environment");
    assert_int_equal(c.expiration, 0);
    aws_creds_free(&c);
}

static void test_env_partial(void **state)
{
    aws_creds c;
    aws_error e;
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_EINVAL);
    assert_non_null(strstr(e.message, "environment"));
    assert_null(c.access_key_id);
}

static void test_default_profile(void **state)
{
    aws_creds c;
    aws_error e;
    write_file(".aws/credentials",
               "# comment\n[other]\naws_access_key_id=OTHER\n"
               "aws_secret_access_key=x\n\n[default]\n"
               "  ; indented lines are nested settings, ignored\n"
               "aws_access_key_id   =   DEFKEY  \r\n"
               "aws_secret_access_key = def/secret+1\n");
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_OK);
    assert_string_equal(c.access_key_id, "DEFKEY");
    assert_string_equal(c.secret_access_key, "def/secret+1");
    assert_null(c.session_token);
    assert_non_null(strstr(c.source, "profile default"));
    aws_creds_free(&c);
}

static void test_named_profile_files(void **state)
{
    aws_creds c;
    aws_error e;
    char cred[512], conf[512];
    snprintf(cred, sizeof cred, "%s/my-creds", home);
    snprintf(conf, sizeof conf, "%s/my-config", home);
    write_file("my-creds", "[dev]\naws_access_key_id = DEV\n"
                           "aws_secret_access_key = devsecret\n"
                           "aws_session_token = devtok\n");
    write_file("my-config", "[profile cfgonly]\naws_access_key_id = CFG\n"
                            "aws_secret_access_key = cfgsecret\n"
                            "region = eu-west-3\n"
                            "[bare]\naws_access_key_id = BARE\n"
                            "aws_secret_access_key = bare\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_CONFIG_FILE", conf, 1);
    setenv("AWS_PROFILE", "dev", 1);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_OK);
    assert_string_equal(c.access_key_id, "DEV");
    assert_string_equal(c.session_token, "devtok");
    aws_creds_free(&c);
    /* config sections are "[profile NAME]" */
    setenv("AWS_PROFILE", "cfgonly", 1);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_OK);
    assert_string_equal(c.access_key_id, "CFG");
    aws_creds_free(&c);
    char *region = NULL;
    assert_int_equal(aws_region_resolve(&region, &e), AWS_OK);
    assert_string_equal(region, "eu-west-3");
    free(region);
    /* "[bare]" in the config is not profile "bare" */
    setenv("AWS_PROFILE", "bare", 1);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_ECONFIG);
    assert_non_null(strstr(e.message, "AWS_PROFILE=bare"));
}

static void test_missing_profile(void **state)
{
    aws_creds c;
    aws_error e;
    setenv("AWS_PROFILE", "nope", 1);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_ECONFIG);
    assert_non_null(strstr(e.message, "no such profile"));
    char *region = NULL;
    assert_int_equal(aws_region_resolve(&region, &e), AWS_ECONFIG);
    assert_null(region);
}

static void test_nothing_anywhere(void **state)
{
    aws_creds c;
    aws_error e;
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_ENOCREDS);
    assert_non_null(strstr(e.message, "AWS_EC2_METADATA_DISABLED"));
}

static void test_region_order(void **state)
{
    char *r = NULL;
    aws_error e;
    write_file(".aws/config", "[default]\nregion = ap-south-1\n");
    assert_int_equal(aws_region_resolve(&r, &e), AWS_OK);
    assert_string_equal(r, "ap-south-1");
    free(r);
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    assert_int_equal(aws_region_resolve(&r, &e), AWS_OK);
    assert_string_equal(r, "us-west-2");
    free(r);
    setenv("AWS_REGION", "eu-north-1", 1);
    assert_int_equal(aws_region_resolve(&r, &e), AWS_OK);
    assert_string_equal(r, "eu-north-1");
    free(r);
    reset(NULL);
    assert_int_equal(aws_region_resolve(&r, &e), AWS_ECONFIG);
    assert_non_null(strstr(e.message, "AWS_REGION"));
}

static void test_endpoint_order(void **state)
{
    char *u = NULL;
    aws_error e;
    assert_int_equal(aws_ec2_endpoint_resolve("eu-west-1", &u, &e), AWS_OK);
    assert_string_equal(u, "https://ec2.eu-west-1.amazonaws.com");
    free(u);
    assert_int_equal(aws_ec2_endpoint_resolve(NULL, &u, &e), AWS_EINVAL);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/", 1);
    assert_int_equal(aws_ec2_endpoint_resolve("eu-west-1", &u, &e), AWS_OK);
    assert_string_equal(u, "http://127.0.0.1:1/");
    free(u);
    setenv("AWS_ENDPOINT_URL_EC2", "https://ec2.example:8443", 1);
    assert_int_equal(aws_ec2_endpoint_resolve(NULL, &u, &e), AWS_OK);
    assert_string_equal(u, "https://ec2.example:8443");
    free(u);
    setenv("AWS_ENDPOINT_URL_EC2", "ftp://x", 1);
    assert_int_equal(aws_ec2_endpoint_resolve("x", &u, &e), AWS_EINVAL);
    assert_non_null(strstr(e.message, "AWS_ENDPOINT_URL_EC2"));
}

static void imds_env(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
}

static void test_imds(void **state)
{
    aws_creds c;
    aws_error e;
    if (imds.port <= 0)
        skip();
    imds_env(imds.port);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_OK);
    assert_string_equal(c.access_key_id, "ASIAIMDS");
    assert_string_equal(c.secret_access_key, "imds/secret");
    assert_string_equal(c.session_token, "imds-session-token");
    assert_string_equal(c.source, "imds role sb-role");
    assert_int_equal(c.expiration, 4071006245); /* 2099-01-02T03:04:05Z */
    aws_creds_free(&c);
    /* profile beats IMDS */
    write_file(".aws/credentials", "[default]\naws_access_key_id=P\n"
                                   "aws_secret_access_key=p\n");
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_OK);
    assert_string_equal(c.access_key_id, "P");
    aws_creds_free(&c);
    /* disabled: IMDS is not asked even though it would answer */
    reset(NULL);
    imds_env(imds.port);
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_ENOCREDS);
}

static void test_imds_bad_document(void **state)
{
    ec2_proc bad;
    aws_creds c;
    aws_error e;
    if (ec2_proc_start_fake("imds-bad", &bad) != 0)
        skip();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", bad.port);
    aws_rc rc = aws_creds_from_imds(url, &c, &e);
    ec2_proc_stop(&bad);
    assert_int_equal(rc, AWS_EPARSE);
    assert_non_null(strstr(e.message, "sb-role"));
    assert_null(c.access_key_id);
}

static void test_imds_down(void **state)
{
    aws_creds c;
    aws_error e;
    imds_env(sb_free_port());
    time_t t0 = time(NULL);
    assert_int_equal(aws_creds_resolve(&c, &e), AWS_ENOCREDS);
    assert_true(time(NULL) - t0 <= 4); /* short timeouts, no retry storm */
    assert_non_null(strstr(e.message, "instance role"));
}

int main(void)
{
    snprintf(home, sizeof home, "/tmp/sb-creds-XXXXXX");
    if (mkdtemp(home) == NULL)
        return 1;
    char aws[300];
    snprintf(aws, sizeof aws, "%s/.aws", home);
    mkdir(aws, 0700);
    if (ec2_proc_start_fake("imds", &imds) != 0)
        print_message("fake IMDS did not start; IMDS tests skipped\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_env_first, reset),
        cmocka_unit_test_setup(test_env_partial, reset),
        cmocka_unit_test_setup(test_default_profile, reset),
        cmocka_unit_test_setup(test_named_profile_files, reset),
        cmocka_unit_test_setup(test_missing_profile, reset),
        cmocka_unit_test_setup(test_nothing_anywhere, reset),
        cmocka_unit_test_setup(test_region_order, reset),
        cmocka_unit_test_setup(test_endpoint_order, reset),
        cmocka_unit_test_setup(test_imds, reset),
        cmocka_unit_test_setup(test_imds_bad_document, reset),
        cmocka_unit_test_setup(test_imds_down, reset),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ec2_proc_stop(&imds);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", home);
    return rc;
}
