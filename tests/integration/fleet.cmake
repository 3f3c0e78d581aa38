# The orchestrator service through a real `sbd orchestrator` process on
# 127.0.0.1 with real app processes (fleet_stub_app runs the real agent).
set(_fp ${CMAKE_SOURCE_DIR}/tests/integration/fleet)
add_executable(fleet_stub_app ${_fp}/fleet_stub_app.c)
target_link_libraries(fleet_stub_app PRIVATE sb_app_agent sb_rpc)
set_target_properties(fleet_stub_app PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/bin)
sb_test(test_fleet_service SOURCES ${_fp}/test_fleet_service.c
        ${_fp}/fleet_proc.c
        LIBS sb_proto sb_rpc sb_netutil PkgConfig::CURL TIMEOUT 180)
target_include_directories(test_fleet_service PRIVATE ${_fp})
add_dependencies(test_fleet_service sbd fleet_stub_app)
# The process model through a real sbd: app servers as child `sbd app`
# processes, ride-through of a killed one, no orphans after kill -9.
sb_test(test_fleet_sbd SOURCES ${_fp}/test_fleet_sbd.c ${_fp}/fleet_proc.c
        ${CMAKE_SOURCE_DIR}/tests/integration/test_social_proc.c
        LIBS sb sb_proto sb_rpc sb_netutil PkgConfig::CURL TIMEOUT 240)
target_include_directories(test_fleet_sbd PRIVATE ${_fp}
                           ${CMAKE_SOURCE_DIR}/tests/integration)
add_dependencies(test_fleet_sbd sbd sb)
# The `sb` whose app server is killed under it hits nng 1.5.2's known loss
# of a request on a dying pipe (see the .lsan file): suppressed here only.
set_property(TEST test_fleet_sbd APPEND PROPERTY ENVIRONMENT
  "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/integration/test_social_crash.lsan:print_suppressions=0")
# Every role as its own process (store, bus, orchestrator with real sbd app
# children, login): conformance case 1, and an orchestrator outage.
sb_test(test_fleet_roles SOURCES ${_fp}/test_fleet_roles.c ${_fp}/fleet_proc.c
        ${CMAKE_SOURCE_DIR}/tests/integration/test_social_proc.c
        LIBS sb sb_proto sb_rpc sb_netutil PkgConfig::CURL TIMEOUT 180)
target_include_directories(test_fleet_roles PRIVATE ${_fp}
                           ${CMAKE_SOURCE_DIR}/tests/integration)
add_dependencies(test_fleet_roles sbd sb)
