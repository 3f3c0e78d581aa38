/* rpc_peer.c: who is calling (rpc_peer.h). A call carries the caller's
 * role credential in its envelope; the server's verifier (rpc_trust.h's
 * keyring) checks it the first time a handler, or a method's role rule,
 * asks, and the answer stays with the call. The transport and source
 * address come from nng's pipe or from the epoll engine's connection.
 * Role rules are data: one set of roles per method, checked by the call
 * path before the body is decoded. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "rpc_server_internal.h"
#include "sb_log.h"

static const char *const role_names[RPC_ROLE_COUNT] = {
    [RPC_ROLE_NONE] = "unauthenticated",
    [RPC_ROLE_LOGIN] = "login",
    [RPC_ROLE_APP] = "app",
    [RPC_ROLE_ORCHESTRATOR] = "orchestrator",
    [RPC_ROLE_STORE] = "store",
    [RPC_ROLE_DRAW] = "draw",
    [RPC_ROLE_BUS] = "bus",
    [RPC_ROLE_WEB] = "web",
};

const char *rpc_role_name(rpc_role r)
{
    if ((unsigned)r >= RPC_ROLE_COUNT)
        return role_names[RPC_ROLE_NONE];
    return role_names[r];
}

rpc_role rpc_role_from_name(const char *name, size_t n)
{
    for (int r = RPC_ROLE_NONE + 1; r < RPC_ROLE_COUNT; r++)
        if (strlen(role_names[r]) == n && memcmp(role_names[r], name, n) == 0)
            return (rpc_role)r;
    return RPC_ROLE_NONE;
}

void rpc_addr_format(const rpc_addr *a, char *out, size_t n)
{
    out[0] = '\0';
    if (a->family == 4)
        inet_ntop(AF_INET, a->ip, out, (socklen_t)n);
    else if (a->family == 6)
        inet_ntop(AF_INET6, a->ip, out, (socklen_t)n);
}

/* Transport and source address of a call that came through nng. */
static void pipe_origin(uint32_t pipe_id, rpc_peer *p)
{
    nng_pipe pipe = NNG_PIPE_INITIALIZER;
    nng_sockaddr sa;
    bool verified;
    rpc_addr a = {0};

    pipe.id = pipe_id;
    if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0)
        return; /* gone already */
    if (sa.s_family == NNG_AF_IPC) {
        p->transport = RPC_TRANSPORT_IPC;
        return;
    }
    if (sa.s_family == NNG_AF_INPROC) {
        p->transport = RPC_TRANSPORT_INPROC;
        return;
    }
    if (sa.s_family == NNG_AF_INET) {
        a.family = 4;
        memcpy(a.ip, &sa.s_in.sa_addr, 4);
    } else if (sa.s_family == NNG_AF_INET6) {
        a.family = 6;
        memcpy(a.ip, sa.s_in6.sa_addr, 16);
    }
    /* only TLS pipes know this option */
    p->transport = nng_pipe_get_bool(pipe, NNG_OPT_TLS_VERIFIED, &verified) == 0
                       ? RPC_TRANSPORT_TLS
                       : RPC_TRANSPORT_TCP;
    rpc_addr_format(&a, p->addr, sizeof p->addr);
}

/* A refused credential, said at most once a second per server: a flood
 * of forged calls must not flood the log. */
static void warn_forged(rpc_call *call, const rpc_peer *p, size_t len)
{
    rpc_server *s = rpc_call_server(call);
    int64_t now = rpc_now_mono_ms(),
            last = __atomic_load_n(&s->warned_cred_ms, __ATOMIC_RELAXED);
    if (last != 0 && now - last < 1000)
        return;
    if (!__atomic_compare_exchange_n(&s->warned_cred_ms, &last, now, 0,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    sb_warn(s->name,
            "%s: refused a role credential (%zu bytes) from %s: forged, "
            "malformed, or of a role this server holds no key for "
            "(said at most once a second)",
            rpc_call_method(call), len, p->addr[0] ? p->addr : "a local peer");
}

/* The call's peer, its credential verified; its transport and address
 * looked up too when locate (nng's pipe lookups cost more than the
 * verification, and a role rule does not need them). */
static rpc_peer *peer_get(rpc_call *call, int locate)
{
    rpc_origin *o = rpc_call_origin(call);
    rpc_peer *p = o->peer;
    if (p == NULL) {
        p = o->peer = rpc_call_alloc(call, sizeof *p);
        memset(p, 0, sizeof *p);
    }
    if (locate && !o->located) {
        o->located = 1;
        if (o->from.family != 0) { /* the epoll engine: plain tcp:// */
            p->transport = RPC_TRANSPORT_TCP;
            rpc_addr_format(&o->from, p->addr, sizeof p->addr);
        } else if (o->pipe_id != 0) {
            pipe_origin(o->pipe_id, p);
        }
    }
    if (o->checked)
        return p;
    o->checked = 1;
    const rpc_verifier *v = rpc_call_server(call)->cfg.verifier;
    if (o->credential.len > 0) {
        rpc_role role = RPC_ROLE_NONE;
        char id[RPC_ROLE_ID_MAX] = "";
        p->cred = RPC_CRED_INVALID;
        if (v != NULL && o->credential.data != NULL &&
            v->fn(v->arg, (const char *)o->credential.data, o->credential.len,
                  &role, id) == 0 &&
            role != RPC_ROLE_NONE && (unsigned)role < RPC_ROLE_COUNT) {
            p->cred = RPC_CRED_VALID;
            p->role = role;
            snprintf(p->id, sizeof p->id, "%s", id);
        } else {
            peer_get(call, 1); /* the log names where it came from */
            warn_forged(call, p, o->credential.len);
        }
    }
    return p;
}

const rpc_peer *rpc_call_peer(rpc_call *call)
{
    return peer_get(call, 1);
}

/* "login", "login or app", "login, app or web". */
static void roles_text(unsigned roles, char *out, size_t n)
{
    int k = 0, total = 0;
    for (int r = 1; r < RPC_ROLE_COUNT; r++)
        total += (roles & RPC_ROLE_BIT(r)) != 0;
    out[0] = '\0';
    for (int r = 1; r < RPC_ROLE_COUNT; r++) {
        if (!(roles & RPC_ROLE_BIT(r)))
            continue;
        size_t len = strlen(out);
        const char *sep = k == 0 ? "" : k == total - 1 ? " or " : ", ";
        snprintf(out + len, n - len, "%s%s", sep, role_names[r]);
        k++;
    }
}

int rpc_call_require_role(rpc_call *call, unsigned roles)
{
    const rpc_peer *p = peer_get(call, 0);
    char want[128];
    if (p->cred == RPC_CRED_VALID && (roles & RPC_ROLE_BIT(p->role)))
        return RPC_OK;
    roles_text(roles, want, sizeof want);
    if (p->cred == RPC_CRED_NONE)
        return rpc_call_fail(call, RPC_UNAUTHENTICATED,
                             "%s is internal (for %s): the caller presented "
                             "no role credential",
                             rpc_call_method(call), want);
    if (p->cred == RPC_CRED_INVALID)
        return rpc_call_fail(call, RPC_UNAUTHENTICATED,
                             "%s is internal (for %s): the caller's role "
                             "credential is not valid here",
                             rpc_call_method(call), want);
    return rpc_call_fail(
        call, RPC_PERMISSION_DENIED, "%s is for %s only; the caller is %s %s",
        rpc_call_method(call), want, rpc_role_name(p->role), p->id);
}

int rpc_server_require_role(rpc_server *s, const char *name, unsigned roles)
{
    size_t n = strlen(name);
    int found = 0;
    if (s->started)
        return NNG_EBUSY; /* the call path reads it without a lock */
    for (size_t i = 0; i < s->n_methods; i++) {
        const char *m = s->methods[i]->name;
        if (strcmp(m, name) == 0 || (strncmp(m, name, n) == 0 && m[n] == '/')) {
            s->methods[i]->roles = roles;
            found = 1;
        }
    }
    return found ? 0 : NNG_ENOENT;
}
