/* aws_http.h: one HTTP request over libcurl with a bounded body and
 * bounded time (internal to the AWS layer). IMDS and the EC2 client both
 * go through here so timeouts, size limits and error text are uniform. */
#ifndef AWS_HTTP_H
#define AWS_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "aws_error.h"

typedef struct aws_http_req {
    const char *method; /* "GET", "PUT", "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated */
    const char *body;           /* may be NULL */
    size_t body_len;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response; /* larger responses fail with AWS_EPARSE */
} aws_http_req;

typedef struct aws_http_resp {
    long status; /* 0 when no response arrived */
    char *body;  /* NUL-terminated; caller frees */
    size_t body_len;
    char request_id[96]; /* x-amzn-requestid / x-amz-request-id */
} aws_http_resp;

/* Performs req on curl (a reusable easy handle; options are reset first).
 * Returns AWS_OK when any HTTP response arrived (whatever its status);
 * AWS_ETRANSPORT (err says which curl error) when none did;
 * AWS_EPARSE when the body exceeded max_response; AWS_ENOMEM. */
aws_rc aws_http_perform(CURL *curl, const aws_http_req *req,
                        aws_http_resp *resp, aws_error *err);

void aws_http_resp_free(aws_http_resp *resp);

#endif
