# The trust layer (docs/trust.md): secrets, credentials, the admin token
# and the plane check (no sockets); the login limiter and the dummy
# verify (a simulated clock, real Argon2id).
sb_test(test_trust SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_trust.c
        LIBS sb_trust TIMEOUT 120)
sb_test(test_login_limit SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_login_limit.c
        LIBS sb_login TIMEOUT 120)
# Who may call, over real sockets (rpc_peer.h, rpc_plane_check, ipc://
# privacy, mutual TLS with `sbd certs` files); both tcp engines.
sb_test(test_rpc_trust SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc_trust.c
        LIBS sb_echo sb_trust sb_netutil TIMEOUT 180)
sb_test(test_rpc_trust_epoll
        SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc_trust.c
        LIBS sb_echo sb_trust sb_netutil TIMEOUT 180 ARGS epoll)
# Connection limits of a client-facing server: 10,000 idle connections
# closed after the timeout while a real client keeps calling, and the
# per-address cap; both tcp engines.
sb_test(test_rpc_conns SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc_conns.c
        LIBS sb_echo sb_netutil TIMEOUT 300)
sb_test(test_rpc_conns_epoll
        SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpc_conns.c
        LIBS sb_echo sb_netutil TIMEOUT 300 ARGS epoll)
# 10,000 connections and their descriptors: alone, not beside the
# timing-bounded socket tests.
set_tests_properties(test_rpc_conns test_rpc_conns_epoll PROPERTIES
                     RUN_SERIAL TRUE)
