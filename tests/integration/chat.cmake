# Chat rooms, sb chat, clock sync: 100 users in 10 rooms (libsb, real sbd),
# sb chat in tmux + skewed clock + idle timeout, and three clients in three
# network namespaces talking through a server in a fourth.
sb_test(test_chat_rooms SOURCES
        ${CMAKE_SOURCE_DIR}/tests/integration/test_chat_rooms.c
        ${CMAKE_SOURCE_DIR}/tests/integration/test_social_proc.c
        LIBS sb sb_netutil Threads::Threads TIMEOUT 300)
add_dependencies(test_chat_rooms sbd)
foreach(_t test_chat_term test_chat_netns)
  add_test(NAME ${_t}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/${_t}.sh)
  set_tests_properties(${_t} PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
    ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;SB_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()
