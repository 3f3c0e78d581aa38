# sb-bench trust: what mutual TLS and role credentials cost per call
# (plain, plain + credential, TLS, TLS + credential, alternating rounds).
target_sources(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_trust.c)
target_compile_definitions(sb-bench PRIVATE SB_BENCH_HAVE_TRUST)
target_link_libraries(sb-bench PRIVATE sb_trust)
add_dependencies(sb-bench sbd)
