/* test_ec2_proc.h: starting and stopping the python helpers of the EC2
 * driver's tests (fake_aws.py, moto.server) as bounded child processes on
 * 127.0.0.1. A child dies with the test (PR_SET_PDEATHSIG, and fake_aws.py
 * exits when its stdin closes), so a failed test leaves nothing behind. */
#ifndef TEST_EC2_PROC_H
#define TEST_EC2_PROC_H

#include <sys/types.h>

typedef struct ec2_proc {
    pid_t pid;
    int in_fd; /* the child's stdin; closing it stops fake_aws.py */
    int port;
} ec2_proc;

/* Starts fake_aws.py MODE (from $SB_SOURCE_DIR/tests/integration/ec2) and
 * reads the port it printed (10 s at most). Returns 0 or -1. */
int ec2_proc_start_fake(const char *mode, ec2_proc *p);
/* 1 if python3 can import moto.server, else 0. */
int ec2_proc_have_moto(void);
/* Starts moto.server on a free port and waits (20 s at most) until it
 * accepts connections. Returns 0 or -1. */
int ec2_proc_start_moto(ec2_proc *p);
/* Stops the child: SIGTERM to its process group, SIGKILL after 3 s. */
void ec2_proc_stop(ec2_proc *p);
/* A port on 127.0.0.1 that nothing listens on (bound, then released). */
#include "sb_netutil.h" /* sb_free_port() */

#endif
