/* test_sigv4.c: SigV4 checked byte for byte against AWS's test suite in
 * $SB_SHARED_DIR/data/aws-sigv4-test-suite (canonical request, string to
 * sign, Authorization header for every case), plus the signing key against
 * AWS's documented example and the signer's input checks. Exits 77 (skip)
 * when the suite is not there. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws_sigv4.h"
#include "aws_util.h"

#define MAX_CASES 64
#define MAX_HDRS 16

static char suite_dir[4096];
static char *case_paths[MAX_CASES]; /* ".../name/name" without extension */
static int n_cases;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    aws_buf b;
    aws_buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        aws_buf_add(&b, tmp, n);
    fclose(f);
    return aws_buf_take(&b);
}

static char *slurp_ext(const char *base, const char *ext)
{
    char p[16640];
    snprintf(p, sizeof p, "%s.%s", base, ext);
    char *s = slurp(p);
    if (s == NULL)
        fail_msg("cannot read %s", p);
    return s;
}

/* Collects every NAME/NAME.req under dir (the suite nests two levels). */
static void scan(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char p[8192];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        char req[16640];
        snprintf(req, sizeof req, "%s/%s.req", p, e->d_name);
        if (access(req, R_OK) == 0 && n_cases < MAX_CASES) {
            char base[16640];
            snprintf(base, sizeof base, "%s/%s", p, e->d_name);
            case_paths[n_cases++] = strdup(base);
        } else {
            scan(p);
        }
    }
    closedir(d);
}

/* A parsed .req file. Strings point into `text`. */
typedef struct req_file {
    char *text;
    char *method, *path, *query, *body;
    aws_sigv4_header h[MAX_HDRS];
    size_t nh;
} req_file;

/* Parses "METHOD target HTTP/1.1", header lines (a line starting with
 * whitespace continues the previous value; kept with its '\n' so the signer
 * sees the fold), a blank line and the body. The path may hold spaces, so
 * the target ends at the last " HTTP/". */
static void parse_req(req_file *r, char *text)
{
    memset(r, 0, sizeof *r);
    r->text = text;
    char *nl = strchr(text, '\n');
    char *line_end = nl ? nl : text + strlen(text);
    *line_end = '\0';
    char *sp = strchr(text, ' ');
    assert_non_null(sp);
    *sp = '\0';
    r->method = text;
    r->path = sp + 1;
    char *http = strstr(r->path, " HTTP/");
    for (char *x = http; x != NULL; x = strstr(x + 1, " HTTP/"))
        http = x;
    assert_non_null(http);
    *http = '\0';
    char *q = strchr(r->path, '?');
    if (q != NULL) {
        *q = '\0';
        r->query = q + 1;
    }
    char *p = nl ? nl + 1 : line_end;
    while (nl != NULL && *p != '\0' && *p != '\n') {
        nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (*p == ' ' || *p == '\t') {
            assert_true(r->nh > 0);
            p[-1] = '\n'; /* join the fold back onto the previous value */
        } else {
            char *colon = strchr(p, ':');
            assert_non_null(colon);
            *colon = '\0';
            assert_true(r->nh < MAX_HDRS);
            r->h[r->nh].name = p;
            r->h[r->nh++].value = colon + 1;
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    r->body = (nl != NULL && *p == '\n') ? p + 1 : p;
}

static const aws_sigv4_params suite_params = {
    .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "service",
    .amz_date = "20150830T123600Z",
};

static void sign_file(const char *base, aws_sigv4_result *res)
{
    req_file r;
    parse_req(&r, slurp_ext(base, "req"));
    aws_sigv4_request req = {r.method, r.path, r.query,       r.h,
                             r.nh,     r.body, strlen(r.body)};
    assert_int_equal(aws_sigv4_sign(&req, &suite_params, res), AWS_OK);
    free(r.text);
}

static const char *case_name(const char *base)
{
    const char *s = strrchr(base, '/');
    return s ? s + 1 : base;
}

/* Replaces the first `from` in s by `to` (s is malloc'd; returns new). */
static char *replace(char *s, const char *from, const char *to)
{
    char *at = strstr(s, from);
    assert_non_null(at);
    aws_buf b;
    aws_buf_init(&b);
    aws_buf_add(&b, s, (size_t)(at - s));
    aws_buf_adds(&b, to);
    aws_buf_adds(&b, at + strlen(from));
    free(s);
    return aws_buf_take(&b);
}

static void check_case(const char *base)
{
    const char *name = case_name(base);
    aws_sigv4_result res;
    sign_file(base, &res);
    char *creq = slurp_ext(base, "creq"), *sts = slurp_ext(base, "sts");
    char *authz = slurp_ext(base, "authz");
    if (strcmp(name, "post-x-www-form-urlencoded") == 0) {
        /* The suite's .creq lists "host;x-amz-date" as SignedHeaders,
         * although its own canonical headers, .sts hash and .authz all sign
         * content-type too (README.txt). .sts/.authz are right; fix the
         * one line and compare the rest byte for byte. */
        creq = replace(creq, "\nhost;x-amz-date\n",
                       "\ncontent-type;host;x-amz-date\n");
    }
    if (strcmp(name, "post-x-www-form-urlencoded-parameters") == 0) {
        /* The suite signs the form body as the canonical QUERY with an
         * empty payload hash. Real EC2 (botocore, curl's AWS_SIGV4) signs
         * an empty query and the body's hash, and that is what our POST
         * client must send, so we must NOT match this case. README.txt
         * gives the correct signature (botocore and curl agree). */
        char want_hash[65], *line;
        aws_sha256_hex("Param1=value1", 13, want_hash);
        assert_string_not_equal(res.canonical_request, creq);
        assert_non_null(strstr(res.canonical_request, "POST\n/\n\n"));
        line = strrchr(res.canonical_request, '\n');
        assert_string_equal(line + 1, want_hash);
        assert_string_equal(res.signature, "2f3b42f35f135abf9c562afcbbc44fc0"
                                           "3df96dcfd4332ecebad8b39a7d4b6125");
        assert_memory_equal(res.string_to_sign, sts, strrchr(sts, '\n') - sts);
    } else {
        if (strcmp(res.canonical_request, creq) != 0)
            print_error("%s: canonical request\n--- got\n%s\n--- want\n%s\n",
                        name, res.canonical_request, creq);
        assert_string_equal(res.canonical_request, creq);
        assert_string_equal(res.string_to_sign, sts);
        assert_string_equal(res.authorization, authz);
    }
    free(creq);
    free(sts);
    free(authz);
    aws_sigv4_result_free(&res);
}

static void test_suite_cases(void **state)
{
    /* 31 cases shipped (README.txt); fewer means a lost file, not a pass. */
    assert_int_equal(n_cases, 31);
    for (int i = 0; i < n_cases; i++)
        check_case(case_paths[i]);
}

/* sts-header-after: the token is added after signing, so the signature is
 * the plain one; sts-header-before signs it. Both covered by the cases;
 * here we check that the .sreq of "after" carries exactly our header. */
static void test_sreq_matches(void **state)
{
    for (int i = 0; i < n_cases; i++) {
        aws_sigv4_result res;
        if (strstr(case_paths[i], "form-urlencoded-parameters") != NULL)
            continue;
        sign_file(case_paths[i], &res);
        char *sreq = slurp_ext(case_paths[i], "sreq");
        char want[1024];
        snprintf(want, sizeof want, "Authorization: %s", res.authorization);
        const char *at = strstr(sreq, want);
        if (at == NULL || (at[strlen(want)] != '\n' && at[strlen(want)] != 0))
            fail_msg("%s: .sreq lacks our Authorization line",
                     case_name(case_paths[i]));
        free(sreq);
        aws_sigv4_result_free(&res);
    }
}

/* AWS General Reference, "Examples of how to derive a signing key". */
static void test_signing_key_documented(void **state)
{
    uint8_t k[32];
    char hex[65];
    assert_int_equal(aws_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEX"
                                           "AMPLEKEY",
                                           "20120215", "us-east-1", "iam", k),
                     AWS_OK);
    aws_hex(k, 32, hex);
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1"
                             "a9e090d414db404d");
    assert_int_equal(aws_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEX"
                                           "AMPLEKEY",
                                           "20150830", "us-east-1", "iam", k),
                     AWS_OK);
    aws_hex(k, 32, hex);
    assert_string_equal(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e"
                             "86da6ed3c154a4b9");
}

static void test_bad_input(void **state)
{
    aws_sigv4_result res;
    aws_sigv4_header bad[] = {{"Host", "x"}, {"Evil\r\nX", "y"}};
    aws_sigv4_header ok[] = {{"Host", "x"}};
    aws_sigv4_request r = {"GET", "/", NULL, bad, 2, NULL, 0};
    assert_int_equal(aws_sigv4_sign(&r, &suite_params, &res), AWS_EINVAL);
    assert_null(res.authorization);
    r.headers = ok;
    r.n_headers = 1;
    r.method = NULL;
    assert_int_equal(aws_sigv4_sign(&r, &suite_params, &res), AWS_EINVAL);
    r.method = "GET";
    aws_sigv4_params p = suite_params;
    p.amz_date = "2015-08-30";
    assert_int_equal(aws_sigv4_sign(&r, &p, &res), AWS_EINVAL);
    p.amz_date = NULL;
    assert_int_equal(aws_sigv4_sign(&r, &p, &res), AWS_EINVAL);
    assert_int_equal(aws_sigv4_sign(&r, &suite_params, &res), AWS_OK);
    aws_sigv4_result_free(&res);
}

static void test_amz_date(void **state)
{
    char d[17];
    aws_sigv4_amz_date(1440938160LL, d); /* the suite's timestamp */
    assert_string_equal(d, "20150830T123600Z");
}

int main(void)
{
    const char *shared = getenv("SB_SHARED_DIR");
    struct stat st;
    if (shared == NULL || shared[0] == '\0') {
        printf("SKIP: SB_SHARED_DIR is not set; no SigV4 test suite\n");
        return 77;
    }
    snprintf(suite_dir, sizeof suite_dir, "%s/data/aws-sigv4-test-suite",
             shared);
    if (stat(suite_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: %s not found\n", suite_dir);
        return 77;
    }
    scan(suite_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_cases),
        cmocka_unit_test(test_sreq_matches),
        cmocka_unit_test(test_signing_key_documented),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_amz_date),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (int i = 0; i < n_cases; i++)
        free(case_paths[i]);
    return rc;
}
