# sb-bench fleet: a cold fleet (local driver) under a login storm, through
# `sbd orchestrator` and `sbd all --orchestrator URL` child processes.
target_sources(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_fleet.c)
target_compile_definitions(sb-bench PRIVATE SB_BENCH_HAVE_FLEET)
target_link_libraries(sb-bench PRIVATE sb sb_netutil Threads::Threads)
add_dependencies(sb-bench sbd)
