# store-commit-bench: group commit vs one fsync'd commit per write.
add_executable(store-commit-bench ${CMAKE_SOURCE_DIR}/bench/store_commit_bench.c)
target_link_libraries(store-commit-bench PRIVATE sb_storedb)
