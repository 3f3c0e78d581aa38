/* test_trust.c: the deployment's secrets (rpc/trust) attacked as an
 * intruder would: forged, altered, truncated and replayed-elsewhere
 * credentials; secret files left readable by others or planted by another
 * user; an admin token guessed wrong, empty, short, long, or with a
 * newline; the constant-time compare measured against memcmp, which it
 * must not resemble; and the plane check's table of URLs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc_trust.h"

static char g_dir[] = "/tmp/sb-test-trust-XXXXXX";

static void path_in(char *out, size_t n, const char *file)
{
    snprintf(out, n, "%s/%s", g_dir, file);
}

static int mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int)(st.st_mode & 07777);
}

/* ---- constant time ---- */

static void test_equal_answers(void **state)
{
    (void)state;
    assert_int_equal(rpc_trust_equal("abc", 3, "abc", 3), 1);
    assert_int_equal(rpc_trust_equal("abc", 3, "abd", 3), 0);
    assert_int_equal(rpc_trust_equal("abc", 3, "ab", 2), 0);
    assert_int_equal(rpc_trust_equal("abc", 3, "abcd", 4), 0);
    assert_int_equal(rpc_trust_equal("abc", 3, "", 0), 0);
    assert_int_equal(rpc_trust_equal("abc", 3, NULL, 0), 0);
    /* every single bit flipped anywhere is noticed */
    unsigned char a[64], b[64];
    for (int i = 0; i < 64; i++)
        a[i] = (unsigned char)(i * 37 + 11);
    for (int i = 0; i < 64; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, a, sizeof a);
            b[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(rpc_trust_equal(a, 64, b, 64), 0);
        }
}

typedef int (*cmp_fn)(const void *, const void *, size_t);

static int ct_cmp(const void *a, const void *b, size_t n)
{
    return !rpc_trust_equal(a, n, b, n);
}

/* The compare an attacker hopes for: it stops at the first difference
 * (as memcmp does, though not under ASan, whose memcmp reads it all). */
static int early_exit_cmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static int64_t time_cmp(cmp_fn f, const unsigned char *a,
                        const unsigned char *b, size_t n)
{
    int64_t t0 = rpc_now_mono_us();
    volatile int r = 0;
    for (int i = 0; i < 4; i++)
        r += f(a, b, n);
    (void)r;
    return rpc_now_mono_us() - t0;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* Median time of a compare that differs at the first byte over one that
 * differs at the last, rounds alternating (the VM's speed drifts). */
static double early_over_late(cmp_fn f)
{
    enum { N = 1 << 20, ROUNDS = 21 };
    unsigned char *a = malloc(N), *early = malloc(N), *late = malloc(N);
    int64_t te[ROUNDS], tl[ROUNDS];
    assert_non_null(a);
    assert_non_null(early);
    assert_non_null(late);
    for (size_t i = 0; i < N; i++)
        a[i] = (unsigned char)(i * 131 + 7);
    memcpy(early, a, N);
    memcpy(late, a, N);
    early[0] ^= 1;
    late[N - 1] ^= 1;
    for (int r = 0; r < ROUNDS; r++) {
        te[r] = time_cmp(f, a, early, N) + 1;
        tl[r] = time_cmp(f, a, late, N) + 1;
    }
    qsort(te, ROUNDS, sizeof *te, cmp_i64);
    qsort(tl, ROUNDS, sizeof *tl, cmp_i64);
    free(a);
    free(early);
    free(late);
    return (double)te[ROUNDS / 2] / (double)tl[ROUNDS / 2];
}

/* The attack on an early-exit compare: time tells where the first wrong
 * byte is. An early-exit loop shows it plainly here (the check that this
 * measurement can see it at all); rpc_trust_equal must not. */
static void test_equal_constant_time(void **state)
{
    (void)state;
    double naive = early_over_late(early_exit_cmp),
           ct = early_over_late(ct_cmp);
    printf("early/late mismatch time: early-exit compare %.4f, "
           "rpc_trust_equal %.3f\n",
           naive, ct);
    assert_true(naive < 0.2); /* it leaks: the probe works */
    assert_true(ct > 0.5 && ct < 2.0);
}

/* ---- secret files ---- */

static void test_secret_files(void **state)
{
    (void)state;
    char p[512], buf[128], why[512];
    size_t len;
    path_in(p, sizeof p, "s1");
    assert_int_equal(rpc_secret_write(p, "top secret\n", 11, why, sizeof why),
                     0);
    assert_int_equal(mode_of(p), 0600);
    assert_int_equal(rpc_secret_read(p, buf, sizeof buf, &len, why, sizeof why),
                     0);
    assert_string_equal(buf, "top secret"); /* the newline cut */
    assert_int_equal(len, 10);
    /* never over an existing file */
    assert_int_equal(rpc_secret_write(p, "x", 1, why, sizeof why), -1);
    assert_non_null(strstr(why, "cannot create"));
    /* readable by others: refused, with the fix */
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(rpc_secret_read(p, buf, sizeof buf, &len, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "chmod 600"));
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(rpc_secret_read(p, buf, sizeof buf, &len, why, sizeof why),
                     -1);
    assert_int_equal(chmod(p, 0600), 0);
    /* planted by another user (needs root to plant) */
    if (geteuid() == 0) {
        assert_int_equal(chown(p, 65534, 65534), 0);
        assert_int_equal(
            rpc_secret_read(p, buf, sizeof buf, &len, why, sizeof why), -1);
        assert_non_null(strstr(why, "belongs to uid 65534"));
        assert_int_equal(chown(p, 0, 0), 0);
    }
    /* a symlink is not followed */
    char l[512];
    path_in(l, sizeof l, "s1-link");
    assert_int_equal(symlink(p, l), 0);
    assert_int_equal(rpc_secret_read(l, buf, sizeof buf, &len, why, sizeof why),
                     -1);
    /* too long for the buffer */
    assert_int_equal(rpc_secret_read(p, buf, 5, &len, why, sizeof why), -1);
    assert_non_null(strstr(why, "too long"));
}

/* ---- keys and credentials ---- */

static void test_credentials(void **state)
{
    (void)state;
    rpc_keyring *k, *other;
    char cred[RPC_CREDENTIAL_MAX], id[RPC_ROLE_ID_MAX];
    rpc_role role;
    assert_int_equal(rpc_keyring_generate(&k), 0);
    assert_int_equal(rpc_keyring_generate(&other), 0);
    assert_int_equal(
        rpc_keyring_credential(k, RPC_ROLE_APP, "app-7", cred, sizeof cred), 0);
    assert_int_equal(strncmp(cred, "sb1:app:app-7:", 14), 0);
    assert_int_equal(strlen(cred), 14 + 64);
    assert_int_equal(rpc_keyring_check(k, cred, strlen(cred), &role, id), 0);
    assert_int_equal(role, RPC_ROLE_APP);
    assert_string_equal(id, "app-7");
    /* another deployment's keys do not accept it */
    assert_int_equal(rpc_keyring_check(other, cred, strlen(cred), &role, id),
                     -1);
    /* an app server cannot rename itself or change its role: the MAC
     * covers both */
    char forged[RPC_CREDENTIAL_MAX + 8];
    snprintf(forged, sizeof forged, "sb1:app:app-1:%s", cred + 14);
    assert_int_equal(rpc_keyring_check(k, forged, strlen(forged), &role, id),
                     -1);
    snprintf(forged, sizeof forged, "sb1:login:app-7:%s", cred + 14);
    assert_int_equal(rpc_keyring_check(k, forged, strlen(forged), &role, id),
                     -1);
    /* any one hex digit of the MAC changed */
    for (size_t i = 14; i < strlen(cred); i++) {
        snprintf(forged, sizeof forged, "%s", cred);
        forged[i] = forged[i] == '0' ? '1' : '0';
        assert_int_equal(
            rpc_keyring_check(k, forged, strlen(forged), &role, id), -1);
    }
    /* truncated, extended, malformed */
    assert_int_equal(rpc_keyring_check(k, cred, strlen(cred) - 1, &role, id),
                     -1);
    snprintf(forged, sizeof forged, "%s0", cred);
    assert_int_equal(rpc_keyring_check(k, forged, strlen(forged), &role, id),
                     -1);
    const char *bad[] = {"",
                         "sb1:",
                         "sb1:app:",
                         "sb1:app:app-7:",
                         "sb2:app:app-7:00",
                         "sb1:root:x:00",
                         "sb1:app:a:b:0000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(
            rpc_keyring_check(k, bad[i], strlen(bad[i]), &role, id), -1);
    /* ids that are not words are never made */
    assert_int_equal(
        rpc_keyring_credential(k, RPC_ROLE_APP, "a:b", cred, sizeof cred), -1);
    assert_int_equal(
        rpc_keyring_credential(k, RPC_ROLE_APP, "", cred, sizeof cred), -1);
    assert_int_equal(
        rpc_keyring_credential(k, RPC_ROLE_NONE, "x", cred, sizeof cred), -1);
    rpc_keyring_free(k);
    rpc_keyring_free(other);
}

static void test_keys_file(void **state)
{
    (void)state;
    rpc_keyring *k, *back;
    char p[512], why[512], c1[RPC_CREDENTIAL_MAX], id[RPC_ROLE_ID_MAX];
    rpc_role role;
    path_in(p, sizeof p, "keys");
    assert_int_equal(rpc_keyring_generate(&k), 0);
    assert_int_equal(rpc_keyring_save(k, p, why, sizeof why), 0);
    assert_int_equal(mode_of(p), 0600);
    assert_int_equal(rpc_keyring_load(p, &back, why, sizeof why), 0);
    /* what one made, the loaded one checks */
    assert_int_equal(
        rpc_keyring_credential(k, RPC_ROLE_LOGIN, "login", c1, sizeof c1), 0);
    assert_int_equal(rpc_keyring_check(back, c1, strlen(c1), &role, id), 0);
    assert_int_equal(role, RPC_ROLE_LOGIN);
    rpc_keyring_free(back);
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(rpc_keyring_load(p, &back, why, sizeof why), -1);
    assert_non_null(strstr(why, "chmod 600"));
    /* a bad line names itself */
    char q[512];
    path_in(q, sizeof q, "keys-bad");
    const char *text = "# c\nrole-key login 00\n";
    assert_int_equal(rpc_secret_write(q, text, strlen(text), why, sizeof why),
                     0);
    assert_int_equal(rpc_keyring_load(q, &back, why, sizeof why), -1);
    assert_non_null(strstr(why, "line 2"));
    rpc_keyring_free(k);
}

static void test_own_credential(void **state)
{
    (void)state;
    char out[RPC_CREDENTIAL_MAX], why[512], p[512];
    unsetenv(RPC_CREDENTIAL_ENV);
    assert_int_equal(
        rpc_credential_own(NULL, RPC_ROLE_LOGIN, NULL, out, why, sizeof why),
        -1);
    assert_non_null(strstr(why, "SB_CREDENTIAL"));
    path_in(p, sizeof p, "app-3.cred");
    assert_int_equal(
        rpc_secret_write(p, "sb1:app:app-3:ab\n", 17, why, sizeof why), 0);
    assert_int_equal(
        rpc_credential_own(g_dir, RPC_ROLE_APP, "app-3", out, why, sizeof why),
        0);
    assert_string_equal(out, "sb1:app:app-3:ab");
    setenv(RPC_CREDENTIAL_ENV, "sb1:app:app-9:cd", 1);
    assert_int_equal(
        rpc_credential_own(g_dir, RPC_ROLE_APP, "app-3", out, why, sizeof why),
        0);
    assert_string_equal(out, "sb1:app:app-9:cd"); /* the environment wins */
    unsetenv(RPC_CREDENTIAL_ENV);
}

/* ---- the admin token ---- */

static void test_admin_token(void **state)
{
    (void)state;
    char dir[512], tok[RPC_ADMIN_TOKEN_LEN + 1], again[RPC_ADMIN_TOKEN_LEN + 1];
    char path[4096], why[512];
    path_in(dir, sizeof dir, "data");
    /* the first start makes it, 0600, in a directory it makes */
    assert_int_equal(
        rpc_admin_token_init(dir, tok, path, sizeof path, why, sizeof why), 1);
    assert_int_equal(strlen(tok), RPC_ADMIN_TOKEN_LEN);
    assert_int_equal(mode_of(path), 0600);
    assert_non_null(strstr(path, "/data/admin.token"));
    /* every later start reads the same one back */
    assert_int_equal(
        rpc_admin_token_init(dir, again, path, sizeof path, why, sizeof why),
        0);
    assert_string_equal(again, tok);
    /* what sb admin presents, from the file or the environment */
    assert_int_equal(rpc_admin_token_presented(path, again, why, sizeof why),
                     0);
    assert_string_equal(again, tok);
    unsetenv(RPC_ADMIN_TOKEN_ENV);
    assert_int_equal(rpc_admin_token_presented(NULL, again, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "--token-file"));
    setenv(RPC_ADMIN_TOKEN_ENV, tok, 1);
    assert_int_equal(rpc_admin_token_presented(NULL, again, why, sizeof why),
                     0);
    setenv(RPC_ADMIN_TOKEN_ENV, "short", 1);
    assert_int_equal(rpc_admin_token_presented(NULL, again, why, sizeof why),
                     -1);
    unsetenv(RPC_ADMIN_TOKEN_ENV);
    /* the check: right, wrong, empty, short, long, one digit off */
    char wrong[RPC_ADMIN_TOKEN_LEN + 2];
    assert_int_equal(rpc_admin_token_check(tok, tok), 1);
    assert_int_equal(rpc_admin_token_check(tok, ""), 0);
    assert_int_equal(rpc_admin_token_check(tok, NULL), 0);
    assert_int_equal(rpc_admin_token_check(NULL, tok), 0);
    assert_int_equal(rpc_admin_token_check("", ""), 0);
    snprintf(wrong, sizeof wrong, "%.63s", tok);
    assert_int_equal(rpc_admin_token_check(tok, wrong), 0);
    snprintf(wrong, sizeof wrong, "%s0", tok);
    assert_int_equal(rpc_admin_token_check(tok, wrong), 0);
    snprintf(wrong, sizeof wrong, "%s\n", tok);
    assert_int_equal(rpc_admin_token_check(tok, wrong), 0);
    for (int i = 0; i < RPC_ADMIN_TOKEN_LEN; i++) {
        snprintf(wrong, sizeof wrong, "%s", tok);
        wrong[i] = wrong[i] == 'a' ? 'b' : 'a';
        assert_int_equal(rpc_admin_token_check(tok, wrong), 0);
    }
    /* a token file others may read is refused, not used */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(
        rpc_admin_token_init(dir, again, path, sizeof path, why, sizeof why),
        -1);
    assert_non_null(strstr(why, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    /* nor one that holds something else */
    char odir[512], opath[600];
    path_in(odir, sizeof odir, "data2");
    assert_int_equal(mkdir(odir, 0700), 0);
    snprintf(opath, sizeof opath, "%s/admin.token", odir);
    assert_int_equal(rpc_secret_write(opath, "letmein\n", 8, why, sizeof why),
                     0);
    assert_int_equal(
        rpc_admin_token_init(odir, again, path, sizeof path, why, sizeof why),
        -1);
    assert_non_null(strstr(why, "does not hold an admin token"));
}

/* ---- the plane check ---- */

static void test_plane_check(void **state)
{
    (void)state;
    char why[512], priv[600], pub[] = "ipc:///tmp/x.ipc";
    rpc_tls none = {0},
            mutual = {.cert_file = "c", .key_file = "k", .ca_file = "ca"},
            ca_only = {.ca_file = "ca"};
    const char *ok[] = {"tcp://127.0.0.1:8891", "tcp://127.3.4.5:1",
                        "tcp://[::1]:8891", "tcp://localhost:8891",
                        "inproc://store"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_int_equal(rpc_plane_check(ok[i], &none, 1, why, sizeof why), 0);
    const char *open_[] = {"tcp://0.0.0.0:8891", "tcp://10.0.0.5:8891",
                           "tcp://[::]:8891", "tcp://store.example:8891",
                           "tcp://128.0.0.1:1"};
    for (size_t i = 0; i < sizeof open_ / sizeof *open_; i++) {
        assert_int_equal(rpc_plane_check(open_[i], &none, 1, why, sizeof why),
                         -1);
        assert_non_null(strstr(why, "reachable from other hosts"));
    }
    /* TLS counts only when it is mutual (a listener) or verified (a client) */
    assert_int_equal(
        rpc_plane_check("tls+tcp://0.0.0.0:1", &none, 1, why, sizeof why), -1);
    assert_int_equal(
        rpc_plane_check("tls+tcp://0.0.0.0:1", &ca_only, 1, why, sizeof why),
        -1);
    assert_int_equal(
        rpc_plane_check("tls+tcp://0.0.0.0:1", &mutual, 1, why, sizeof why), 0);
    assert_int_equal(
        rpc_plane_check("tls+tcp://10.0.0.5:1", &ca_only, 0, why, sizeof why),
        0);
    assert_int_equal(
        rpc_plane_check("tls+tcp://10.0.0.5:1", &none, 0, why, sizeof why), -1);
    /* ipc: a directory others may write is refused, ours passes */
    assert_int_equal(rpc_plane_check(pub, &none, 1, why, sizeof why), -1);
    assert_non_null(strstr(why, "other users may write"));
    snprintf(priv, sizeof priv, "ipc://%s/store.ipc", g_dir);
    assert_int_equal(rpc_plane_check(priv, &none, 1, why, sizeof why), 0);
    assert_int_equal(rpc_plane_check("ws://x:1", &none, 1, why, sizeof why),
                     -1);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(g_dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[600];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_answers),
        cmocka_unit_test(test_equal_constant_time),
        cmocka_unit_test(test_secret_files),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_keys_file),
        cmocka_unit_test(test_own_credential),
        cmocka_unit_test(test_admin_token),
        cmocka_unit_test(test_plane_check),
    };
    if (getenv("SB_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
