/* hc.h: a tiny HTTP/1.1 client over plain sockets for the web tests and
 * `sb-bench web`: it sends exactly the bytes it is given (so tests can
 * send malformed, oversized or trickled requests) and parses a response
 * (Content-Length, chunked, or until close), with a time limit on each
 * wait. Loopback only; nothing here retries. */
#ifndef SB_HC_H
#define SB_HC_H

#include <stddef.h>

typedef struct hc_resp {
    int status; /* 0 when no status line came */
    char *head; /* the status line and headers, NUL-ended (owned) */
    char *body; /* decoded body (chunked undone), NUL-ended (owned) */
    size_t blen;
    int closed; /* the server closed the connection after it */
} hc_resp;

/** Connects to 127.0.0.1:port; returns the socket or -1. */
int hc_connect(int port);
/** Sends all of @n bytes; 0 or -1. */
int hc_send(int fd, const void *p, size_t n);
/** Reads one response within @ms milliseconds. Returns 0, or -1 (timeout,
 * closed before a whole response: r->status may still be set). */
int hc_read(int fd, hc_resp *r, int ms);
/** One request on a fresh connection, then close: method, path, extra
 * header lines (each ending in \r\n, or NULL), body (NULL = none).
 * Returns 0 or -1. */
int hc_request(int port, const char *method, const char *path,
               const char *headers, const char *body, hc_resp *r, int ms);
/** A header's value in r->head (case-insensitive), copied into buf; NULL
 * when absent. */
const char *hc_header(const hc_resp *r, const char *name, char *buf, size_t n);
void hc_free(hc_resp *r);
/** Whether the peer has closed @fd within @ms (reads and drops data). */
int hc_wait_closed(int fd, int ms);

#endif
