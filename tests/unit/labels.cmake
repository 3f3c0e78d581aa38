# The group knowledge base's data layer (servers/store): the pure round
# and interchange modules, and the labels on real LMDB files.
sb_test(test_store_round SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_round.c
        LIBS sb_storedb TIMEOUT 60)
sb_test(test_store_label_text SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_label_text.c
        LIBS sb_storedb TIMEOUT 60)
sb_test(test_store_labels SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_labels.c
        LIBS sb_storedb TIMEOUT 60)
sb_test(test_store_labels_share SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_labels_share.c
        LIBS sb_storedb TIMEOUT 60)
sb_test(test_store_labels_round SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_labels_round.c
        LIBS sb_storedb TIMEOUT 180)
