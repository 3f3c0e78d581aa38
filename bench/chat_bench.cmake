# sb-bench chat: room messages end to end (say -> every member's mailbox
# -> its long-polling Receive) through a child sbd, over social's wire
# transport and e2e driver (social_bench.cmake).
target_sources(sb-bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench_chat.c)
target_compile_definitions(sb-bench PRIVATE SB_BENCH_HAVE_CHAT)
