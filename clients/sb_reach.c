/* sb_reach.c: whether a server can be reached, said the one way every
 * client says it: "cannot connect to HOST:PORT: connection refused" (or
 * "unknown host", "timed out", ...). The RPC runtime only sees a call
 * that got no answer (its dialers retry quietly), so libsb asks the
 * network itself: a name lookup and one TCP connect, at start and after
 * a call that found nobody. */
#define _GNU_SOURCE /* EAI_NODATA */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb.h"
#include "sb_internal.h"

#define SB_UNREACHABLE "cannot connect to "

int sb_status_unreachable(const rpc_status *st)
{
    return st->code == RPC_UNAVAILABLE &&
           strncmp(st->message, SB_UNREACHABLE, strlen(SB_UNREACHABLE)) == 0;
}

static const char *why_not(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return "connection refused";
    case ETIMEDOUT:
        return "timed out";
    case EHOSTUNREACH:
        return "no route to host";
    case ENETUNREACH:
        return "network unreachable";
    default:
        return strerror(err);
    }
}

/* One connect to ai within ms. 0, or the errno. */
static int try_connect(const struct addrinfo *ai, int ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0), err = 0;
    struct pollfd p;
    socklen_t len = sizeof err;

    if (fd < 0)
        return errno;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            p = (struct pollfd){.fd = fd, .events = POLLOUT};
            int n;
            while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
                ;
            err = n == 0 ? ETIMEDOUT : n < 0 ? errno : 0;
            if (n > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
    }
    close(fd);
    return err;
}

int sb_probe(const char *host, int port, int timeout_ms, rpc_status *st)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM},
                    *res = NULL;
    char svc[16];
    int rv, err = ECONNREFUSED;

    if (host == NULL || host[0] == '\0' || port < 1 || port > 65535)
        return sb_status(st, RPC_INVALID_ARGUMENT, "bad address %s:%d",
                         host != NULL ? host : "", port);
    snprintf(svc, sizeof svc, "%d", port);
    if ((rv = getaddrinfo(host, svc, &hints, &res)) != 0) {
        if (rv == EAI_NONAME || rv == EAI_NODATA || rv == EAI_FAIL)
            return sb_status(st, RPC_UNAVAILABLE,
                             SB_UNREACHABLE "%s:%d: unknown host", host, port);
        return sb_status(st, RPC_UNAVAILABLE,
                         SB_UNREACHABLE "%s:%d: cannot look the host up "
                                        "(%s)",
                         host, port,
                         rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv));
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        if ((err = try_connect(ai, timeout_ms > 0 ? timeout_ms : 3000)) == 0)
            break;
    freeaddrinfo(res);
    if (err != 0)
        return sb_status(st, RPC_UNAVAILABLE, SB_UNREACHABLE "%s:%d: %s", host,
                         port, why_not(err));
    return sb_status(st, RPC_OK, "%s", "");
}

void sb_explain_unreachable(const char *url, rpc_status *st)
{
    char host[256];
    const char *p = url != NULL ? strstr(url, "://") : NULL, *colon;
    rpc_status probe;
    long port;

    if (st->code != RPC_UNAVAILABLE && st->code != RPC_DEADLINE_EXCEEDED)
        return;
    if (p == NULL || (colon = strrchr(p + 3, ':')) == NULL ||
        (size_t)(colon - (p + 3)) >= sizeof host)
        return; /* not tcp://HOST:PORT: nothing to probe */
    p += 3;
    if (*p == '[' && colon > p + 1 && colon[-1] == ']') /* tcp://[::1]:P */
        snprintf(host, sizeof host, "%.*s", (int)(colon - p - 2), p + 1);
    else
        snprintf(host, sizeof host, "%.*s", (int)(colon - p), p);
    port = strtol(colon + 1, NULL, 10);
    /* a server that answers (slowly, or with its own UNAVAILABLE) keeps
     * the runtime's words */
    if (sb_probe(host, (int)port, 1000, &probe) == RPC_UNAVAILABLE)
        *st = probe;
}
