# Draw pool (loot box) unit tests: real LMDB in temp dirs, real processes.
sb_test(test_draw_perm SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_draw_perm.c
        LIBS sb_drawpool TIMEOUT 60)
sb_test(test_draw_pool SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_draw_pool.c
        LIBS sb_drawpool TIMEOUT 120)
sb_test(test_draw_crash SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_draw_crash.c
        LIBS sb_drawpool TIMEOUT 120)
sb_test(test_draw_svc SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_draw_svc.c
        LIBS sb_drawsvc TIMEOUT 120)
