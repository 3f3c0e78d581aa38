# `sb-bench draw`: the draw service under closed-loop load, vs Redis INCRBY.
target_sources(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_draw.c
  ${CMAKE_CURRENT_SOURCE_DIR}/bench_draw_redis.c)
target_compile_definitions(sb-bench PRIVATE SB_BENCH_HAVE_DRAW)
target_link_libraries(sb-bench PRIVATE sb_drawsvc sb_netutil)
