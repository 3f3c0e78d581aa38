# draw-pool-bench: the draw pool library in process (no RPC).
add_executable(draw-pool-bench ${CMAKE_CURRENT_SOURCE_DIR}/draw_pool_bench.c)
target_link_libraries(draw-pool-bench PRIVATE sb_drawpool)
