# Golden tests (tests/golden/cases) and the course conformance cases,
# through real sbd and sb processes on 127.0.0.1. Skipped (exit 77) until
# build/bin/sbd exists; conformance also when ../shared is absent.
add_test(NAME golden
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_golden.sh)
add_test(NAME conformance_np2018
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_conformance.sh)
foreach(_t golden conformance_np2018)
  set_tests_properties(${_t} PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77
    RUN_SERIAL TRUE
    ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;SB_SHARED_DIR=${SB_SHARED_DIR}")
endforeach()
