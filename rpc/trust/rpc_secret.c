/* rpc_secret.c: the two primitives every secret of the deployment goes
 * through: a comparison whose time says nothing about the bytes compared,
 * and files that only this user can read (written 0600 with O_EXCL, read
 * only when no one else may read or change them, as ssh treats a private
 * key), and the certificate files of a --tls-dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc_trust.h"

#define SAY(...)                                                               \
    do {                                                                       \
        if (why != NULL)                                                       \
            snprintf(why, wn, __VA_ARGS__);                                    \
    } while (0)

int rpc_trust_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const volatile unsigned char *x = a, *y = b;
    /* lengths differ: compare a with itself (same work) and fail */
    unsigned diff = alen != blen;
    if (alen != blen || blen == 0)
        y = x;
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned)(x[i] ^ y[i]);
    /* diff is 0 or 1..255: turn it into 1/0 without a branch on it */
    return (int)(1 & ((diff - 1) >> 8));
}

int rpc_secret_write(const char *path, const void *data, size_t n, char *why,
                     size_t wn)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const char *p = data;
    if (fd < 0) {
        SAY("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    /* the umask cannot loosen 0600, but a previous owner's ACLs could:
     * say it plainly */
    if (fchmod(fd, 0600) != 0)
        goto fail;
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto fail;
        done += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        SAY("cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
fail:
    SAY("cannot write %s: %s", path, strerror(errno));
    close(fd);
    unlink(path);
    return -1;
}

int rpc_secret_read(const char *path, char *buf, size_t cap, size_t *len,
                    char *why, size_t wn)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t got = 0;
    if (fd < 0) {
        SAY("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        SAY("%s is not a regular file", path);
        goto fail;
    }
    if (st.st_uid != geteuid()) {
        SAY("%s belongs to uid %u, not to this user (uid %u): a secret must "
            "be its user's own (chown it)",
            path, (unsigned)st.st_uid, (unsigned)geteuid());
        goto fail;
    }
    if ((st.st_mode & 077) != 0) {
        SAY("%s is open to other users (mode %04o): chmod 600 %s", path,
            (unsigned)(st.st_mode & 07777), path);
        goto fail;
    }
    if ((size_t)st.st_size >= cap) {
        SAY("%s is too long (%lld bytes, at most %zu)", path,
            (long long)st.st_size, cap - 1);
        goto fail;
    }
    while ((size_t)got < cap - 1) {
        ssize_t r = read(fd, buf + got, cap - 1 - (size_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            SAY("cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        got += r;
    }
    close(fd);
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r' ||
                       buf[got - 1] == ' ' || buf[got - 1] == '\t'))
        got--;
    buf[got] = '\0';
    *len = (size_t)got;
    return 0;
fail:
    close(fd);
    return -1;
}

static int file_there(const char *path, char *why, size_t wn)
{
    if (access(path, R_OK) == 0)
        return 0;
    SAY("cannot read %s: %s (sbd certs DIR makes a deployment's files)", path,
        strerror(errno));
    return -1;
}

int rpc_trust_tls(const char *dir, const char *mine, rpc_role peer,
                  rpc_tls *tls, rpc_tls_files *f, char *why, size_t wn)
{
    char probe[8192];
    size_t len;
    memset(tls, 0, sizeof *tls);
    if (mine == NULL || mine[0] == '\0' || strchr(mine, '/') != NULL) {
        SAY("rpc_trust_tls: no role name given");
        return -1;
    }
    if (snprintf(f->ca, sizeof f->ca, "%s/ca.crt", dir) >= (int)sizeof f->ca ||
        snprintf(f->cert, sizeof f->cert, "%s/%s.crt", dir, mine) >=
            (int)sizeof f->cert ||
        snprintf(f->key, sizeof f->key, "%s/%s.key", dir, mine) >=
            (int)sizeof f->key) {
        SAY("%.200s: the path is too long", dir);
        return -1;
    }
    if (file_there(f->ca, why, wn) != 0 || file_there(f->cert, why, wn) != 0 ||
        rpc_secret_read(f->key, probe, sizeof probe, &len, why, wn) != 0)
        return -1;
    memset(probe, 0, sizeof probe);
    tls->ca_file = f->ca;
    tls->cert_file = f->cert;
    tls->key_file = f->key;
    if (peer != RPC_ROLE_NONE) {
        snprintf(f->name, sizeof f->name, "%s%s", rpc_role_name(peer),
                 RPC_TLS_NAME_SUFFIX);
        tls->server_name = f->name;
    }
    return 0;
}
