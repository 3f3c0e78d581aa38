# Integration tests of the EC2 driver's AWS layer: error paths against
# tests/integration/ec2/fake_aws.py and the full cycle against moto.
sb_test(test_ec2_errors
        SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_ec2_errors.c
                ${CMAKE_SOURCE_DIR}/tests/integration/test_ec2_proc.c
        LIBS sb_ec2 sb_netutil TIMEOUT 90)
target_include_directories(test_ec2_errors PRIVATE
                           ${CMAKE_SOURCE_DIR}/tests/integration)
sb_test(test_ec2_moto
        SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_ec2_moto.c
                ${CMAKE_SOURCE_DIR}/tests/integration/test_ec2_proc.c
        LIBS sb_ec2 sb_netutil TIMEOUT 120)
target_include_directories(test_ec2_moto PRIVATE
                           ${CMAKE_SOURCE_DIR}/tests/integration)
set_tests_properties(test_ec2_moto PROPERTIES SKIP_RETURN_CODE 77)
