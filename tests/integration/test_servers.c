/* test_servers.c: the login and app roles end to end in one process: a
 * real LMDB store in a temp dir, real nng sockets on 127.0.0.1, the bus
 * forwarder on inproc. Checks assignment (capacity per app server, sticky
 * tokens, through a real orchestrator whose driver runs the app servers
 * in this process and registers them with the real agent), redirects, the
 * token-first rule on the login endpoint, request id idempotency, and that a
 * parked Receive is woken by the bus hint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_agent.h"
#include "app_service.h"
#include "fleet_driver.h"
#include "login_service.h"
#include "orch_role.h"
#include "rpc_bus.h"
#include "social.sb.h"

#define NAPPS 8

typedef struct world {
    char dir[64], orch_dir[80];
    char bus_in[96], bus_out[96];
    store_db *db;
    store_writer *w;
    rpc_bus_forwarder *bus;
    orch_role *orch;
    login_orch *lo;
    rpc_server *login_srv;
    login_service *login;
    pthread_mutex_t mu; /* guards apps/agents/napps (driver calls) */
    app_server *apps[NAPPS];
    app_agent *agents[NAPPS];
    int napps;
    rpc_client *c;
} world;

/* A fleet driver that runs app servers in this process: each registers
 * with the orchestrator through the real agent, as `sbd app` does. */
static const char *ip_name(void *ctx)
{
    (void)ctx;
    return "inproc";
}

static int ip_launch(void *ctx, const char *id, char inst[FLEET_INSTANCE_MAX],
                     rpc_status *st)
{
    world *w = ctx;
    app_config cfg = {.id = id,
                      .listen_url = "tcp://127.0.0.1:0",
                      .bus_in = w->bus_in,
                      .bus_out = w->bus_out,
                      .db = w->db,
                      .w = w->w,
                      .poll_ms = 20};
    int rv;

    pthread_mutex_lock(&w->mu);
    if (w->napps >= NAPPS) {
        pthread_mutex_unlock(&w->mu);
        return rpc_status_set(st, RPC_UNAVAILABLE, "test: too many apps");
    }
    snprintf(inst, FLEET_INSTANCE_MAX, "inproc-%d", w->napps);
    if ((rv = app_server_start(&cfg, &w->apps[w->napps])) == 0) {
        app_agent_config ac = {.orchestrator = orch_role_url(w->orch),
                               .server_id = id,
                               .endpoint = app_server_url(w->apps[w->napps]),
                               .instance_id = inst};
        rv = app_agent_start(&ac, &w->agents[w->napps]);
        w->napps++;
    }
    pthread_mutex_unlock(&w->mu);
    return rv == 0 ? RPC_OK
                   : rpc_status_set(st, RPC_UNAVAILABLE, "start: %d", rv);
}

static int ip_terminate(void *ctx, const char *inst, rpc_status *st)
{
    (void)ctx, (void)inst, (void)st;
    return RPC_OK; /* teardown stops them all */
}

static int ip_list(void *ctx, fleet_instance **out, size_t *n, rpc_status *st)
{
    (void)ctx, (void)st;
    *out = NULL;
    *n = 0;
    return RPC_OK;
}

static int ip_alive(void *ctx, const char *inst)
{
    (void)ctx, (void)inst;
    return 1;
}

static void ip_destroy(void *ctx)
{
    (void)ctx;
}

static const fleet_driver inproc_driver = {.name = ip_name,
                                           .launch = ip_launch,
                                           .terminate = ip_terminate,
                                           .list = ip_list,
                                           .alive = ip_alive,
                                           .destroy = ip_destroy};

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/sb-servers.XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->orch_dir, sizeof w->orch_dir, "%s/orch", w->dir);
    snprintf(w->bus_in, sizeof w->bus_in, "inproc://sbt-in-%d", (int)getpid());
    snprintf(w->bus_out, sizeof w->bus_out, "inproc://sbt-out-%d",
             (int)getpid());
    pthread_mutex_init(&w->mu, NULL);
    store_opts so = {.nosync = 1};
    assert_int_equal(store_db_open(w->dir, &so, &w->db), 0);
    assert_int_equal(store_writer_start(w->db, 0, &w->w), 0);
    assert_int_equal(rpc_bus_forwarder_open(&w->bus, w->bus_in, w->bus_out), 0);
    orch_config oc = {.data_dir = w->orch_dir,
                      .listen_url = "tcp://127.0.0.1:0",
                      .capacity = 2,
                      .custom_driver = &inproc_driver,
                      .custom_ctx = w};
    assert_int_equal(orch_role_start(&oc, &w->orch), 0);
    assert_int_equal(login_orch_open(orch_role_url(w->orch), 0, &w->lo), 0);
    login_config lc = {.db = w->db,
                       .w = w->w,
                       .orch = w->lo,
                       .bus_in = w->bus_in,
                       .pwcost = STORE_PW_FAST};
    assert_int_equal(rpc_server_create(&w->login_srv, NULL), 0);
    assert_int_equal(login_service_register(w->login_srv, &lc, &w->login), 0);
    assert_int_equal(rpc_server_listen(w->login_srv, "tcp://127.0.0.1:0"), 0);
    assert_int_equal(rpc_server_start(w->login_srv), 0);
    assert_int_equal(
        rpc_client_open(&w->c, rpc_server_url(w->login_srv, 0), NULL), 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    char cmd[128];
    rpc_client_close(w->c);
    rpc_server_destroy(w->login_srv);
    login_service_free(w->login);
    for (int i = 0; i < w->napps; i++)
        app_agent_stop(w->agents[i], 1);
    orch_role_stop(w->orch, 0);
    login_orch_close(w->lo);
    for (int i = 0; i < w->napps; i++)
        app_server_stop(w->apps[i]);
    rpc_bus_forwarder_close(w->bus);
    store_writer_stop(w->w);
    store_db_close(w->db);
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return 0;
}

/* Registers and logs name in; returns the reply (caller frees). */
static Sb__Social__LoginReply *enter(world *w, const char *name)
{
    Sb__Social__RegisterRequest rr = SB__SOCIAL__REGISTER_REQUEST__INIT;
    Sb__Social__LoginRequest lr = SB__SOCIAL__LOGIN_REQUEST__INIT;
    Sb__Social__Empty *e = NULL;
    Sb__Social__LoginReply *r = NULL;
    rpc_status st;
    rr.name = lr.name = (char *)name;
    rr.password = lr.password = "pw";
    sb_social_Login_RegisterUser(w->c, &rr, &e, NULL, &st);
    sb_social_Login_free(e);
    assert_int_equal(sb_social_Login_Login(w->c, &lr, &r, NULL, &st), RPC_OK);
    return r;
}

static int app_call_invite(world *w, const char *ep, const char *token,
                           const char *id, rpc_status *st)
{
    Sb__Social__InviteRequest q = SB__SOCIAL__INVITE_REQUEST__INIT;
    Sb__Social__Empty *e = NULL;
    rpc_opts o = {.token = token, .endpoint = ep};
    q.id = (char *)id;
    int rc = sb_social_App_Invite(w->c, &q, &e, &o, st);
    sb_social_App_free(e);
    return rc;
}

static void test_assign_and_redirect(void **state)
{
    world *w = *state;
    Sb__Social__LoginReply *a = enter(w, "ann"), *b = enter(w, "ben"),
                           *c = enter(w, "cat"), *a2 = enter(w, "ann");
    rpc_status st;

    /* capacity 2: two on app-1, the third launches app-2 */
    assert_string_equal(a->app_server_id, "app-1");
    assert_string_equal(b->app_server_id, "app-1");
    assert_string_equal(c->app_server_id, "app-2");
    assert_int_equal(w->napps, 2);
    /* a logged-in user gets the same token and server again */
    assert_string_equal(a2->token, a->token);
    assert_string_equal(a2->app_endpoint, a->app_endpoint);
    /* ann's call sent to app-2 is redirected to app-1 and applied there */
    assert_int_equal(app_call_invite(w, c->app_endpoint, a->token, "cat", &st),
                     RPC_OK);
    assert_string_equal(st.endpoint, a->app_endpoint);
    /* on the login endpoint: no token -> Not login yet; a token -> app-1 */
    assert_int_equal(app_call_invite(w, NULL, NULL, "cat", &st),
                     RPC_UNAUTHENTICATED);
    assert_string_equal(st.message, "Not login yet");
    assert_int_equal(app_call_invite(w, NULL, a->token, "cat", &st),
                     RPC_ALREADY_EXISTS);
    assert_string_equal(st.message, "Already invited");
    sb_social_Login_free(a);
    sb_social_Login_free(a2);
    sb_social_Login_free(b);
    sb_social_Login_free(c);
}

typedef struct recv_job {
    world *w;
    const char *ep, *token;
    uint32_t wait_ms;
    int rc;
    size_t n;
    char text[64];
    int64_t ms;
} recv_job;

static void *do_receive(void *arg)
{
    recv_job *j = arg;
    Sb__Social__ReceiveRequest q = SB__SOCIAL__RECEIVE_REQUEST__INIT;
    Sb__Social__ReceiveReply *r = NULL;
    rpc_opts o = {.token = j->token, .endpoint = j->ep, .timeout_ms = 10000};
    rpc_status st;
    int64_t t0 = rpc_now_mono_ms();
    q.wait_ms = j->wait_ms;
    j->rc = sb_social_App_Receive(j->w->c, &q, &r, &o, &st);
    j->ms = rpc_now_mono_ms() - t0;
    if (j->rc == RPC_OK) {
        j->n = r->n_deliveries;
        if (r->n_deliveries > 0)
            snprintf(j->text, sizeof j->text, "%s", r->deliveries[0]->text);
    }
    sb_social_App_free(r);
    return NULL;
}

static int befriend_and_send(world *w, Sb__Social__LoginReply *from,
                             Sb__Social__LoginReply *to, const uint8_t *reqid)
{
    Sb__Social__AcceptInviteRequest aq =
        SB__SOCIAL__ACCEPT_INVITE_REQUEST__INIT;
    Sb__Social__SendRequest sq = SB__SOCIAL__SEND_REQUEST__INIT;
    Sb__Social__Empty *e = NULL;
    rpc_opts o = {.token = to->token, .endpoint = to->app_endpoint};
    rpc_status st;
    if (reqid == NULL) {
        app_call_invite(w, from->app_endpoint, from->token, to->name, &st);
        aq.id = from->name;
        sb_social_App_AcceptInvite(w->c, &aq, &e, &o, &st);
        sb_social_App_free(e);
        e = NULL;
    }
    sq.to = to->name;
    sq.text = "wake up";
    rpc_opts so = {.token = from->token,
                   .endpoint = from->app_endpoint,
                   .request_id = reqid};
    int rc = sb_social_App_Send(w->c, &sq, &e, &so, &st);
    sb_social_App_free(e);
    return rc;
}

static void test_long_poll_woken_by_hint(void **state)
{
    world *w = *state;
    Sb__Social__LoginReply *d = enter(w, "dan"), *e = enter(w, "eve");
    recv_job idle = {w, e->app_endpoint, e->token, 300, -1, 0, "", 0};
    recv_job j = {w, e->app_endpoint, e->token, 5000, -1, 0, "", 0};
    pthread_t t;

    /* nothing to receive: answers empty when the wait ends */
    do_receive(&idle);
    assert_int_equal(idle.rc, RPC_OK);
    assert_int_equal(idle.n, 0);
    assert_true(idle.ms >= 250 && idle.ms < 3000);
    /* a parked Receive answers soon after the send, not at the deadline */
    assert_int_equal(pthread_create(&t, NULL, do_receive, &j), 0);
    usleep(300 * 1000);
    assert_int_equal(befriend_and_send(w, d, e, NULL), RPC_OK);
    pthread_join(t, NULL);
    assert_int_equal(j.rc, RPC_OK);
    assert_int_equal(j.n, 1);
    assert_string_equal(j.text, "wake up");
    assert_true(j.ms < 2500);
    sb_social_Login_free(d);
    sb_social_Login_free(e);
}

static void test_retried_send_applies_once(void **state)
{
    world *w = *state;
    Sb__Social__LoginReply *f = enter(w, "fay"), *g = enter(w, "gus");
    uint8_t id[RPC_REQUEST_ID_LEN];
    recv_job j = {w, g->app_endpoint, g->token, 0, -1, 0, "", 0};

    assert_int_equal(befriend_and_send(w, f, g, NULL), RPC_OK);
    rpc_random_bytes(id, sizeof id);
    assert_int_equal(befriend_and_send(w, f, g, id), RPC_OK);
    assert_int_equal(befriend_and_send(w, f, g, id), RPC_OK); /* a retry */
    do_receive(&j);
    assert_int_equal(j.rc, RPC_OK);
    assert_int_equal(j.n, 2);
    sb_social_Login_free(f);
    sb_social_Login_free(g);
}

static void test_logout_ends_token(void **state)
{
    world *w = *state;
    Sb__Social__LoginReply *h = enter(w, "hal");
    Sb__Social__Empty q = SB__SOCIAL__EMPTY__INIT, *e = NULL;
    rpc_opts o = {.token = h->token};
    rpc_status st;

    assert_int_equal(sb_social_Login_Logout(w->c, &q, &e, &o, &st), RPC_OK);
    sb_social_Login_free(e);
    assert_int_equal(app_call_invite(w, h->app_endpoint, h->token, "ann", &st),
                     RPC_UNAUTHENTICATED);
    assert_string_equal(st.message, "Not login yet");
    assert_int_equal(sb_social_Login_Logout(w->c, &q, &e, &o, &st),
                     RPC_UNAUTHENTICATED);
    sb_social_Login_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_assign_and_redirect, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_poll_woken_by_hint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retried_send_applies_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_logout_ends_token, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
