# The fleet core: logic on a real LMDB record, the local driver with real
# processes, the status page over real HTTP on 127.0.0.1.
sb_test(test_fleet_logic
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_fleet_logic.c
  LIBS sb_fleet TIMEOUT 60)
