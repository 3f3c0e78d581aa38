# The RPC runtime's tests (real nng sockets on loopback).
sb_test(test_rpc SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc.c
        LIBS sb_echo TIMEOUT 300)
sb_test(test_bus SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_bus.c
        LIBS sb_proto TIMEOUT 120)
# The same tests with tcp:// served by the epoll engine (rpc_sp_tcp.c).
sb_test(test_rpc_epoll SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc.c
        LIBS sb_echo TIMEOUT 300 ARGS epoll)
# The hand-written envelope codec against protobuf-c (no sockets).
sb_test(test_rpc_wire SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc_wire.c
        LIBS sb_echo TIMEOUT 120)
# The epoll engine against raw TCP peers that misspeak SP (handshakes,
# limits, backtraces, split/pipelined frames, a peer that never reads,
# churn, late replies to closed connections, stop with connections open).
sb_test(test_rpc_sp SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc_sp.c
        LIBS sb_echo sb_netutil TIMEOUT 120)
# nng 1.5.2 leaks its own pipe objects now and then when a server drops a
# connection (see the .lsan file); scoped to the tests that drop them.
foreach(_t test_rpc test_rpc_epoll test_rpc_sp)
  set_property(TEST ${_t} APPEND PROPERTY ENVIRONMENT
    "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/unit/test_rpc.lsan:print_suppressions=0")
endforeach()
