# The store's data layer (servers/store): operations, writer, durability.
sb_test(test_store_ops SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_ops.c
        LIBS sb_storedb TIMEOUT 60)
sb_test(test_store_writer SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_writer.c
        LIBS sb_storedb TIMEOUT 120)
sb_test(test_store_crash SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_crash.c
        LIBS sb_storedb TIMEOUT 120)
sb_test(test_store_conformance SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_conformance.c
        LIBS sb_storedb TIMEOUT 120)
# The store RPC service and store_conn (local and remote backends) over real
# nng tcp on 127.0.0.1 and real LMDB.
sb_test(test_store_service SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_service.c
        LIBS sb_store Threads::Threads TIMEOUT 120)
set_property(TEST test_store_service APPEND PROPERTY ENVIRONMENT
  "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/unit/test_store_service.lsan:print_suppressions=0")
