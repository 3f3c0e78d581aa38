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

/** An event stream read incrementally (chunked transfer undone): feed it
 * bytes as they come, take whole events out. */
typedef struct hc_sse {
    int fd;
    int status; /* once the head is in */
    int head_done, chunked, closed;
    char *raw; /* undecoded bytes */
    size_t rlen, rcap;
    char *ev; /* decoded event text not yet taken */
    size_t elen, ecap;
} hc_sse;

/** Opens GET @path on a fresh connection with the @cookie header line
 * ("sb_sid=..."; NULL = none) and extra header lines (NULL = none).
 * Returns 0 or -1. */
int hc_sse_open(hc_sse *s, int port, const char *path, const char *cookie,
                const char *headers);
/** Reads what is there (non-blocking). 1 read something, 0 nothing, -1
 * closed. */
int hc_sse_pump(hc_sse *s);
/** Takes the next whole event ("event: x\ndata: y" without the blank
 * line) into a malloc'ed string, or NULL when none is complete. */
char *hc_sse_next(hc_sse *s);
void hc_sse_close(hc_sse *s);

#endif
