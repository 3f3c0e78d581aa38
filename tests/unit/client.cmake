# libsb and script mode of `sb` (clients/), against a fake transport.
sb_test(test_sb_script
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sb_script.c
  LIBS sb_script sb
  TIMEOUT 60)
