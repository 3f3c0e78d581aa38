/* bench_main.h: the entry point of each sb-bench subcommand. */
#ifndef SB_BENCH_MAIN_H
#define SB_BENCH_MAIN_H

int bench_rpc_main(int argc, char **argv);
int bench_draw_main(int argc, char **argv);
int bench_social_main(int argc, char **argv);
int bench_fleet_main(int argc, char **argv);
int bench_chat_main(int argc, char **argv);
int bench_web_main(int argc, char **argv);
int bench_trust_main(int argc, char **argv);

#endif
