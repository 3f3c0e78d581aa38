# The HTTP module alone (servers/http/): limits, slow clients, gzip,
# static files, deferred answers, streams, stop.
find_package(ZLIB REQUIRED)
sb_test(test_http SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_http.c
        LIBS sb_http sb_hc ZLIB::ZLIB Threads::Threads TIMEOUT 120)
