/* rpc_plane.c: which URLs keep the internal plane private
 * (rpc_plane_check): an internal service listens, and a service sends its
 * role credential, only where no other host can listen in or connect
 * without a deployment certificate: inproc://, ipc:// in a directory that
 * is ours alone, tcp:// on loopback, or tls+tcp:// with mutual TLS. An
 * ipc:// listener's directory is made 0700 when missing (rpc_ipc_prepare);
 * a directory others may write is refused, since another user could put
 * a socket of theirs where our clients dial. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc_server_internal.h"

/* The host of "scheme://host:port" ("[v6]" unbracketed) into out. */
static void url_host(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    size_t i = 0;
    p = p ? p + 3 : url;
    if (*p == '[') {
        for (p++; *p && *p != ']' && i + 1 < n;)
            out[i++] = *p++;
    } else {
        while (*p && *p != ':' && *p != '/' && i + 1 < n)
            out[i++] = *p++;
    }
    out[i] = '\0';
}

static int is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0; /* a name: it may resolve to anything */
}

/* The directory part of an ipc:// URL's path into out; -1 if too long. */
static int ipc_dir(const char *url, char *out, size_t n)
{
    const char *path = url + strlen("ipc://");
    const char *slash = strrchr(path, '/');
    size_t len = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    if (len >= n)
        return -1;
    if (slash == NULL)
        memcpy(out, ".", 2);
    else {
        memcpy(out, path, len);
        out[len] = '\0';
    }
    return 0;
}

/* 0 when dir is ours and no one else may write in it (a missing one
 * passes when missing_ok); else -1 and why. */
static int dir_private(const char *url, const char *dir, int missing_ok,
                       char *why, size_t n)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT && missing_ok)
            return 0;
        snprintf(why, n, "%s: cannot look at the directory %s: %s", url, dir,
                 strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, n, "%s: %s is not a directory", url, dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, n,
                 "%s: the directory %s belongs to uid %u, not to this user "
                 "(uid %u): use a directory of its own",
                 url, dir, (unsigned)st.st_uid, (unsigned)geteuid());
        return -1;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        snprintf(why, n,
                 "%s: other users may write in the directory %s (mode %04o) "
                 "and put a socket of theirs there: use a directory of its "
                 "own (chmod 700)",
                 url, dir, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

int rpc_plane_check(const char *url, const rpc_tls *tls, int server, char *why,
                    size_t n)
{
    char host[256], dir[4096], tmp[512];
    if (why == NULL) {
        why = tmp;
        n = sizeof tmp;
    }
    if (strncmp(url, "inproc://", 9) == 0)
        return 0;
    if (strncmp(url, "ipc://", 6) == 0) {
        if (ipc_dir(url, dir, sizeof dir) != 0) {
            snprintf(why, n, "%.200s: the path is too long", url);
            return -1;
        }
        return dir_private(url, dir, server, why, n);
    }
    if (strncmp(url, "tcp://", 6) == 0) {
        url_host(url, host, sizeof host);
        if (is_loopback(host))
            return 0;
        snprintf(why, n,
                 "%s is reachable from other hosts and has no TLS (only "
                 "loopback, ipc:// or tls+tcp:// keep an internal endpoint "
                 "private)",
                 url);
        return -1;
    }
    if (strncmp(url, "tls+tcp://", 10) == 0) {
        int mutual = tls != NULL && tls->ca_file != NULL &&
                     (!server || (tls->cert_file && tls->key_file));
        if (mutual)
            return 0;
        snprintf(why, n,
                 "%s has TLS but no %s: without the deployment's CA it "
                 "cannot tell who %s",
                 url, server ? "certificate, key and CA" : "CA",
                 server ? "calls" : "answers");
        return -1;
    }
    snprintf(why, n, "%.200s: not a URL this runtime knows", url);
    return -1;
}

int rpc_ipc_prepare(const char *url, char *why, size_t n)
{
    char dir[4096];
    if (ipc_dir(url, dir, sizeof dir) != 0) {
        snprintf(why, n, "the path is too long");
        return -1;
    }
    if (access(dir, F_OK) != 0) {
        int rv = rpc_mkdirs(dir); /* 0700 */
        if (rv != 0) {
            snprintf(why, n, "cannot create the directory %s: %s", dir,
                     strerror(rv));
            return -1;
        }
    }
    return dir_private(url, dir, 0, why, n);
}
