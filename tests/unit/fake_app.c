/* fake_app.c: stands in for `sbd app` in the local-driver tests. It writes
 * DIR/ID.pid when it starts (the test then registers and heartbeats for
 * it, until the RPC runtime exists) and runs until SIGTERM; with
 * --stubborn ID it ignores SIGTERM, so the driver must SIGKILL it.
 * Usage: fake_app --dir DIR --id ID [--stubborn ID] */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *dir = NULL, *id = NULL, *stubborn = "";
    char path[512], tmp[520];
    FILE *fp;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--id") == 0)
            id = argv[i + 1];
        else if (strcmp(argv[i], "--stubborn") == 0)
            stubborn = argv[i + 1];
    }
    if (dir == NULL || id == NULL) {
        fprintf(stderr, "usage: fake_app --dir DIR --id ID [--stubborn ID]\n");
        return 2;
    }
    if (strcmp(stubborn, id) == 0)
        signal(SIGTERM, SIG_IGN);
    snprintf(path, sizeof(path), "%s/%s.pid", dir, id);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fp = fopen(tmp, "w")) == NULL)
        return 1;
    fprintf(fp, "%d\n", (int)getpid());
    fclose(fp);
    rename(tmp, path); /* the test never sees a half-written file */
    /* Bounded: even if every stop failed, this ends within 120 s. */
    for (int i = 0; i < 1200; i++)
        usleep(100000);
    return 0;
}
