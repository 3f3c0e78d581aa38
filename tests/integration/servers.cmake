# The login and app roles end to end in one process (real LMDB, real nng
# sockets on 127.0.0.1); the sbd binary itself is covered by the golden
# and conformance runs (tests/golden).
sb_test(test_servers SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_servers.c
        LIBS sb_login sb_app sb_app_agent sb_orch TIMEOUT 120)
