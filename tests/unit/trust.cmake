# The trust layer (docs/trust.md): secrets, credentials, the admin token
# and the plane check (no sockets); the login limiter and the dummy
# verify (a simulated clock, real Argon2id).
sb_test(test_trust SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_trust.c
        LIBS sb_trust TIMEOUT 120)
sb_test(test_login_limit SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_login_limit.c
        LIBS sb_login TIMEOUT 120)
