# The web role of a real sbd over plain HTTP (tests/web/test_web_*.c):
# same texts as script mode, markup, stream injection, CSRF, limits,
# login backoff, acknowledgement after receipt, a reader that stops; and
# (test_web_load) 1000 open event streams and slow clients while a real
# session works.
set(_tsp ${CMAKE_SOURCE_DIR}/tests/integration/test_social_proc.c)
foreach(_t test_web_http test_web_load)
  sb_test(${_t} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/${_t}.c
          ${CMAKE_CURRENT_SOURCE_DIR}/web_test_util.c ${_tsp}
          LIBS sb_hc sb_netutil Threads::Threads TIMEOUT 240)
  target_include_directories(${_t} PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration)
  add_dependencies(${_t} sbd sb-client)
endforeach()
# `sbd web --login URL` alone beside an `sbd all --web-port 0`.
add_test(NAME test_web_alone COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_web_alone.sh)
set_tests_properties(test_web_alone PROPERTIES TIMEOUT 120
  ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
