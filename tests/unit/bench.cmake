# The benchmarks' wire client against a real rpc_server on 127.0.0.1.
sb_test(test_bench_wire SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_bench_wire.c
        ${CMAKE_SOURCE_DIR}/bench/bench_wire.c ${CMAKE_SOURCE_DIR}/bench/bench_util.c
        LIBS sb_echo sb_netutil TIMEOUT 120)
target_include_directories(test_bench_wire PRIVATE ${CMAKE_SOURCE_DIR}/bench)
