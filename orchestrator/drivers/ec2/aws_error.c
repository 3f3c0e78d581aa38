/* aws_error.c: filling and naming the AWS layer's one error type. */
#include "aws_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *aws_rc_str(aws_rc rc)
{
    static const char *names[] = {
        "ok",
        "invalid argument",
        "out of memory",
        "no credentials",
        "configuration error",
        "transport error",
        "service error",
        "malformed response",
    };
    if ((unsigned)rc < sizeof names / sizeof names[0])
        return names[rc];
    return "unknown error";
}

void aws_error_clear(aws_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

aws_rc aws_error_set(aws_error *err, aws_rc rc, const char *code,
                     const char *fmt, ...)
{
    if (err == NULL)
        return rc;
    err->rc = rc;
    snprintf(err->code, sizeof err->code, "%s", code != NULL ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return rc;
}
