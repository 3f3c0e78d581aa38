/* test_ec2_proc.c: child-process plumbing for the EC2 driver's tests (see
 * ec2/test_ec2_proc.h). Everything is bounded in time: reading the fake's
 * port, waiting for moto, and stopping either. */
#define _GNU_SOURCE
#include "ec2/test_ec2_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* fork + exec argv with stdin from a pipe we keep, stdout to out_fd (or
 * /dev/null when -1), stderr to /dev/null unless SB_TEST_VERBOSE. */
static pid_t spawn(char *const argv[], int *in_fd, int out_fd)
{
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        dup2(out_fd >= 0 ? out_fd : devnull, 1);
        if (getenv("SB_TEST_VERBOSE") == NULL)
            dup2(devnull, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    if (pid < 0) {
        close(in[1]);
        return -1;
    }
    *in_fd = in[1];
    return pid;
}

int ec2_proc_start_fake(const char *mode, ec2_proc *p)
{
    char script[4096], line[32];
    const char *src = getenv("SB_SOURCE_DIR");
    int out[2];
    size_t n = 0;
    memset(p, 0, sizeof *p);
    p->pid = -1;
    snprintf(script, sizeof script, "%s/tests/integration/ec2/fake_aws.py",
             src ? src : ".");
    if (pipe2(out, O_CLOEXEC) != 0)
        return -1;
    char *argv[] = {"python3", script, (char *)mode, NULL};
    p->pid = spawn(argv, &p->in_fd, out[1]);
    close(out[1]);
    long deadline = now_ms() + 10000;
    while (p->pid > 0 && n < sizeof line - 1 && now_ms() < deadline) {
        struct pollfd pf = {out[0], POLLIN, 0};
        if (poll(&pf, 1, 200) <= 0)
            continue;
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    p->port = atoi(line);
    if (p->port <= 0) {
        fprintf(stderr, "fake_aws.py %s did not start (%s)\n", mode, script);
        ec2_proc_stop(p);
        return -1;
    }
    return 0;
}

static int can_connect(int port)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

int ec2_proc_have_moto(void)
{
    return system("python3 -c 'import moto.server' >/dev/null 2>&1") == 0;
}

int ec2_proc_start_moto(ec2_proc *p)
{
    char port[16];
    memset(p, 0, sizeof *p);
    p->pid = -1;
    p->port = sb_free_port();
    snprintf(port, sizeof port, "%d", p->port);
    char *argv[] = {"python3",   "-m", "moto.server", "-H",
                    "127.0.0.1", "-p", port,          NULL};
    if (p->port <= 0 || (p->pid = spawn(argv, &p->in_fd, -1)) < 0)
        return -1;
    long deadline = now_ms() + 20000;
    while (now_ms() < deadline) {
        if (can_connect(p->port))
            return 0;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = -1; /* exited early: port taken, or moto broken */
            break;
        }
        usleep(100 * 1000);
    }
    fprintf(stderr, "moto.server did not come up on port %d\n", p->port);
    ec2_proc_stop(p);
    return -1;
}

void ec2_proc_stop(ec2_proc *p)
{
    if (p->in_fd > 0)
        close(p->in_fd);
    p->in_fd = 0;
    if (p->pid <= 0)
        return;
    kill(-p->pid, SIGTERM);
    kill(p->pid, SIGTERM);
    long deadline = now_ms() + 3000;
    while (now_ms() < deadline) {
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = -1;
            return;
        }
        usleep(20 * 1000);
    }
    kill(-p->pid, SIGKILL);
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = -1;
}
