/* aws_imds.c: instance-role credentials from the EC2 instance metadata
 * service, IMDSv2 only (a session token from PUT /latest/api/token is sent
 * on every GET). Timeouts are short because off EC2 the address does not
 * answer at all and the chain must fail quickly. The credential document
 * is a flat JSON object; a small strict reader takes its string fields. */
#define _GNU_SOURCE /* timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_creds.h"
#include "aws_http.h"
#include "aws_util.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_MAX_BODY (64u * 1024)

/* --- a strict reader for one flat JSON object's string members --------- */

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Parses a JSON string at p (at the '"'); out gets the decoded text (only
 * \uXXXX below 0x80 is kept literally, others become '?': credentials are
 * ASCII). Returns the position after the closing quote, or NULL. */
static const char *jstring(const char *p, aws_buf *out)
{
    if (*p++ != '"')
        return NULL;
    for (; *p != '"'; p++) {
        if (*p == '\0' || (unsigned char)*p < 0x20)
            return NULL;
        if (*p != '\\') {
            aws_buf_addc(out, *p);
            continue;
        }
        p++;
        const char *esc = strchr("\"\\/bfnrt", *p);
        if (*p != '\0' && esc != NULL) {
            aws_buf_addc(out, "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"]);
        } else if (*p == 'u') {
            unsigned v = 0;
            for (int i = 1; i <= 4; i++) {
                char c = p[i];
                int d = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (d < 0)
                    return NULL;
                v = v * 16 + (unsigned)d;
            }
            aws_buf_addc(out, v < 0x80 ? (char)v : '?');
            p += 4;
        } else {
            return NULL;
        }
    }
    return p + 1;
}

/* Skips a non-string scalar (number, true, false, null). Nested values are
 * not expected in the credential document and are refused. */
static const char *jscalar(const char *p)
{
    const char *s = p;
    while (*p != '\0' && strchr("+-.0123456789eEtruefalsn", *p) != NULL)
        p++;
    return p > s ? p : NULL;
}

/* Finds string members names[0..n) of the object in text; vals[i] gets a
 * malloc'd copy or NULL. Returns 0, or -1 when text is not one flat JSON
 * object (or memory ran out); then every vals[i] is NULL. */
static int json_fields(const char *text, const char *const *names, char **vals,
                       size_t n)
{
    const char *p = ws(text);
    for (size_t i = 0; i < n; i++)
        vals[i] = NULL;
    if (*p++ != '{')
        goto fail;
    p = ws(p);
    while (*p != '}') {
        aws_buf k, v;
        aws_buf_init(&k);
        aws_buf_init(&v);
        p = jstring(p, &k);
        if (p != NULL && *(p = ws(p)) == ':')
            p = ws(p + 1);
        else
            p = NULL;
        int is_str = p != NULL && *p == '"';
        if (p != NULL)
            p = is_str ? jstring(p, &v) : jscalar(p);
        for (size_t i = 0; p != NULL && is_str && i < n; i++)
            if (k.data != NULL && strcmp(k.data, names[i]) == 0 &&
                vals[i] == NULL)
                vals[i] = aws_buf_take(&v);
        int oom = k.oom || v.oom;
        aws_buf_free(&k);
        aws_buf_free(&v);
        if (p == NULL || oom)
            goto fail;
        p = ws(p);
        if (*p == ',')
            p = ws(p + 1);
        else if (*p != '}')
            goto fail;
    }
    if (*ws(p + 1) != '\0')
        goto fail;
    return 0;
fail:
    for (size_t i = 0; i < n; i++) {
        free(vals[i]);
        vals[i] = NULL;
    }
    return -1;
}

/* --- IMDSv2 ------------------------------------------------------------ */

static aws_rc imds_call(CURL *curl, const char *method, const char *url,
                        const char *header, aws_http_resp *resp, aws_error *err)
{
    const char *hdrs[] = {header, NULL};
    aws_http_req req = {method, url, hdrs, NULL, 0, 1000, 2000, IMDS_MAX_BODY};
    aws_rc rc = aws_http_perform(curl, &req, resp, err);
    if (rc != AWS_OK)
        return rc;
    if (resp->status != 200) {
        aws_error_set(err, AWS_ESERVICE, NULL, "IMDS %s %s: HTTP %ld", method,
                      url, resp->status);
        aws_http_resp_free(resp);
        return AWS_ESERVICE;
    }
    return AWS_OK;
}

static aws_rc fill_creds(const char *doc, const char *role, aws_creds *out,
                         aws_error *err)
{
    static const char *names[] = {"Code", "AccessKeyId", "SecretAccessKey",
                                  "Token", "Expiration"};
    char *v[5];
    if (json_fields(doc, names, v, 5) != 0)
        return aws_error_set(err, AWS_EPARSE, NULL,
                             "IMDS role %s: credential document is not a "
                             "JSON object",
                             role);
    aws_rc rc = AWS_OK;
    if (v[0] != NULL && strcmp(v[0], "Success") != 0) {
        rc = aws_error_set(err, AWS_ESERVICE, v[0], "IMDS role %s: Code is %s",
                           role, v[0]);
    } else if (v[1] == NULL || v[2] == NULL || !v[1][0] || !v[2][0]) {
        rc = aws_error_set(err, AWS_EPARSE, NULL,
                           "IMDS role %s: AccessKeyId or SecretAccessKey "
                           "missing",
                           role);
    } else {
        out->access_key_id = v[1];
        out->secret_access_key = v[2];
        out->session_token = v[3];
        v[1] = v[2] = v[3] = NULL;
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (v[4] != NULL && strptime(v[4], "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
            out->expiration = timegm(&tm);
        snprintf(out->source, sizeof out->source, "imds role %.70s", role);
    }
    for (int i = 0; i < 5; i++)
        free(v[i]);
    return rc;
}

aws_rc aws_creds_from_imds(const char *endpoint, aws_creds *out, aws_error *err)
{
    aws_rc rc;
    aws_http_resp tok = {0}, roles = {0}, doc = {0};
    char url[1024], hdr[1200], *role;
    memset(out, 0, sizeof *out);
    if (endpoint == NULL)
        endpoint = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (endpoint == NULL || endpoint[0] == '\0')
        endpoint = IMDS_DEFAULT;
    size_t el = strlen(endpoint);
    while (el > 0 && endpoint[el - 1] == '/')
        el--; /* "http://x/" and "http://x" both work */
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "curl_easy_init failed");
    snprintf(url, sizeof url, "%.*s/latest/api/token", (int)el, endpoint);
    if ((rc = imds_call(curl, "PUT", url,
                        "X-aws-ec2-metadata-token-ttl-seconds: 21600", &tok,
                        err)) != AWS_OK)
        goto out;
    tok.body[strcspn(tok.body, "\r\n")] = '\0';
    snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %.1000s", tok.body);
    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/",
             (int)el, endpoint);
    if ((rc = imds_call(curl, "GET", url, hdr, &roles, err)) != AWS_OK)
        goto out;
    role = roles.body;
    role[strcspn(role, "\r\n")] = '\0';
    if (role[0] == '\0' || strpbrk(role, "/?# ") != NULL ||
        strlen(role) > 128) {
        rc = aws_error_set(err, AWS_EPARSE, NULL,
                           "IMDS: no usable instance role (is an instance "
                           "profile attached?)");
        goto out;
    }
    snprintf(url, sizeof url,
             "%.*s/latest/meta-data/iam/security-credentials/%s", (int)el,
             endpoint, role);
    if ((rc = imds_call(curl, "GET", url, hdr, &doc, err)) != AWS_OK)
        goto out;
    rc = fill_creds(doc.body, role, out, err);
out:
    aws_http_resp_free(&tok);
    aws_http_resp_free(&roles);
    aws_http_resp_free(&doc);
    curl_easy_cleanup(curl);
    if (rc != AWS_OK)
        aws_creds_free(out);
    return rc;
}
