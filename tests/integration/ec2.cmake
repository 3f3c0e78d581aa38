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
# The ec2 fleet driver (orchestrator/service/orch_ec2.c) under the fleet
# logic, against moto and fake_aws.py.
sb_test(test_orch_ec2
        SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_orch_ec2.c
                ${CMAKE_SOURCE_DIR}/tests/integration/test_ec2_proc.c
        LIBS sb_orch sb_ec2 sb_netutil TIMEOUT 120)
target_include_directories(test_orch_ec2 PRIVATE
                           ${CMAKE_SOURCE_DIR}/tests/integration)
set_tests_properties(test_orch_ec2 PROPERTIES SKIP_RETURN_CODE 77)
add_dependencies(test_orch_ec2 sbd)
