/* aws_error.h: the one error type of the AWS layer (SigV4, credentials,
 * EC2 client). Every call that can fail returns an aws_rc and, when the
 * caller passes an aws_error, fills it with what went wrong in words: the
 * HTTP status, the AWS error code and message, and the request id. */
#ifndef AWS_ERROR_H
#define AWS_ERROR_H

#include <stddef.h>

/** Result codes. 0 is success; every failure is one of these. */
typedef enum aws_rc {
    AWS_OK = 0,
    AWS_EINVAL,     /**< bad argument or configuration (caller's fault) */
    AWS_ENOMEM,     /**< out of memory */
    AWS_ENOCREDS,   /**< no credentials anywhere in the chain */
    AWS_ECONFIG,    /**< a profile or config file is missing or malformed */
    AWS_ETRANSPORT, /**< connection refused, timeout, TLS or other curl error */
    AWS_ESERVICE,   /**< the service answered with an error (code/message) */
    AWS_EPARSE, /**< a response that is malformed, truncated or unexpected */
} aws_rc;

/** What went wrong, for the log and the status page. Fixed-size so it can
 * live on the stack and be copied; long strings are truncated. */
typedef struct aws_error {
    aws_rc rc;           /**< same value the call returned */
    long http_status;    /**< HTTP status of the last attempt, 0 if none */
    int attempts;        /**< attempts made (EC2 calls), 0 if not a request */
    char code[64];       /**< AWS error code, e.g. "AuthFailure"; "" if none */
    char message[512];   /**< AWS message or our own explanation */
    char request_id[96]; /**< AWS request id; "" if unknown */
} aws_error;

/** Returns a short constant name for rc ("ok", "invalid argument", ...). */
const char *aws_rc_str(aws_rc rc);

/** Clears err (if not NULL) to "no error". */
void aws_error_clear(aws_error *err);

/** Sets err (if not NULL): rc, the code (may be NULL) and a printf-style
 * message. Returns rc so a caller can `return aws_error_set(...)`. */
aws_rc aws_error_set(aws_error *err, aws_rc rc, const char *code,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
