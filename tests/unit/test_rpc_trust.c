/* test_rpc_trust.c: who may call, over real sockets on 127.0.0.1 (and a
 * real `sbd certs` for the certificates), attacked as an intruder would:
 * a call with no credential, a forged one, another deployment's, an app
 * server's credential at a login-only method; a client tricked into
 * sending its credential where others could read it (a plaintext remote
 * URL, a redirect there); an ipc:// socket in a directory others write,
 * and one reached by another user; mutual TLS with no certificate, with
 * another CA's, and a server of the wrong role. "epoll" as the first
 * argument serves tcp:// with the epoll engine (test_rpc_trust_epoll). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>

#include "echo_service.h"
#include "health.sb.h"
#include "rpc.pb-c.h"
#include "rpc_trust.h"
#include "sb_netutil.h"

#define WHO "sb.test.Peer/Who"
#define BOUNCE "sb.test.Peer/Bounce"

static int g_engine = RPC_TCP_NNG;
static char g_dir[] = "/tmp/sb-test-rpc-trust-XXXXXX";
static rpc_keyring *g_keys;

/* Who called, as text: "ROLE ID CRED TRANSPORT ADDR". */
static int h_who(rpc_call *call, const ProtobufCMessage *req,
                 ProtobufCMessage *reply, void *arg)
{
    (void)req;
    (void)arg;
    const rpc_peer *p = rpc_call_peer(call);
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s %s %d %d %s", rpc_role_name(p->role),
                     p->id[0] ? p->id : "-", p->cred, p->transport,
                     p->addr[0] ? p->addr : "-");
    Sb__Echo__EchoReply *r = (Sb__Echo__EchoReply *)reply;
    r->data.data = (uint8_t *)rpc_call_strdup(call, buf);
    r->data.len = (size_t)n;
    return RPC_OK;
}

/* Sends the caller elsewhere: a host no credential may go to. */
static int h_bounce(rpc_call *call, const ProtobufCMessage *req,
                    ProtobufCMessage *reply, void *arg)
{
    (void)req;
    (void)reply;
    (void)arg;
    return rpc_call_redirect(call, "tcp://192.0.2.1:9");
}

typedef struct srv {
    rpc_server *s;
    echo_service *e;
} srv;

static void srv_start(srv *x, const char *url, rpc_server_config *cfg)
{
    rpc_server_config c = {0};
    if (cfg != NULL)
        c = *cfg;
    c.tcp_engine = g_engine;
    assert_int_equal(rpc_server_create(&x->s, &c), 0);
    assert_int_equal(echo_service_register(x->s, &x->e), 0);
    assert_int_equal(
        rpc_server_add_method(x->s, WHO, &sb__echo__echo_request__descriptor,
                              &sb__echo__echo_reply__descriptor, h_who, NULL),
        0);
    assert_int_equal(rpc_server_add_method(
                         x->s, BOUNCE, &sb__echo__echo_request__descriptor,
                         &sb__echo__echo_reply__descriptor, h_bounce, NULL),
                     0);
    /* Add changes state: login only. Echo stays open to anyone. */
    assert_int_equal(rpc_server_require_role(x->s, "sb.echo.Echo/Add",
                                             RPC_ROLE_BIT(RPC_ROLE_LOGIN)),
                     0);
    assert_int_equal(rpc_server_listen(x->s, url), 0);
    assert_int_equal(rpc_server_start(x->s), 0);
}

static void srv_stop(srv *x)
{
    rpc_server_destroy(x->s);
    echo_service_free(x->e);
}

static rpc_client *client(const char *url, const char *cred)
{
    rpc_client_config cc = {.timeout_ms = 3000, .credential = cred};
    rpc_client *c;
    assert_int_equal(rpc_client_open(&c, url, &cc), 0);
    return c;
}

/* The server's view of the caller ("login login 1 1 127.0.0.1"), into
 * out; the call's code. */
static int who(rpc_client *c, char *out, size_t n, rpc_status *st)
{
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    int rv = rpc_client_call(c, WHO, &req.base,
                             &sb__echo__echo_reply__descriptor, &rep, NULL, st);
    out[0] = '\0';
    if (rv == RPC_OK) {
        Sb__Echo__EchoReply *r = (Sb__Echo__EchoReply *)rep;
        snprintf(out, n, "%.*s", (int)r->data.len, (const char *)r->data.data);
        protobuf_c_message_free_unpacked(rep, NULL);
    }
    return rv;
}

static int add(rpc_client *c, rpc_status *st)
{
    Sb__Echo__AddRequest req = SB__ECHO__ADD_REQUEST__INIT;
    Sb__Echo__AddReply *rep = NULL;
    req.delta = 1;
    int rv = sb_echo_Echo_Add(c, &req, &rep, NULL, st);
    sb_echo_Echo_free(rep);
    return rv;
}

static int echo(rpc_client *c, rpc_status *st)
{
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    Sb__Echo__EchoReply *rep = NULL;
    int rv = sb_echo_Echo_Echo(c, &req, &rep, NULL, st);
    sb_echo_Echo_free(rep);
    return rv;
}

static void cred_of(rpc_keyring *k, rpc_role role, const char *id, char *out)
{
    assert_int_equal(
        rpc_keyring_credential(k, role, id, out, RPC_CREDENTIAL_MAX), 0);
}

/* ---- identity ---- */

static void test_identity(void **state)
{
    (void)state;
    rpc_server_config sc = {.verifier = rpc_keyring_verifier(g_keys)};
    srv x;
    rpc_keyring *other;
    char login[RPC_CREDENTIAL_MAX], app[RPC_CREDENTIAL_MAX],
        alien[RPC_CREDENTIAL_MAX], forged[RPC_CREDENTIAL_MAX], got[256];
    rpc_status st;
    assert_int_equal(rpc_keyring_generate(&other), 0);
    cred_of(g_keys, RPC_ROLE_LOGIN, "login", login);
    cred_of(g_keys, RPC_ROLE_APP, "app-3", app);
    cred_of(other, RPC_ROLE_LOGIN, "login", alien);
    snprintf(forged, sizeof forged, "%s", login);
    forged[strlen(forged) - 1] ^= 1; /* one bit of the MAC */
    srv_start(&x, "tcp://127.0.0.1:0", &sc);
    const char *url = rpc_server_url(x.s, 0);

    struct {
        const char *cred, *want_who;
        int add_code;
    } cases[] = {
        {NULL, "unauthenticated - 0 1 127.0.0.1", RPC_UNAUTHENTICATED},
        {login, "login login 1 1 127.0.0.1", RPC_OK},
        {app, "app app-3 1 1 127.0.0.1", RPC_PERMISSION_DENIED},
        {forged, "unauthenticated - 2 1 127.0.0.1", RPC_UNAUTHENTICATED},
        {alien, "unauthenticated - 2 1 127.0.0.1", RPC_UNAUTHENTICATED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rpc_client *c = client(url, cases[i].cred);
        assert_int_equal(who(c, got, sizeof got, &st), RPC_OK);
        assert_string_equal(got, cases[i].want_who);
        /* the role rule: only login may Add; Echo is open */
        assert_int_equal(add(c, &st), cases[i].add_code);
        if (cases[i].add_code == RPC_UNAUTHENTICATED)
            assert_non_null(strstr(st.message, "sb.echo.Echo/Add is internal "
                                               "(for login)"));
        if (cases[i].add_code == RPC_PERMISSION_DENIED)
            assert_string_equal(st.message, "sb.echo.Echo/Add is for login "
                                            "only; the caller is app app-3");
        assert_int_equal(echo(c, &st), RPC_OK);
        rpc_client_close(c);
    }
    /* only the login caller's Add changed anything */
    assert_int_equal(echo_service_adds_applied(x.e), 1);
    srv_stop(&x);

    /* a server with no verifier trusts no credential */
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    rpc_client *c = client(rpc_server_url(x.s, 0), login);
    assert_int_equal(who(c, got, sizeof got, &st), RPC_OK);
    assert_string_equal(got, "unauthenticated - 2 1 127.0.0.1");
    assert_int_equal(add(c, &st), RPC_UNAUTHENTICATED);
    rpc_client_close(c);
    srv_stop(&x);
    rpc_keyring_free(other);
}

/* The same over ipc:// and inproc://: the transport is told, no address. */
static void test_identity_local(void **state)
{
    (void)state;
    rpc_server_config sc = {.verifier = rpc_keyring_verifier(g_keys)};
    char url[700], login[RPC_CREDENTIAL_MAX], got[256];
    rpc_status st;
    srv x;
    cred_of(g_keys, RPC_ROLE_LOGIN, "login", login);
    snprintf(url, sizeof url, "ipc://%s/run/who.ipc", g_dir);
    srv_start(&x, url, &sc);
    rpc_client *c = client(url, login);
    assert_int_equal(who(c, got, sizeof got, &st), RPC_OK);
    assert_string_equal(got, "login login 1 3 -");
    rpc_client_close(c);
    srv_stop(&x);
    srv_start(&x, "inproc://sb-test-who", &sc);
    c = client("inproc://sb-test-who", NULL);
    assert_int_equal(who(c, got, sizeof got, &st), RPC_OK);
    assert_string_equal(got, "unauthenticated - 0 4 -");
    rpc_client_close(c);
    srv_stop(&x);
}

/* ---- where a credential may go ---- */

static void test_credential_stays_private(void **state)
{
    (void)state;
    char login[RPC_CREDENTIAL_MAX], got[256];
    rpc_client *c;
    rpc_status st;
    cred_of(g_keys, RPC_ROLE_LOGIN, "login", login);
    rpc_client_config cc = {.credential = login, .timeout_ms = 2000};
    /* other hosts could read it: never dialed */
    assert_int_equal(rpc_client_open(&c, "tcp://192.0.2.1:8891", &cc),
                     NNG_EPERM);
    assert_int_equal(
        rpc_client_open(&c, "tcp://127.0.0.1:1,tcp://192.0.2.1:8891", &cc),
        NNG_EPERM);
    /* TLS that does not check who answers is no better */
    assert_int_equal(rpc_client_open(&c, "tls+tcp://192.0.2.1:8891", &cc),
                     NNG_EPERM);
    /* without a credential, anything may be dialed (users' clients) */
    cc.credential = NULL;
    assert_int_equal(rpc_client_open(&c, "tcp://192.0.2.1:8891", &cc), 0);
    rpc_client_close(c);
    /* a server cannot redirect the credential out either */
    srv x;
    srv_start(&x, "tcp://127.0.0.1:0", NULL);
    c = client(rpc_server_url(x.s, 0), login);
    Sb__Echo__EchoRequest req = SB__ECHO__ECHO_REQUEST__INIT;
    ProtobufCMessage *rep = NULL;
    assert_int_equal(rpc_client_call(c, BOUNCE, &req.base,
                                     &sb__echo__echo_reply__descriptor, &rep,
                                     NULL, &st),
                     RPC_PERMISSION_DENIED);
    assert_non_null(strstr(st.message, "tcp://192.0.2.1:9"));
    assert_int_equal(who(c, got, sizeof got, &st), RPC_OK); /* still fine */
    rpc_client_close(c);
    srv_stop(&x);
}

/* ---- ipc:// ---- */

static int file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int)(st.st_mode & 0777);
}

/* An Echo call as bytes on nng's ipc:// wire, for a child process that
 * must not touch nng (it forks from a threaded process): the SP
 * handshake, then a 0x01 byte, a 64-bit length and the message (REQ's
 * 4-byte request id, then the Call). */
static uint8_t g_frame[256];
static size_t g_frame_len;

static void frame_echo(void)
{
    Sb__Rpc__Call c = SB__RPC__CALL__INIT;
    uint8_t body[200];
    c.method = "sb.echo.Echo/Echo";
    size_t n = sb__rpc__call__pack(&c, body);
    g_frame[0] = 1;
    for (int i = 0; i < 8; i++)
        g_frame[1 + i] = (uint8_t)((n + 4) >> (8 * (7 - i)));
    memcpy(g_frame + 9, "\x80\x00\x00\x01", 4);
    memcpy(g_frame + 13, body, n);
    g_frame_len = 13 + n;
}

/* In the child: 0 when the server answered the call, 1 when it did not
 * (the socket refused us, or the pipe was closed). Syscalls only. */
static int raw_ipc_call(const char *path)
{
    static const uint8_t hello[8] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    uint8_t buf[512];
    size_t got = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return 1;
    /* the server may close us at once: EPIPE, not a SIGPIPE death */
    if (send(fd, hello, 8, MSG_NOSIGNAL) != 8 ||
        send(fd, g_frame, g_frame_len, MSG_NOSIGNAL) != (ssize_t)g_frame_len)
        return 1;
    while (got < 8 + 9 + 4) { /* its hello, a reply's header and id */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1500) <= 0)
            return 1;
        ssize_t r = read(fd, buf + got, sizeof buf - got);
        if (r <= 0)
            return 1; /* closed: refused */
        got += (size_t)r;
    }
    return buf[8] == 1 ? 0 : 1;
}

/* Runs raw_ipc_call(path) in a child as the user nobody; its answer. */
static int as_nobody(const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(99);
        _exit(raw_ipc_call(path));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

/* 0 when a call got through, 1 when it did not. */
static int try_call(const char *url)
{
    rpc_client_config cc = {.timeout_ms = 1500};
    rpc_client *c;
    rpc_status st;
    if (rpc_client_open(&c, url, &cc) != 0)
        return 1;
    int rv = echo(c, &st);
    rpc_client_close(c);
    return rv == RPC_OK ? 0 : 1;
}

static void test_ipc_private(void **state)
{
    (void)state;
    char url[700], dir[600], sock[700];
    srv x;
    rpc_server *s;
    /* a directory others may write (/tmp): someone could put their own
     * socket where our clients dial, so the listener refuses it */
    assert_int_equal(rpc_server_create(&s, NULL), 0);
    snprintf(url, sizeof url, "ipc:///tmp/sb-test-trust-%d.ipc", (int)getpid());
    assert_int_equal(rpc_server_listen(s, url), NNG_EPERM);
    rpc_server_destroy(s);
    /* a missing directory is made 0700; the socket is 0600 */
    snprintf(dir, sizeof dir, "%s/private/run", g_dir);
    snprintf(url, sizeof url, "ipc://%s/store.ipc", dir);
    snprintf(sock, sizeof sock, "%s/store.ipc", dir);
    srv_start(&x, url, NULL);
    assert_int_equal(file_mode(dir), 0700);
    assert_int_equal(file_mode(sock), 0600);
    assert_int_equal(try_call(url), 0);
    frame_echo();
    assert_int_equal(raw_ipc_call(sock), 0); /* the raw caller works for us */
    if (geteuid() != 0) { /* the rest needs another user to attack with */
        srv_stop(&x);
        return;
    }
    /* another user cannot reach it */
    assert_int_equal(chmod(g_dir, 0711), 0);
    assert_int_equal(chmod(dir, 0711), 0);
    char mid[700];
    snprintf(mid, sizeof mid, "%s/private", g_dir);
    assert_int_equal(chmod(mid, 0711), 0);
    assert_int_equal(as_nobody(sock), 1); /* the socket's 0600 */
    /* even with the socket opened up by mistake, its pipes are checked */
    assert_int_equal(chmod(sock, 0666), 0);
    assert_int_equal(as_nobody(sock), 1);
    rpc_conn_stats cs;
    rpc_server_conn_stats(x.s, &cs);
    assert_true(cs.refused_uid >= 1);
    assert_int_equal(try_call(url), 0); /* we still can */
    srv_stop(&x);
    assert_int_equal(chmod(g_dir, 0700), 0);
}

/* ---- mutual TLS with sbd certs' files ---- */

static void make_certs(const char *dir)
{
    char cmd[1200];
    const char *bin = getenv("SB_BIN_DIR");
    assert_non_null(bin);
    snprintf(cmd, sizeof cmd, "%s/sbd certs %s >/dev/null", bin, dir);
    assert_int_equal(system(cmd), 0);
}

static int tls_echo(const char *url, const rpc_tls *tls)
{
    rpc_client_config cc = {.timeout_ms = 1500, .max_retries = 1};
    rpc_client *c;
    rpc_status st;
    cc.tls = *tls;
    assert_int_equal(rpc_client_open(&c, url, &cc), 0);
    int rv = echo(c, &st);
    rpc_client_close(c);
    return rv;
}

static void test_mutual_tls(void **state)
{
    (void)state;
    char a[600], b[600], why[512];
    rpc_tls_files sf, lf, bf, nf;
    rpc_tls stls, ltls, btls, notls;
    snprintf(a, sizeof a, "%s/deploy-a", g_dir);
    snprintf(b, sizeof b, "%s/deploy-b", g_dir);
    make_certs(a);
    make_certs(b);
    assert_int_equal(
        rpc_trust_tls(a, "store", RPC_ROLE_NONE, &stls, &sf, why, sizeof why),
        0);
    rpc_server_config sc = {.tls = stls};
    srv x;
    srv_start(&x, "tls+tcp://127.0.0.1:0", &sc);
    const char *url = rpc_server_url(x.s, 0);
    /* login of this deployment, checking that it talks to the store */
    assert_int_equal(
        rpc_trust_tls(a, "login", RPC_ROLE_STORE, &ltls, &lf, why, sizeof why),
        0);
    assert_int_equal(tls_echo(url, &ltls), RPC_OK);
    /* no certificate: the handshake is refused */
    notls = ltls;
    notls.cert_file = notls.key_file = NULL;
    assert_int_not_equal(tls_echo(url, &notls), RPC_OK);
    /* a certificate from another deployment's CA: refused */
    assert_int_equal(
        rpc_trust_tls(b, "login", RPC_ROLE_STORE, &btls, &bf, why, sizeof why),
        0);
    rpc_tls mixed = btls;
    mixed.ca_file = ltls.ca_file; /* it even trusts our CA */
    assert_int_not_equal(tls_echo(url, &mixed), RPC_OK);
    /* and a client of the other deployment does not trust this server */
    assert_int_not_equal(tls_echo(url, &btls), RPC_OK);
    /* the callee's role is checked by its certificate's name: a login
     * that wants the orchestrator does not accept the store */
    rpc_tls_files of;
    rpc_tls wrong;
    assert_int_equal(rpc_trust_tls(a, "login", RPC_ROLE_ORCHESTRATOR, &wrong,
                                   &of, why, sizeof why),
                     0);
    assert_int_not_equal(tls_echo(url, &wrong), RPC_OK);
    /* the right one still works after all that */
    assert_int_equal(tls_echo(url, &ltls), RPC_OK);
    srv_stop(&x);
    (void)nf;
    /* a key left readable by others is not used */
    assert_int_equal(chmod(lf.key, 0644), 0);
    assert_int_equal(
        rpc_trust_tls(a, "login", RPC_ROLE_STORE, &ltls, &lf, why, sizeof why),
        -1);
    assert_non_null(strstr(why, "chmod 600"));
    assert_int_equal(chmod(lf.key, 0600), 0);
}

/* Health/Check over tls with tls; its code. */
static int health(const char *url, const rpc_tls *tls)
{
    rpc_client_config cc = {.timeout_ms = 1500, .max_retries = 1};
    rpc_client *c;
    rpc_status st;
    Sb__Health__CheckRequest req = SB__HEALTH__CHECK_REQUEST__INIT;
    Sb__Health__CheckReply *rep = NULL;
    cc.tls = *tls;
    assert_int_equal(rpc_client_open(&c, url, &cc), 0);
    int rv = sb_health_Health_Check(c, &req, &rep, NULL, &st);
    if (rv == RPC_OK &&
        rep->status != SB__HEALTH__CHECK_REPLY__SERVING_STATUS__SERVING)
        rv = RPC_UNAVAILABLE;
    sb_health_Health_free(rep);
    rpc_client_close(c);
    return rv;
}

/* A real `sbd store` on mutual TLS with --tls-dir: the login of its
 * deployment gets through; no certificate, or another deployment's
 * login, does not. */
static void test_store_process_mtls(void **state)
{
    (void)state;
    char a[600], b[600], data[600], url[64], why[512], sbd[600];
    rpc_tls_files lf, bf;
    rpc_tls ltls, btls, notls;
    int port = sb_free_port();
    assert_true(port > 0);
    snprintf(a, sizeof a, "%s/deploy-a", g_dir); /* test_mutual_tls's */
    snprintf(b, sizeof b, "%s/deploy-b", g_dir);
    snprintf(data, sizeof data, "%s/store-data", g_dir);
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d", port);
    snprintf(sbd, sizeof sbd, "%s/sbd", getenv("SB_BIN_DIR"));
    if (access(a, F_OK) != 0)
        make_certs(a);
    if (access(b, F_OK) != 0)
        make_certs(b);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(sbd, sbd, "store", "--listen", url, "--tls-dir", a, "--data-dir",
              data, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(
        rpc_trust_tls(a, "login", RPC_ROLE_STORE, &ltls, &lf, why, sizeof why),
        0);
    assert_int_equal(
        rpc_trust_tls(b, "login", RPC_ROLE_STORE, &btls, &bf, why, sizeof why),
        0);
    int rv = RPC_UNAVAILABLE;
    for (int i = 0; i < 100 && rv != RPC_OK; i++) {
        if ((rv = health(url, &ltls)) != RPC_OK)
            usleep(100 * 1000);
    }
    assert_int_equal(rv, RPC_OK);
    notls = ltls;
    notls.cert_file = notls.key_file = NULL;
    assert_int_not_equal(health(url, &notls), RPC_OK);
    rpc_tls mixed = btls;
    mixed.ca_file = ltls.ca_file;
    assert_int_not_equal(health(url, &mixed), RPC_OK);
    assert_int_equal(health(url, &ltls), RPC_OK);
    kill(pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(g_dir) == NULL || rpc_keyring_generate(&g_keys) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    (void)state;
    rpc_keyring_free(g_keys);
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_identity_local),
        cmocka_unit_test(test_credential_stays_private),
        cmocka_unit_test(test_ipc_private),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_store_process_mtls),
    };
    if (argc > 1 && strcmp(argv[1], "epoll") == 0)
        g_engine = RPC_TCP_EPOLL;
    if (getenv("SB_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
