/* bench_util.h: what every sb-bench subcommand shares: latency samples
 * and their percentiles, flag parsing, and one line of figures. */
#ifndef SB_BENCH_UTIL_H
#define SB_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bench_samples {
    int64_t *us;
    size_t n, cap;
} bench_samples;

/** Appends one latency (µs); returns 0, or -1 when out of memory. */
int bench_samples_add(bench_samples *s, int64_t us);
/** Moves every sample of from into to and empties from. */
int bench_samples_merge(bench_samples *to, bench_samples *from);
void bench_samples_free(bench_samples *s);

typedef struct bench_result {
    const char *name;
    double seconds;
    uint64_t calls, errors;
    double calls_per_s;
    int64_t p50_us, p90_us, p99_us, max_us;
} bench_result;

/** Sorts the samples and fills the percentiles of r. */
void bench_result_fill(bench_result *r, bench_samples *s);
/** Writes (writing != 0) or reads exactly n bytes on fd, going on after
 * EINTR. Returns 0, or -1 on an error or end of file. */
int bench_full_io(int fd, void *buf, size_t n, int writing);

/** An epoll instance watching fd_of(arg, i) for input, i = 0..n-1, each
 * registered with data.u32 = i: the load generators' event loop (one
 * epoll_wait per wake-up instead of poll()'s walk over every connection).
 * Returns the epoll fd, or -1 (errno set). */
int bench_epoll_open(int (*fd_of)(void *arg, int i), void *arg, int n);

/** Adds one round's figures into tot (zeroed before the first round):
 * calls and time add up; the latency figures kept are the worst round's
 * (conservative). Used where two systems alternate in rounds so that a
 * change in the machine's speed hits both alike. */
void bench_result_add_round(bench_result *tot, const bench_result *r);
/** "name: 51234 calls/s  p50 180us  p90 ..." (or a JSON object). */
void bench_result_print(const bench_result *r, int json);

/** Parses "--name value" into an int with bounds; returns 1 when argv[*i]
 * was that flag (and advances *i), 0 when it was not, -1 on a bad value
 * (with a message on stderr). */
int bench_flag_int(int argc, char **argv, int *i, const char *name, long lo,
                   long hi, long *out);
int bench_flag_str(int argc, char **argv, int *i, const char *name,
                   const char **out);

/** Names the subcommand running ("rpc"): the prefix of progress lines
 * and the "bench" field of every JSON object. */
void bench_set_name(const char *cmd);
/** A progress line on stderr, "sb-bench CMD: ...": stdout is flushed
 * first, so results and progress keep their order in one file. */
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Starts one JSON line: prints {"bench":"CMD","name":"NAME" - the caller
 * adds its fields (",\"x\":1") and ends it with "}\n" (docs/benchmarks.md,
 * "JSON output", lists every object). */
void bench_json_head(const char *name);

/** Sleeps ms milliseconds. */
void bench_sleep_ms(int ms);
/** Starts `sbd --data-dir DIR/data --base-port P` on 127.0.0.1 in its own
 * process group, logging to DIR/sbd.log, and waits (30 s at most) until
 * its login port accepts. *port: 0 = pick seven free ports below 32768
 * (filled in). Returns sbd's pid, or -1 when it could not start. */
pid_t bench_start_sbd(const char *sbd, const char *dir, int *port);
/** Stops a bench_start_sbd() child and its process group: SIGTERM, up to
 * 10 s for sbd to exit, then SIGKILL to the group. pid <= 0: nothing. */
void bench_stop_sbd(pid_t pid);
/** Writes the path of the sbd beside this executable into buf. */
void bench_default_sbd(char *buf, size_t n);

#endif
