# sb-bench's load generators end to end (short runs; figures are not
# checked, only that every call was answered and every number distinct).
add_test(NAME test_bench_runs
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_bench_runs.sh)
set_tests_properties(test_bench_runs PROPERTIES TIMEOUT 400
  ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;SB_SOURCE_DIR=${CMAKE_SOURCE_DIR};LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0")
# sb-bench's end-to-end instruments: every message once (and the check
# failing on a duplicate or a loss), vs Redis Streams, chat, soak, mailboxes.
add_test(NAME test_bench_e2e
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_bench_e2e.sh)
set_tests_properties(test_bench_e2e PROPERTIES TIMEOUT 600
  ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0")
# sbd --nng-cpus / SB_NNG_CPUS: nng's task pool as configured.
add_test(NAME test_nng_cpus
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_nng_cpus.sh)
set_tests_properties(test_nng_cpus PROPERTIES TIMEOUT 120
  ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0")
