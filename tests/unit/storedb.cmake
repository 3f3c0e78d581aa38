# The store's data layer (servers/store): operations, writer, durability.
sb_test(test_store_ops SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_ops.c
        LIBS sb_storedb TIMEOUT 60)
sb_test(test_store_writer SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_writer.c
        LIBS sb_storedb TIMEOUT 120)
sb_test(test_store_crash SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_crash.c
        LIBS sb_storedb TIMEOUT 120)
sb_test(test_store_conformance SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_conformance.c
        LIBS sb_storedb TIMEOUT 120)
