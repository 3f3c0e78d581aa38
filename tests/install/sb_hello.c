/* sb_hello.c: the smallest libsb client, built by test_install.sh from
 * an installed Switchboard with nothing but `pkg-config --cflags --libs
 * sb`: registers NAME (if it is new), logs in, and asks whoami.
 * usage: sb_hello HOST PORT NAME PASSWORD */
#include <stdio.h>
#include <stdlib.h>

#include <sb.h>

int main(int argc, char **argv)
{
    sb_session *s = NULL;
    sb_user u;
    Sb__Social__SessionInfo *info = NULL;
    rpc_status st;
    int rc = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: sb_hello HOST PORT NAME PASSWORD\n");
        return 2;
    }
    if (sb_probe(argv[1], atoi(argv[2]), 0, &st) != RPC_OK ||
        sb_open(&s, argv[1], atoi(argv[2]), &st) != RPC_OK)
        goto out;
    if (sb_register(s, argv[3], argv[4], &st) != RPC_OK &&
        st.code != RPC_ALREADY_EXISTS)
        goto out;
    if (sb_login(s, argv[3], argv[4], &u, &st) != RPC_OK ||
        sb_whoami(s, &u, &info, &st) != RPC_OK)
        goto out;
    printf("%s logged in on %s\n", info->name, info->app_server_id);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "sb_hello: %s\n", st.message);
    sb_free(info);
    sb_close(s);
    return rc;
}
