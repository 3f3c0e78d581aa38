/* aws_sigv4.c: AWS Signature Version 4. The canonical request is built
 * byte for byte as the AWS test suite expects (path normalisation, sorted
 * and re-encoded query, lower-cased, trimmed, merged headers); the rest is
 * an HMAC-SHA256 chain. Header values folded over several lines (obs-fold)
 * are signed as their lines joined with ',', as the suite does. */
#include "aws_sigv4.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws_util.h"

/* --- canonical URI ------------------------------------------------------ */

static void canonical_uri(aws_buf *b, const char *path)
{
    if (path == NULL || path[0] == '\0')
        path = "/";
    size_t n = strlen(path);
    /* Start offsets and lengths of kept segments; ".." pops one. */
    size_t cap = n / 2 + 2, nseg = 0;
    size_t *off = malloc(cap * sizeof *off), *len = malloc(cap * sizeof *len);
    if (off == NULL || len == NULL) {
        b->oom = 1;
        goto out;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t l = j - i;
        if (l == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (nseg > 0)
                nseg--;
        } else if (l > 0 && !(l == 1 && path[i] == '.')) {
            off[nseg] = i;
            len[nseg++] = l;
        }
        i = j + 1;
    }
    aws_buf_addc(b, '/');
    for (size_t k = 0; k < nseg; k++) {
        if (k > 0)
            aws_buf_addc(b, '/');
        aws_uri_encode(b, path + off[k], len[k], 0);
    }
    if (nseg > 0 && path[n - 1] == '/')
        aws_buf_addc(b, '/');
out:
    free(off);
    free(len);
}

/* --- canonical query ---------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX in s[0..n) then re-encodes it the AWS way. */
static void reencode(aws_buf *b, const char *s, size_t n)
{
    char *tmp = malloc(n + 1);
    size_t o = 0;
    if (tmp == NULL) {
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
            hexval(s[i + 2]) >= 0) {
            tmp[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            tmp[o++] = s[i];
        }
    }
    aws_uri_encode(b, tmp, o, 0);
    free(tmp);
}

typedef struct qpair {
    char *key;
    char *val;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : strcmp(x->val, y->val);
}

static void canonical_query(aws_buf *b, const char *q)
{
    if (q == NULL || q[0] == '\0')
        return;
    size_t n = strlen(q), cap = 1, np = 0;
    for (size_t i = 0; i < n; i++)
        cap += q[i] == '&';
    qpair *p = calloc(cap, sizeof *p);
    if (p == NULL) {
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t kl = eq != NULL ? (size_t)(eq - (q + i)) : j - i;
            aws_buf k, v;
            aws_buf_init(&k);
            aws_buf_init(&v);
            reencode(&k, q + i, kl);
            if (eq != NULL)
                reencode(&v, eq + 1, j - i - kl - 1);
            p[np].key = aws_buf_take(&k);
            p[np].val = aws_buf_take(&v);
            if (p[np].key == NULL || p[np].val == NULL)
                b->oom = 1;
            np++;
        }
        i = j + 1;
    }
    if (!b->oom) {
        qsort(p, np, sizeof *p, qpair_cmp);
        for (size_t k = 0; k < np; k++)
            aws_buf_printf(b, "%s%s=%s", k ? "&" : "", p[k].key, p[k].val);
    }
    for (size_t k = 0; k < np; k++) {
        free(p[k].key);
        free(p[k].val);
    }
    free(p);
}

/* --- canonical headers -------------------------------------------------- */

typedef struct hdr {
    char *name;  /* lower-cased */
    char *value; /* trimmed, spaces collapsed, folded lines joined by ',' */
    size_t order;
} hdr;

static int hdr_cmp(const void *a, const void *b)
{
    const hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static char *canonical_value(const char *v)
{
    aws_buf b;
    aws_buf_init(&b);
    int pending_space = 0, line_start = 1;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') { /* a folded line starts a new list element */
            pending_space = 0;
            if (b.len > 0)
                aws_buf_addc(&b, ',');
            line_start = 1;
        } else if (*p == ' ' || *p == '\t') {
            pending_space = !line_start;
        } else {
            if (pending_space)
                aws_buf_addc(&b, ' ');
            pending_space = 0;
            line_start = 0;
            aws_buf_addc(&b, *p);
        }
    }
    return aws_buf_take(&b);
}

static aws_rc canonical_headers(aws_buf *b, aws_buf *sh,
                                const aws_sigv4_request *req)
{
    aws_rc rc = AWS_OK;
    hdr *h = calloc(req->n_headers + 1, sizeof *h);
    if (h == NULL)
        return AWS_ENOMEM;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *nm = req->headers[i].name;
        const char *v = req->headers[i].value ? req->headers[i].value : "";
        if (nm == NULL || nm[0] == '\0' || strpbrk(nm, "\r\n: \t") != NULL) {
            rc = AWS_EINVAL;
            goto out;
        }
        h[i].order = i;
        h[i].name = strdup(nm);
        h[i].value = canonical_value(v);
        if (h[i].name == NULL || h[i].value == NULL) {
            rc = AWS_ENOMEM;
            goto out;
        }
        for (char *c = h[i].name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    qsort(h, req->n_headers, sizeof *h, hdr_cmp);
    for (size_t i = 0; i < req->n_headers; i++) {
        int same = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same) {
            aws_buf_printf(b, ",%s", h[i].value);
            continue;
        }
        aws_buf_printf(b, "%s%s:%s", i > 0 ? "\n" : "", h[i].name, h[i].value);
        aws_buf_printf(sh, "%s%s", i > 0 ? ";" : "", h[i].name);
    }
    if (req->n_headers > 0)
        aws_buf_addc(b, '\n');
out:
    for (size_t i = 0; i < req->n_headers; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
    return rc;
}

/* --- stages ------------------------------------------------------------- */

aws_rc aws_sigv4_canonical_request(const aws_sigv4_request *req, char **out,
                                   char **signed_headers)
{
    aws_buf b, sh;
    aws_rc rc;
    char payload_hash[65];
    *out = NULL;
    if (signed_headers != NULL)
        *signed_headers = NULL;
    if (req == NULL || req->method == NULL || req->method[0] == '\0' ||
        (req->n_headers > 0 && req->headers == NULL))
        return AWS_EINVAL;
    aws_buf_init(&b);
    aws_buf_init(&sh);
    aws_buf_printf(&b, "%s\n", req->method);
    canonical_uri(&b, req->path);
    aws_buf_addc(&b, '\n');
    canonical_query(&b, req->query);
    aws_buf_addc(&b, '\n');
    if ((rc = canonical_headers(&b, &sh, req)) != AWS_OK)
        goto fail;
    aws_sha256_hex(req->payload, req->payload_len, payload_hash);
    aws_buf_printf(&b, "\n%s\n%s", sh.data ? sh.data : "", payload_hash);
    if (b.oom || sh.oom) {
        rc = AWS_ENOMEM;
        goto fail;
    }
    *out = aws_buf_take(&b);
    if (signed_headers != NULL)
        *signed_headers = aws_buf_take(&sh);
    if (signed_headers != NULL && *signed_headers == NULL) {
        free(*out);
        *out = NULL;
        return AWS_ENOMEM;
    }
    aws_buf_free(&sh);
    return AWS_OK;
fail:
    aws_buf_free(&b);
    aws_buf_free(&sh);
    return rc;
}

aws_rc aws_sigv4_string_to_sign(const char *amz_date, const char *scope,
                                const char *canonical_request, char **out)
{
    char h[65];
    aws_buf b;
    *out = NULL;
    if (amz_date == NULL || scope == NULL || canonical_request == NULL)
        return AWS_EINVAL;
    aws_sha256_hex(canonical_request, strlen(canonical_request), h);
    aws_buf_init(&b);
    aws_buf_printf(&b, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, h);
    *out = aws_buf_take(&b);
    return *out != NULL ? AWS_OK : AWS_ENOMEM;
}

aws_rc aws_sigv4_signing_key(const char *secret_access_key, const char *date8,
                             const char *region, const char *service,
                             uint8_t key[32])
{
    if (secret_access_key == NULL || date8 == NULL || region == NULL ||
        service == NULL)
        return AWS_EINVAL;
    size_t sl = strlen(secret_access_key);
    char *k0 = malloc(sl + 5);
    if (k0 == NULL)
        return AWS_ENOMEM;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret_access_key, sl + 1);
    uint8_t a[32], c[32];
    int bad = aws_hmac_sha256(k0, sl + 4, date8, strlen(date8), a) ||
              aws_hmac_sha256(a, 32, region, strlen(region), c) ||
              aws_hmac_sha256(c, 32, service, strlen(service), a) ||
              aws_hmac_sha256(a, 32, "aws4_request", 12, key);
    free(k0);
    return bad ? AWS_ENOMEM : AWS_OK;
}

aws_rc aws_sigv4_signature(const uint8_t key[32], const char *string_to_sign,
                           char sig_hex[65])
{
    uint8_t mac[32];
    if (string_to_sign == NULL)
        return AWS_EINVAL;
    if (aws_hmac_sha256(key, 32, string_to_sign, strlen(string_to_sign), mac) !=
        0)
        return AWS_ENOMEM;
    aws_hex(mac, 32, sig_hex);
    return AWS_OK;
}

aws_rc aws_sigv4_authorization(const char *access_key_id, const char *scope,
                               const char *signed_headers, const char *sig_hex,
                               char **out)
{
    aws_buf b;
    *out = NULL;
    if (access_key_id == NULL || scope == NULL || signed_headers == NULL ||
        sig_hex == NULL)
        return AWS_EINVAL;
    aws_buf_init(&b);
    aws_buf_printf(&b,
                   "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                   "Signature=%s",
                   access_key_id, scope, signed_headers, sig_hex);
    *out = aws_buf_take(&b);
    return *out != NULL ? AWS_OK : AWS_ENOMEM;
}

static int valid_amz_date(const char *d)
{
    if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

aws_rc aws_sigv4_sign(const aws_sigv4_request *req,
                      const aws_sigv4_params *params, aws_sigv4_result *res)
{
    aws_rc rc;
    char date8[9], *scope = NULL;
    uint8_t key[32];
    aws_buf sb;
    memset(res, 0, sizeof *res);
    if (params == NULL || params->access_key_id == NULL ||
        params->region == NULL || params->service == NULL ||
        !valid_amz_date(params->amz_date))
        return AWS_EINVAL;
    memcpy(date8, params->amz_date, 8);
    date8[8] = '\0';
    aws_buf_init(&sb);
    aws_buf_printf(&sb, "%s/%s/%s/aws4_request", date8, params->region,
                   params->service);
    if ((scope = aws_buf_take(&sb)) == NULL)
        return AWS_ENOMEM;
    if ((rc = aws_sigv4_canonical_request(req, &res->canonical_request,
                                          &res->signed_headers)) != AWS_OK ||
        (rc = aws_sigv4_string_to_sign(params->amz_date, scope,
                                       res->canonical_request,
                                       &res->string_to_sign)) != AWS_OK ||
        (rc = aws_sigv4_signing_key(params->secret_access_key, date8,
                                    params->region, params->service, key)) !=
            AWS_OK ||
        (rc = aws_sigv4_signature(key, res->string_to_sign, res->signature)) !=
            AWS_OK ||
        (rc = aws_sigv4_authorization(params->access_key_id, scope,
                                      res->signed_headers, res->signature,
                                      &res->authorization)) != AWS_OK)
        goto fail;
    free(scope);
    return AWS_OK;
fail:
    free(scope);
    aws_sigv4_result_free(res);
    return rc;
}

void aws_sigv4_result_free(aws_sigv4_result *res)
{
    if (res == NULL)
        return;
    free(res->canonical_request);
    free(res->signed_headers);
    free(res->string_to_sign);
    free(res->authorization);
    memset(res, 0, sizeof *res);
}

void aws_sigv4_amz_date(long long t, char out[17])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
