/* rpc_nng_cpus.c: how many CPUs nng 1.5.2 sizes its thread pools for.
 * nng starts 2 × sysconf(_SC_NPROCESSORS_ONLN) task threads per process
 * (16 at most) and has no API to change that (later versions added
 * nng_init_set_parameter). A
 * message crosses to a task thread 3-6 times in nng (socket read, pipe,
 * protocol, context, our callback); with 4 task threads for 2 cores and a
 * light load, each crossing wakes a sleeping thread — a context switch —
 * where fewer threads would find the next task still running. Measured on
 * the social path: the app servers spend a quarter less CPU per post with
 * nng sized for 1 CPU (docs/benchmarks.md). This file defines sysconf: the
 * dynamic linker binds libnng's call to the executable's definition first, and
 * this one answers _SC_NPROCESSORS_ONLN with the chosen count and passes every
 * other name, and the unchanged case, to glibc's __sysconf. */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "rpc.h"

long __sysconf(int name); /* glibc's own, exported */

/* Written once, before nng starts (rpc_nng_cpus' contract); atomic only so
 * a stray later read from another thread is well defined. */
static atomic_int nng_cpus;

void rpc_nng_cpus(int n)
{
    const char *env = getenv("SB_NNG_CPUS");
    long v;
    char *end;

    if (env != NULL && (v = strtol(env, &end, 10)) > 0 && v <= 256 &&
        *end == '\0')
        n = (int)v; /* the operator's override, for measuring */
    atomic_store(&nng_cpus, n > 0 && n <= 256 ? n : 0);
}

int rpc_nng_cpus_get(void)
{
    int n = atomic_load(&nng_cpus);
    return n > 0 ? n : (int)__sysconf(_SC_NPROCESSORS_ONLN);
}

int rpc_nng_task_threads(void)
{
    int t = 2 * rpc_nng_cpus_get();
    return t < 1 ? 1 : t > 16 ? 16 : t; /* nng 1.5.2's own bounds */
}

long sysconf(int name)
{
    int n;
    if (name == _SC_NPROCESSORS_ONLN && (n = atomic_load(&nng_cpus)) > 0)
        return n;
    return __sysconf(name);
}
