/* sb_netutil.c: see sb_netutil.h. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb_netutil.h"

int sb_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t n = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &n) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Whether a fresh TCP socket can bind (connect = 0) or connect (1) to
 * 127.0.0.1:port right now. */
static int loopback_try(int port, int connect_it)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = (connect_it ? connect(fd, (struct sockaddr *)&a, sizeof a)
                     : bind(fd, (struct sockaddr *)&a, sizeof a)) == 0;
    close(fd);
    return ok;
}

int sb_free_port_range(int n)
{
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);

    for (int t = 0; t < 100; t++) {
        int p = 10000 + (int)(rand_r(&seed) % 22000u), ok = 1;

        for (int i = 0; i < n && ok; i++)
            ok = loopback_try(p + i, 0);
        if (ok)
            return p;
    }
    return -1;
}

int sb_connect_loopback(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int sb_port_accepts(int port)
{
    return loopback_try(port, 1);
}

long sb_proc_kib(int pid, const char *field)
{
    char path[64], line[256];
    size_t n = strlen(field);
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, n) == 0 && line[n] == ':' &&
            sscanf(line + n + 1, "%ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}
