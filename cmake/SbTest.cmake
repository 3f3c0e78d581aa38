# sb_test(NAME SOURCES a.c b.c LIBS x y [TIMEOUT s] [LABELS l])
# One cmocka (or plain) test executable registered with ctest. Test
# binaries land in build/tests/. Every test has a timeout so none hangs.
# Every test gets tests/lsan.supp (nng 1.5.2's known leaks) as scripts/test.sh
# gives it, so a bare `ctest` judges leaks the same way; a test may append
# its own LSAN_OPTIONS (the later entry wins).
function(sb_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                        ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;SB_SHARED_DIR=${SB_SHARED_DIR};SB_SOURCE_DIR=${CMAKE_SOURCE_DIR};LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0")
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
