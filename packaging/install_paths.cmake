# install_paths.cmake: run by `cmake --install`, where CMAKE_INSTALL_PREFIX
# is the install's own prefix (--prefix), not the configure-time one:
# writes the systemd unit with that prefix's paths, and the config file
# (only when none is there: an operator's settings are never replaced).
# /usr keeps its configuration in /etc, as GNUInstallDirs has it.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_etc "/etc")
else()
  set(_etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(SB_BINDIR "${CMAKE_INSTALL_PREFIX}/${SB_BINDIR_REL}")
set(SB_CONFIG "${_etc}/switchboard/sbd.conf")
set(_dest "$ENV{DESTDIR}")
configure_file("${SB_PKG_DIR}/sbd.service.in"
               "${_dest}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/sbd.service"
               @ONLY)
message(STATUS "Installing: ${_dest}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/sbd.service")
if(NOT EXISTS "${_dest}${SB_CONFIG}")
  file(INSTALL "${SB_PKG_DIR}/sbd.conf"
       DESTINATION "${_dest}${_etc}/switchboard")
else()
  message(STATUS "Kept: ${_dest}${SB_CONFIG} (an existing configuration)")
endif()
