/* ec2_client.c: the EC2 client's transport: configuration, the signed POST,
 * and the retry loop (exponential backoff with full jitter on throttling,
 * 5xx and connection errors). Each attempt is signed afresh so its
 * x-amz-date is current; the form body, and so any ClientToken in it, is
 * the same on every attempt. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_http.h"
#include "aws_sigv4.h"
#include "ec2_internal.h"
#include "sb_log.h"

struct ec2_client {
    pthread_mutex_t lock;
    CURL *curl;
    char *region, *endpoint, *host, *path;
    aws_creds creds;
    int own_creds; /* resolved by us, so refreshed by us */
    int max_attempts, base_delay_ms, max_delay_ms;
    long connect_timeout_ms, timeout_ms;
};

void ec2_form_add(aws_buf *b, const char *key, const char *value)
{
    aws_buf_addc(b, '&');
    aws_uri_encode(b, key, strlen(key), 0);
    aws_buf_addc(b, '=');
    aws_uri_encode(b, value, strlen(value), 0);
}

void ec2_form_addf(aws_buf *b, const char *value, const char *keyfmt, ...)
{
    char key[256];
    va_list ap;
    va_start(ap, keyfmt);
    vsnprintf(key, sizeof key, keyfmt, ap);
    va_end(ap);
    ec2_form_add(b, key, value);
}

/* Splits "scheme://authority/path" into host (authority) and path. */
static aws_rc split_url(ec2_client *c, aws_error *err)
{
    const char *p = strstr(c->endpoint, "://");
    if (p == NULL || (strncmp(c->endpoint, "http://", 7) != 0 &&
                      strncmp(c->endpoint, "https://", 8) != 0))
        return aws_error_set(err, AWS_EINVAL, NULL,
                             "EC2 endpoint %s: not an http(s) URL",
                             c->endpoint);
    p += 3;
    size_t hl = strcspn(p, "/?#");
    if (hl == 0 || p[hl] == '?' || p[hl] == '#' || memchr(p, '@', hl))
        return aws_error_set(err, AWS_EINVAL, NULL,
                             "EC2 endpoint %s: want scheme://host[:port]"
                             "[/path] without query or user",
                             c->endpoint);
    c->host = strndup(p, hl);
    c->path = strdup(p[hl] == '/' ? p + hl : "/");
    if (c->host == NULL || c->path == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    return AWS_OK;
}

static aws_rc client_setup(ec2_client *c, const ec2_config *cfg, aws_error *err)
{
    aws_rc rc;
    c->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 5;
    c->base_delay_ms = cfg->base_delay_ms > 0 ? cfg->base_delay_ms : 100;
    c->max_delay_ms = cfg->max_delay_ms > 0 ? cfg->max_delay_ms : 5000;
    c->connect_timeout_ms =
        cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 3000;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    if (cfg->region != NULL)
        c->region = strdup(cfg->region);
    else if ((rc = aws_region_resolve(&c->region, err)) != AWS_OK)
        return rc;
    if (c->region == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    if (cfg->endpoint != NULL)
        c->endpoint = strdup(cfg->endpoint);
    else if ((rc = aws_ec2_endpoint_resolve(c->region, &c->endpoint, err)) !=
             AWS_OK)
        return rc;
    if (c->endpoint == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    if ((rc = split_url(c, err)) != AWS_OK)
        return rc;
    c->own_creds = cfg->creds == NULL;
    if (cfg->creds != NULL) {
        if (cfg->creds->access_key_id == NULL ||
            cfg->creds->secret_access_key == NULL)
            return aws_error_set(err, AWS_EINVAL, NULL,
                                 "credentials without key id or secret");
        if (aws_creds_copy(&c->creds, cfg->creds) != AWS_OK)
            return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    } else if ((rc = aws_creds_resolve(&c->creds, err)) != AWS_OK) {
        return rc;
    }
    if ((c->curl = curl_easy_init()) == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "curl_easy_init failed");
    return AWS_OK;
}

aws_rc ec2_client_new(const ec2_config *cfg, ec2_client **out, aws_error *err)
{
    static const ec2_config defaults;
    aws_rc rc;
    *out = NULL;
    aws_error_clear(err);
    ec2_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    if ((rc = client_setup(c, cfg ? cfg : &defaults, err)) != AWS_OK) {
        sb_error(EC2_LOG, "cannot create EC2 client: %s",
                 err ? err->message : aws_rc_str(rc));
        ec2_client_free(c);
        return rc;
    }
    sb_info(EC2_LOG, "EC2 client: endpoint %s, region %s, credentials from %s",
            c->endpoint, c->region, c->creds.source);
    *out = c;
    return AWS_OK;
}

void ec2_client_free(ec2_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    aws_creds_free(&c->creds);
    free(c->region);
    free(c->endpoint);
    free(c->host);
    free(c->path);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const char *ec2_client_endpoint(const ec2_client *c)
{
    return c->endpoint;
}
const char *ec2_client_region(const ec2_client *c)
{
    return c->region;
}

/* Instance-role credentials expire; fetch new ones in good time. */
static aws_rc refresh_creds(ec2_client *c, aws_error *err)
{
    if (!c->own_creds || c->creds.expiration == 0 ||
        time(NULL) < c->creds.expiration - 300)
        return AWS_OK;
    aws_creds fresh;
    aws_rc rc = aws_creds_resolve(&fresh, err);
    if (rc != AWS_OK)
        return rc;
    aws_creds_free(&c->creds);
    c->creds = fresh;
    sb_info(EC2_LOG, "refreshed credentials from %s", c->creds.source);
    return AWS_OK;
}

/* Signs and sends one attempt. */
static aws_rc attempt(ec2_client *c, const char *body, aws_http_resp *resp,
                      aws_error *err)
{
    char date[17], hhost[512], hdate[40], hauth[1024], htok[4096];
    aws_sigv4_result sig;
    aws_sigv4_amz_date((long long)time(NULL), date);
    const char *ctype = "application/x-www-form-urlencoded; charset=utf-8";
    aws_sigv4_header h[4] = {{"Content-Type", ctype},
                             {"Host", c->host},
                             {"X-Amz-Date", date},
                             {"X-Amz-Security-Token", c->creds.session_token}};
    size_t nh = c->creds.session_token != NULL ? 4 : 3;
    aws_sigv4_request req = {"POST", c->path, NULL, h, nh, body, strlen(body)};
    aws_sigv4_params sp = {c->creds.access_key_id, c->creds.secret_access_key,
                           c->region, "ec2", date};
    aws_rc rc = aws_sigv4_sign(&req, &sp, &sig);
    if (rc != AWS_OK)
        return aws_error_set(err, rc, NULL, "cannot sign request: %s",
                             aws_rc_str(rc));
    snprintf(hhost, sizeof hhost, "Host: %s", c->host);
    snprintf(hdate, sizeof hdate, "X-Amz-Date: %s", date);
    snprintf(hauth, sizeof hauth, "Authorization: %s", sig.authorization);
    snprintf(htok, sizeof htok, "X-Amz-Security-Token: %s",
             c->creds.session_token ? c->creds.session_token : "");
    const char *lines[] = {"Content-Type: application/x-www-form-urlencoded; "
                           "charset=utf-8",
                           hhost,
                           hdate,
                           hauth,
                           nh == 4 ? htok : NULL,
                           NULL};
    aws_http_req hr = {"POST",        c->endpoint,  lines,
                       body,          strlen(body), c->connect_timeout_ms,
                       c->timeout_ms, 16u << 20};
    rc = aws_http_perform(c->curl, &hr, resp, err);
    aws_sigv4_result_free(&sig);
    return rc;
}

static int is_throttle(const char *code)
{
    static const char *codes[] = {"RequestLimitExceeded", "Throttling",
                                  "ThrottlingException", "RequestThrottled",
                                  NULL};
    for (int i = 0; codes[i] != NULL; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

/* Turns a non-2xx answer into err. Returns 1 if it is worth retrying. */
static int http_failure(const aws_http_resp *resp, aws_error *err)
{
    xmlDocPtr doc = NULL;
    aws_error perr;
    aws_error_set(err, AWS_ESERVICE, NULL, "HTTP %ld", resp->status);
    err->http_status = resp->status;
    snprintf(err->request_id, sizeof err->request_id, "%s", resp->request_id);
    if (ec2_xml_parse(resp->body, resp->body_len, &doc, &perr) != AWS_OK ||
        !ec2_xml_error(doc, err)) {
        /* Not EC2's error XML (a proxy's page, say): show its start. */
        char snip[160];
        size_t i, n = 0;
        for (i = 0; i < resp->body_len && n + 1 < sizeof snip; i++)
            snip[n++] = (resp->body[i] >= 0x20 && resp->body[i] < 0x7f)
                            ? resp->body[i]
                            : ' ';
        snip[n] = '\0';
        snprintf(err->message, sizeof err->message,
                 "HTTP %ld with no EC2 error document: \"%s\"", resp->status,
                 snip);
    }
    xmlFreeDoc(doc);
    return resp->status >= 500 || resp->status == 429 || is_throttle(err->code);
}

static void backoff_sleep(const ec2_client *c, int n)
{
    long cap = c->base_delay_ms;
    for (int i = 1; i < n && cap < c->max_delay_ms; i++)
        cap *= 2;
    if (cap > c->max_delay_ms)
        cap = c->max_delay_ms;
    uint32_t r = 0;
    if (aws_random_bytes(&r, sizeof r) != 0)
        r = (uint32_t)time(NULL);
    long ms = (long)(r % (uint32_t)(cap + 1));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* One attempt's outcome: 0 done (success or final failure), 1 retry. */
static int one_attempt(ec2_client *c, const char *action, const char *body,
                       xmlDocPtr *doc, aws_error *err, aws_rc *rc)
{
    aws_http_resp resp;
    aws_error_clear(err);
    *rc = attempt(c, body, &resp, err);
    if (*rc == AWS_ETRANSPORT)
        return 1;
    if (*rc != AWS_OK)
        return 0;
    int retry = 0;
    if (resp.status >= 200 && resp.status < 300) {
        *rc = ec2_xml_parse(resp.body, resp.body_len, doc, err);
        if (*rc != AWS_OK) {
            err->http_status = resp.status;
            snprintf(err->request_id, sizeof err->request_id, "%s",
                     resp.request_id);
            char m[sizeof err->message];
            snprintf(m, sizeof m, "%.40s response: %.400s", action,
                     err->message);
            memcpy(err->message, m, sizeof m);
        }
    } else {
        retry = http_failure(&resp, err);
        *rc = AWS_ESERVICE;
    }
    aws_http_resp_free(&resp);
    return retry;
}

aws_rc ec2_call(ec2_client *c, const char *action, const char *params,
                xmlDocPtr *doc, aws_error *err)
{
    aws_error local;
    aws_rc rc;
    aws_buf body;
    int n = 0;
    if (err == NULL)
        err = &local;
    *doc = NULL;
    aws_buf_init(&body);
    aws_buf_printf(&body, "Action=%s&Version=%s%s", action, EC2_API_VERSION,
                   params);
    if (body.oom)
        return aws_error_set(err, AWS_ENOMEM, NULL, "out of memory");
    pthread_mutex_lock(&c->lock);
    if ((rc = refresh_creds(c, err)) != AWS_OK)
        goto out;
    for (n = 1;; n++) {
        int retry = one_attempt(c, action, body.data, doc, err, &rc);
        err->attempts = n;
        if (!retry || n >= c->max_attempts)
            break;
        sb_warn(EC2_LOG,
                "%s attempt %d/%d failed (HTTP %ld %s: %s)%s%s; "
                "retrying",
                action, n, c->max_attempts, err->http_status,
                err->code[0] ? err->code : aws_rc_str(rc), err->message,
                err->request_id[0] ? " request id " : "", err->request_id);
        backoff_sleep(c, n);
    }
out:
    pthread_mutex_unlock(&c->lock);
    aws_buf_free(&body);
    if (rc != AWS_OK)
        sb_error(EC2_LOG, "%s failed after %d attempt%s: HTTP %ld %s: %s%s%s",
                 action, n, n == 1 ? "" : "s", err->http_status,
                 err->code[0] ? err->code : aws_rc_str(rc), err->message,
                 err->request_id[0] ? "; request id " : "",
                 err->request_id[0] ? err->request_id : "");
    err->rc = rc;
    return rc;
}
