/* aws_http.c: a single bounded HTTP exchange over a libcurl easy handle.
 * Redirects are not followed (a signed request must not wander), only
 * http/https are allowed, and signals are off (CURLOPT_NOSIGNAL) so that
 * timeouts are safe in threaded programs. Proxies follow curl's usual
 * environment variables (http_proxy, no_proxy). */
#include "aws_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_util.h"

typedef struct sink {
    aws_buf buf;
    size_t max;
    int too_big;
    char *request_id;
    size_t rid_cap;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    if (s->buf.len + len > s->max) {
        s->too_big = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    aws_buf_add(&s->buf, p, len);
    return s->buf.oom ? 0 : len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    static const char *names[] = {"x-amzn-requestid:", "x-amz-request-id:"};
    for (int i = 0; i < 2; i++) {
        size_t nl = strlen(names[i]);
        if (len > nl && strncasecmp(p, names[i], nl) == 0) {
            size_t a = nl, b = len;
            while (a < b && (p[a] == ' ' || p[a] == '\t'))
                a++;
            while (b > a &&
                   (p[b - 1] == '\r' || p[b - 1] == '\n' || p[b - 1] == ' '))
                b--;
            size_t m = b - a < s->rid_cap - 1 ? b - a : s->rid_cap - 1;
            memcpy(s->request_id, p + a, m);
            s->request_id[m] = '\0';
        }
    }
    return len;
}

static struct curl_slist *make_headers(const char *const *h)
{
    struct curl_slist *l = NULL, *t;
    /* curl adds "Expect: 100-continue" to large POSTs; the signature does
     * not cover it and it costs a round trip, so switch it off. */
    if ((l = curl_slist_append(l, "Expect:")) == NULL)
        return NULL;
    for (; h != NULL && *h != NULL; h++) {
        if ((t = curl_slist_append(l, *h)) == NULL) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = t;
    }
    return l;
}

aws_rc aws_http_perform(CURL *curl, const aws_http_req *req,
                        aws_http_resp *resp, aws_error *err)
{
    aws_rc rc = AWS_OK;
    sink s;
    memset(resp, 0, sizeof *resp);
    memset(&s, 0, sizeof s);
    aws_buf_init(&s.buf);
    s.max = req->max_response ? req->max_response : (8u << 20);
    s.request_id = resp->request_id;
    s.rid_cap = sizeof resp->request_id;
    struct curl_slist *hl = make_headers(req->headers);
    if (hl == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->body != NULL || strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
    }
    CURLcode cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (s.too_big) {
        rc = aws_error_set(err, AWS_EPARSE, NULL,
                           "response from %s larger than %zu bytes", req->url,
                           s.max);
    } else if (s.buf.oom) {
        rc = aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    } else if (cc != CURLE_OK) {
        rc = aws_error_set(err, AWS_ETRANSPORT, NULL, "%s %s: %s", req->method,
                           req->url, curl_easy_strerror(cc));
    }
    if (err != NULL)
        err->http_status = resp->status;
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
    if (rc != AWS_OK) {
        aws_buf_free(&s.buf);
        return rc;
    }
    resp->body_len = s.buf.len;
    resp->body = aws_buf_take(&s.buf);
    if (resp->body == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    return AWS_OK;
}

void aws_http_resp_free(aws_http_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
}
