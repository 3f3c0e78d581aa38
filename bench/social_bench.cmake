# sb-bench social: durable posts/sends end to end through a child sbd,
# and a one-fsync'd-commit-per-write LMDB loop for the ratio.
target_sources(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_social.c)
target_compile_definitions(sb-bench PRIVATE SB_BENCH_HAVE_SOCIAL)
target_link_libraries(sb-bench PRIVATE sb PkgConfig::LMDB Threads::Threads)
add_dependencies(sb-bench sbd)
