# The draw service through real `sbd draw` / `sbd all` processes and the
# `sb draw` client on 127.0.0.1 (the sbd and sb binaries must be built).
set(_draw_it ${CMAKE_SOURCE_DIR}/tests/integration)
sb_test(test_draw_service SOURCES ${_draw_it}/test_draw_service.c
        ${_draw_it}/draw_itest.c LIBS sb_proto sb_rpc sb_netutil Threads::Threads
        TIMEOUT 180)
sb_test(test_draw_kill SOURCES ${_draw_it}/test_draw_kill.c
        ${_draw_it}/draw_itest.c LIBS sb_proto sb_rpc sb_netutil Threads::Threads
        TIMEOUT 180)
foreach(_t test_draw_service test_draw_kill)
  target_include_directories(${_t} PRIVATE ${_draw_it})
  add_dependencies(${_t} sbd sb-client)
endforeach()
# Draw through the user's app server (App/Draw, sb_draw, `draw <user> N`).
sb_test(test_draw_app SOURCES ${_draw_it}/test_draw_app.c
        ${CMAKE_SOURCE_DIR}/tests/integration/test_social_proc.c
        LIBS sb sb_netutil Threads::Threads TIMEOUT 180)
add_dependencies(test_draw_app sbd sb-client)
