/* bench_proc.h: what the processes under test cost, read from /proc: CPU
 * (utime + stime, every thread) and RSS of sbd, each of its children (the
 * app servers) and redis-server, and the load generator's own CPU, taken
 * before and after a phase and divided by the phase's messages. So "server
 * CPU per durable send" is read off one line, robust to other engineers'
 * load on the shared machine (which moves messages/s, not CPU/message). */
#ifndef SB_BENCH_PROC_H
#define SB_BENCH_PROC_H

#include <stdint.h>
#include <sys/types.h>

#define BENCH_PROCS_MAX 128

/** One process as seen at one moment. */
typedef struct bench_proc {
    pid_t pid;
    char role[24]; /* "sbd", "app" (an `sbd app` child), "redis-server" */
    double cpu_s;  /* utime + stime so far, seconds */
    long rss_kib;  /* VmRSS: anonymous memory and mapped file pages (an
                      LMDB environment's pages count here once touched) */
    long anon_kib; /* RssAnon: the heap and stacks alone */
    double cs;     /* context switches so far, every thread (voluntary and
                      not): thread hand-offs show here */
} bench_proc;

/** The watched processes at one moment, and this process's own CPU. */
typedef struct bench_procs {
    int n;
    bench_proc p[BENCH_PROCS_MAX];
    double self_cpu_s; /* the load generator (getrusage, every thread) */
    int64_t at_us;     /* monotonic time of the snapshot */
    long long commits; /* the store's last LMDB txn id, -1 unknown (the
                          caller fills it: bench_lmdb_txnid) */
} bench_procs;

/** utime + stime of @pid in seconds, and its parent's pid in *ppid (may be
 * NULL). Returns -1 when the process is gone or /proc is unreadable. */
double bench_proc_cpu_s(pid_t pid, pid_t *ppid);

/** VmRSS of @pid in KiB, or -1. */
long bench_proc_rss_kib(pid_t pid);
/** RssAnon of @pid in KiB (VmRSS without mapped files), or -1. */
long bench_proc_anon_kib(pid_t pid);

/** Context switches of every thread of @pid so far (the sum of
 * voluntary_ctxt_switches and nonvoluntary_ctxt_switches over
 * every /proc/PID/task/TID/status), or -1. */
double bench_proc_ctxsw(pid_t pid);

/** Snapshots @roots[0..n-1] (pid <= 0 entries are skipped) and every child
 * of each (found by parent pid in /proc, named by its argv[1] when it is
 * an sbd: "app"), plus this process's CPU. Never fails: a process that is
 * gone is left out. */
void bench_procs_take(bench_procs *s, const pid_t *roots, int n);

/** CPU per message between two snapshots, by process kind. */
typedef struct bench_cpu_split {
    double self_us; /* the load generator */
    double sbd_us;  /* sbd itself: store, login, bus, orchestrator, draw */
    double apps_us; /* every app child together */
    double app_min_us, app_max_us; /* the cheapest and dearest app */
    int apps;                      /* app processes seen */
    double redis_us;               /* redis-server */
    double server_us; /* every server process: sbd + apps + redis */
    /* context switches per message */
    double sbd_cs, apps_cs, redis_cs;
    double commits; /* the store's write transactions (fsyncs) per
                       message; -1 unknown */
} bench_cpu_split;

/** Splits the CPU spent between @a and @b over @messages (1 when 0). A
 * process in @b that @a lacks counts from 0 (it started in between). */
void bench_cpu_split_of(const bench_procs *a, const bench_procs *b,
                        uint64_t messages, bench_cpu_split *out);

/** Prints the split: "  cpu per message: server 103.2 us (sbd 38.9, 5
 * apps 64.3: 12.1-13.9 each); load generator 13.7 us; context switches:
 * sbd 2.1, apps 5.3; store commits 0.05", or with @json the object
 * {"bench":..,"name":"NAME cpu","server_us":..,"sbd_us":..,"apps_us":..,
 * "apps":..,"redis_us":..,"bench_us":..,"sbd_cs":..,"apps_cs":..,
 * "redis_cs":..,"commits":..} (commits -1: not known). */
void bench_cpu_print(const char *name, const bench_cpu_split *c, int json);

/** Adds @b into @tot (rounds of one phase): CPU figures are weighted by
 * @messages of the round, *@tot_messages accumulates them. */
void bench_cpu_add_round(bench_cpu_split *tot, uint64_t *tot_messages,
                         const bench_cpu_split *b, uint64_t messages);

/** The id of the last committed write transaction of the LMDB
 * environment in @dir (mdb_env_info, read-only, no transaction: safe
 * while its owner writes), or -1. Each commit of the store is one fsync,
 * so its growth over a phase counts the group commits. */
long long bench_lmdb_txnid(const char *dir);

/** Sum of the sizes (st_size) of the files named data.mdb under @dir (any
 * depth), in bytes; in *store_bytes (may be NULL) the one under a
 * directory named "store". Returns -1 when @dir cannot be read. */
long long bench_lmdb_bytes(const char *dir, long long *store_bytes);

#endif
