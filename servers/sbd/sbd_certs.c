/* sbd_certs.c: `sbd certs DIR`, the one command that makes what a
 * deployment across hosts needs (docs/trust.md): a CA, a certificate and
 * key per role (EC P-256, DNS:<role>.switchboard.internal, for both TLS
 * ends), the role keys (DIR/keys), the credentials of the roles that call
 * others (ROLE.cred; --id ID adds an app server's ID.cred), and the admin
 * token. It never replaces a file: run again on the same DIR and it makes
 * only what is missing (a lost key, a new role), signing with the CA that
 * is there. Written with OpenSSL's libcrypto; secrets 0600 in a 0700 DIR. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "rpc_trust.h"
#include "sb_log.h"
#include "sbd.h"

#define CA_DAYS 3650
#define ROLE_DAYS 825

/* Every certificate sbd certs makes: who it is for, and whether that role
 * calls others (and so needs a credential file). */
static const struct {
    const char *name;
    int cred;
    const char *needs; /* the files a host of this role needs */
} roles[] = {
    {"store", 0, "ca.crt store.crt store.key keys"},
    {"login", 1, "ca.crt login.crt login.key login.cred"},
    {"orchestrator", 1,
     "ca.crt orchestrator.crt orchestrator.key orchestrator.cred keys "
     "(and app.crt app.key for the app servers it launches)"},
    {"app", 0,
     "ca.crt app.crt app.key, and its own ID.cred (the "
     "orchestrator sends it)"},
    {"draw", 0, "ca.crt draw.crt draw.key admin.token"},
    {"bus", 0, "ca.crt bus.crt bus.key"},
    {"web", 1, "ca.crt web.crt web.key web.cred"},
    {"operator", 0, "ca.crt operator.crt operator.key admin.token (sb admin)"},
};
#define NROLES (sizeof roles / sizeof roles[0])

typedef struct certs {
    const char *dir;
    EVP_PKEY *ca_key;
    X509 *ca;
    int made, kept;
} certs;

static void report(certs *c, const char *file, int made, const char *what)
{
    printf("  %-18s %s  %s\n", file, made ? "made" : "kept", what);
    if (made)
        c->made++;
    else
        c->kept++;
}

static int path_of(const certs *c, const char *file, char *out, size_t n)
{
    return snprintf(out, n, "%s/%s", c->dir, file) < (int)n ? 0 : -1;
}

static int exists(const certs *c, const char *file)
{
    char p[4096];
    return path_of(c, file, p, sizeof p) == 0 && access(p, F_OK) == 0;
}

/* A public file (a certificate): 0644, never over another. */
static int write_public(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, data, n);
    int rv = (w == (ssize_t)n && fsync(fd) == 0) ? 0 : -1;
    if (close(fd) != 0 || rv != 0) {
        unlink(path);
        return -1;
    }
    return 0;
}

/* Writes what the PEM writer puts in a memory BIO to file (secret: 0600
 * through rpc_secret_write). 0 or -1 (logged). */
static int write_bio(const certs *c, const char *file, BIO *b, int secret)
{
    char path[4096], why[512];
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (path_of(c, file, path, sizeof path) != 0 || n <= 0)
        return -1;
    if (secret ? rpc_secret_write(path, data, (size_t)n, why, sizeof why)
               : write_public(path, data, (size_t)n)) {
        sb_error("certs", "cannot write %s: %s", path,
                 secret ? why : strerror(errno));
        return -1;
    }
    return 0;
}

static int save_key(const certs *c, const char *file, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rv = b != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
                                                   NULL) == 1
                 ? write_bio(c, file, b, 1)
                 : -1;
    BIO_free(b);
    return rv;
}

static int save_cert(const certs *c, const char *file, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rv = b != NULL && PEM_write_bio_X509(b, x) == 1
                 ? write_bio(c, file, b, 0)
                 : -1;
    BIO_free(b);
    return rv;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

/* A certificate for key, named cn, signed by the CA (NULL: itself). */
static X509 *make_cert(const certs *c, const char *cn, EVP_PKEY *key, int ca)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    char san[160];
    BIGNUM *bn = NULL;
    X509 *issuer = ca ? x : c->ca;
    EVP_PKEY *signer = ca ? key : c->ca_key;
    if (x == NULL || RAND_bytes(serial, sizeof serial) != 1)
        goto fail;
    serial[0] &= 0x7f; /* positive */
    if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
        X509_set_version(x, 2) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x),
                        (long)(ca ? CA_DAYS : ROLE_DAYS) * 86400) == NULL ||
        X509_set_pubkey(x, key) != 1 ||
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                   (const unsigned char *)cn, -1, -1, 0) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(issuer)) != 1)
        goto fail;
    snprintf(san, sizeof san, "DNS:%s", cn);
    if (add_ext(x, issuer, NID_subject_key_identifier, "hash") != 0 ||
        (ca ? add_ext(x, issuer, NID_basic_constraints,
                      "critical,CA:TRUE,"
                      "pathlen:0") ||
                  add_ext(x, issuer, NID_key_usage,
                          "critical,keyCertSign,cRLSign")
            : add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
                  add_ext(x, issuer, NID_authority_key_identifier,
                          "keyid:always") ||
                  add_ext(x, issuer, NID_key_usage,
                          "critical,digitalSignature") ||
                  add_ext(x, issuer, NID_ext_key_usage,
                          "serverAuth,clientAuth") ||
                  add_ext(x, issuer, NID_subject_alt_name, san)) ||
        X509_sign(x, signer, EVP_sha256()) <= 0)
        goto fail;
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

/* The CA: made when DIR has none, else loaded (its key must be there to
 * sign anything new). 0 or -1 (logged). */
static int ca_ready(certs *c, int need_sign)
{
    char path[4096], why[512], pem[16384];
    size_t len;
    if (!exists(c, "ca.crt") && !exists(c, "ca.key")) {
        if ((c->ca_key = EVP_EC_gen("P-256")) == NULL ||
            (c->ca = make_cert(c, "Switchboard deployment CA", c->ca_key, 1)) ==
                NULL ||
            save_key(c, "ca.key", c->ca_key) != 0 ||
            save_cert(c, "ca.crt", c->ca) != 0) {
            sb_error("certs", "cannot make the CA");
            return -1;
        }
        report(c, "ca.key", 1, "the CA's key: keep it off the hosts, safe");
        report(c, "ca.crt", 1, "the deployment CA: every host");
        return 0;
    }
    report(c, "ca.crt", 0, "the deployment CA: every host");
    if (!need_sign) {
        if (exists(c, "ca.key"))
            report(c, "ca.key", 0, "the CA's key: keep it off the hosts, safe");
        return 0;
    }
    path_of(c, "ca.key", path, sizeof path);
    BIO *b = NULL;
    FILE *f = NULL;
    if (rpc_secret_read(path, pem, sizeof pem, &len, why, sizeof why) != 0) {
        sb_error("certs", "cannot sign what is missing: %s", why);
        return -1;
    }
    if ((b = BIO_new_mem_buf(pem, (int)len)) != NULL)
        c->ca_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    OPENSSL_cleanse(pem, sizeof pem);
    path_of(c, "ca.crt", path, sizeof path);
    if ((f = fopen(path, "r")) != NULL) {
        c->ca = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (c->ca_key == NULL || c->ca == NULL ||
        X509_check_private_key(c->ca, c->ca_key) != 1) {
        sb_error("certs", "%s/ca.crt and ca.key do not make a CA", c->dir);
        return -1;
    }
    report(c, "ca.key", 0, "the CA's key: keep it off the hosts, safe");
    return 0;
}

/* ROLE.crt and ROLE.key, unless both are there. */
static int role_cert(certs *c, const char *role)
{
    char crt[96], key[96], cn[128];
    snprintf(crt, sizeof crt, "%s.crt", role);
    snprintf(key, sizeof key, "%s.key", role);
    int has_crt = exists(c, crt), has_key = exists(c, key);
    snprintf(cn, sizeof cn, "%s%s", role, RPC_TLS_NAME_SUFFIX);
    if (has_crt && has_key) {
        report(c, key, 0, "its TLS key");
        report(c, crt, 0, cn);
        return 0;
    }
    if (has_crt || has_key) {
        sb_error("certs",
                 "%s/%s is there without its %s: remove it to make a new "
                 "pair",
                 c->dir, has_crt ? crt : key, has_crt ? key : crt);
        return -1;
    }
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = k != NULL ? make_cert(c, cn, k, 0) : NULL;
    int rv = x != NULL && save_key(c, key, k) == 0 && save_cert(c, crt, x) == 0
                 ? 0
                 : -1;
    if (rv == 0) {
        report(c, key, 1, "its TLS key");
        report(c, crt, 1, cn);
    } else {
        sb_error("certs", "cannot make %s's certificate", role);
    }
    X509_free(x);
    EVP_PKEY_free(k);
    return rv;
}

/* FILE.cred holding role's credential for id, unless it is there. */
static int cred_file(certs *c, const rpc_keyring *k, rpc_role role,
                     const char *id, const char *file)
{
    char path[4096], cred[RPC_CREDENTIAL_MAX], why[512], name[96];
    snprintf(name, sizeof name, "%s.cred", file);
    if (exists(c, name)) {
        report(c, name, 0, "its role credential");
        return 0;
    }
    if (path_of(c, name, path, sizeof path) != 0 ||
        rpc_keyring_credential(k, role, id, cred, sizeof cred) != 0) {
        sb_error("certs", "cannot make %s for %s %s", name, rpc_role_name(role),
                 id);
        return -1;
    }
    size_t n = strlen(cred);
    cred[n] = '\n';
    int rv = rpc_secret_write(path, cred, n + 1, why, sizeof why);
    OPENSSL_cleanse(cred, sizeof cred);
    if (rv != 0)
        sb_error("certs", "%s", why);
    else
        report(c, name, 1, "its role credential");
    return rv;
}

/* DIR/keys (made or read) and the credential files made from it. */
static int keys_and_creds(certs *c, const char *app_id)
{
    char path[4096], why[512];
    rpc_keyring *k = NULL;
    int made = !exists(c, "keys"), rv = -1;
    path_of(c, "keys", path, sizeof path);
    if (made ? rpc_keyring_generate(&k) != 0 ||
                   rpc_keyring_save(k, path, why, sizeof why) != 0
             : rpc_keyring_load(path, &k, why, sizeof why) != 0) {
        sb_error("certs", "%s", made ? "cannot make the role keys" : why);
        goto out;
    }
    report(c, "keys", made, "role keys: the store and the orchestrator only");
    for (size_t i = 0; i < NROLES; i++) {
        rpc_role r = rpc_role_from_name(roles[i].name, strlen(roles[i].name));
        if (roles[i].cred &&
            cred_file(c, k, r, roles[i].name, roles[i].name) != 0)
            goto out;
    }
    if (app_id != NULL && cred_file(c, k, RPC_ROLE_APP, app_id, app_id) != 0)
        goto out;
    rv = 0;
out:
    rpc_keyring_free(k);
    return rv;
}

static void print_needs(void)
{
    printf("Copy to each host only what its roles need (docs/trust.md):\n");
    for (size_t i = 0; i < NROLES; i++)
        printf("  %-13s %s\n", roles[i].name, roles[i].needs);
}

int sbd_run_certs(const sbd_opts *o)
{
    certs c = {.dir = o->tls_dir};
    char tok[RPC_ADMIN_TOKEN_LEN + 1], path[4096], why[512];
    int rv = -1, need_sign = 0, made;
    if (c.dir == NULL) {
        fprintf(stderr, "usage: sbd certs DIR  (or --tls-dir DIR)\n");
        return -1;
    }
    if ((rv = rpc_mkdirs(c.dir)) != 0) {
        sb_error("certs", "cannot create %s: %s", c.dir, strerror(rv));
        return -1;
    }
    rv = -1;
    for (size_t i = 0; i < NROLES; i++) {
        char crt[96];
        snprintf(crt, sizeof crt, "%s.crt", roles[i].name);
        need_sign |= !exists(&c, crt);
    }
    printf("sbd certs: %s\n", c.dir);
    if (ca_ready(&c, need_sign) != 0)
        goto out;
    for (size_t i = 0; i < NROLES; i++)
        if (role_cert(&c, roles[i].name) != 0)
            goto out;
    if (keys_and_creds(&c, o->app_id) != 0)
        goto out;
    if ((made = rpc_admin_token_init(c.dir, tok, path, sizeof path, why,
                                     sizeof why)) < 0) {
        sb_error("certs", "%s", why);
        goto out;
    }
    OPENSSL_cleanse(tok, sizeof tok);
    report(&c, "admin.token", made, "the operator's (sb admin --token-file)");
    printf("%d file(s) made, %d kept.\n", c.made, c.kept);
    print_needs();
    rv = 0;
out:
    X509_free(c.ca);
    EVP_PKEY_free(c.ca_key);
    return rv;
}
