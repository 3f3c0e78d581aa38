# Unit tests of the EC2 driver's AWS layer (orchestrator/drivers/ec2).
sb_test(test_sigv4 SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sigv4.c
        LIBS sb_ec2 sb_netutil TIMEOUT 30)
set_tests_properties(test_sigv4 PROPERTIES SKIP_RETURN_CODE 77)
sb_test(test_aws_creds SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_aws_creds.c
        ${CMAKE_SOURCE_DIR}/tests/integration/test_ec2_proc.c
        LIBS sb_ec2 sb_netutil TIMEOUT 60)
target_include_directories(test_aws_creds PRIVATE
                           ${CMAKE_SOURCE_DIR}/tests/integration)
