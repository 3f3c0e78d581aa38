# The RPC runtime's tests (real nng sockets on loopback).
sb_test(test_rpc SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc.c
        LIBS sb_echo TIMEOUT 300)
sb_test(test_bus SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_bus.c
        LIBS sb_proto TIMEOUT 120)
