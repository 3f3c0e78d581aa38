# sb-bench social: durable posts, sends and end-to-end delivery through a
# child sbd (and the same shapes on Redis Streams with --vs-redis), the
# soak and big-mailbox modes, and a one-fsync'd-commit-per-write LMDB loop.
# sb_storedb: --mailboxes pre-fills the store through its data layer.
target_sources(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_social.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_social_wire.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_social_redis.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_social_nng.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_soak.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_mailbox.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_e2e.c)
target_compile_definitions(sb-bench PRIVATE SB_BENCH_HAVE_SOCIAL)
target_link_libraries(sb-bench PRIVATE sb sb_storedb PkgConfig::LMDB Threads::Threads)
add_dependencies(sb-bench sbd)
