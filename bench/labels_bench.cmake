# store-labels-bench: the knowledge base's data layer in process (no RPC).
add_executable(store-labels-bench ${CMAKE_SOURCE_DIR}/bench/store_labels_bench.c)
target_link_libraries(store-labels-bench PRIVATE sb_storedb)
