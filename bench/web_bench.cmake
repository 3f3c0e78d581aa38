# sb-bench web: logins, idle stream memory and deliveries to pages through
# the web role of a child sbd (the web tests' HTTP client, tests/web/hc.c).
target_sources(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_web.c)
target_compile_definitions(sb-bench PRIVATE SB_BENCH_HAVE_WEB)
target_link_libraries(sb-bench PRIVATE sb_hc sb_rpc)
