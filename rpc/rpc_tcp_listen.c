/* rpc_tcp_listen.c: a tcp:// URL to a listening, non-blocking socket, for
 * the epoll engine (rpc_sp_tcp.c). Accepts the host forms nng's listeners
 * do: a name or address, "[v6]", and "" or "*" for every address. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nng/nng.h>

#include "rpc_server_internal.h"

/* Splits "tcp://host:port" ("", "*" or "[v6]" host allowed); 0 or -1. */
static int split_url(const char *url, char *host, size_t hn, char *port,
                     size_t pn)
{
    if (strncmp(url, "tcp://", 6) != 0)
        return -1;
    const char *h = url + 6, *colon = strrchr(h, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= pn)
        return -1;
    size_t len = (size_t)(colon - h);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h++;
        len -= 2;
    }
    if (len >= hn)
        return -1;
    memcpy(host, h, len);
    host[len] = '\0';
    if (strcmp(host, "*") == 0)
        host[0] = '\0';
    snprintf(port, pn, "%s", colon + 1);
    return 0;
}

int rpc_tcp_listen_fd(const char *url, int *out_fd, int *out_port)
{
    char host[256], port[16];
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res = NULL;
    if (split_url(url, host, sizeof host, port, sizeof port) != 0)
        return NNG_EADDRINVAL;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0 ||
        res == NULL)
        return NNG_EADDRINVAL;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0),
        one = 1, rv = 0;
    if (fd < 0) {
        rv = NNG_ENOMEM;
        goto out;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        rv = errno == EADDRINUSE ? NNG_EADDRINUSE : NNG_EADDRINVAL;
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        rv = NNG_EADDRINUSE;
        goto out;
    }
    *out_port =
        ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    *out_fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return rv;
}
