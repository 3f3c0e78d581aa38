# sb-bench: one binary, a subcommand per benchmark. Other parts add their
# sources with target_sources(sb-bench ...) and a SB_BENCH_HAVE_X define.
add_executable(sb-bench ${CMAKE_CURRENT_SOURCE_DIR}/sb_bench.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_util.c ${CMAKE_CURRENT_SOURCE_DIR}/bench_sbd.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_rpc.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_rpc_srv.c ${CMAKE_CURRENT_SOURCE_DIR}/bench_wire.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_resp.c ${CMAKE_CURRENT_SOURCE_DIR}/bench_redis.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_proc.c)
target_include_directories(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(sb-bench PRIVATE sb_echo sb_netutil sb_proto PkgConfig::LMDB)
install(TARGETS sb-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
