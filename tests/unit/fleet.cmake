# The fleet core: logic on a real LMDB record, the local driver with real
# processes, the status page over real HTTP on 127.0.0.1.
sb_test(test_fleet_logic
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_fleet_logic.c
  LIBS sb_fleet TIMEOUT 60)

add_executable(fake_app ${CMAKE_SOURCE_DIR}/tests/unit/fake_app.c)
set_target_properties(fake_app PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/tests)
sb_test(test_fleet_local
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_fleet_local.c
  LIBS sb_fleet_local TIMEOUT 90)
add_dependencies(test_fleet_local fake_app)
sb_test(test_fleet_status
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_fleet_status.c
  LIBS sb_fleet_local PkgConfig::CURL TIMEOUT 60)
