# Run by `cmake --install` (install(CODE) in the top CMakeLists.txt), where
# CMAKE_INSTALL_PREFIX is the prefix chosen at install time (--prefix, CPack's
# /usr) and file(INSTALL) adds $ENV{DESTDIR}. Installs the configuration and
# the systemd unit generated for that prefix.
set(_ks_prefix "${CMAKE_INSTALL_PREFIX}")
if(_ks_prefix STREQUAL "/usr")
  set(_ks_etc /etc) # the FHS place (GNUInstallDirs' special case for /usr)
else()
  set(_ks_etc "${_ks_prefix}/${KS_INSTALL_SYSCONFDIR}")
endif()
set(KS_BINDIR "${_ks_prefix}/${KS_INSTALL_BINDIR}")
set(KS_CONFIG "${_ks_etc}/kpistream/kpistream.yaml")
set(KS_DOCDIR "${_ks_prefix}/${KS_INSTALL_DOCDIR}")
configure_file("${KS_SOURCE_DIR}/deploy/kpistream.service.in"
               "${KS_BINARY_DIR}/install-unit/kpistream.service" @ONLY)
file(INSTALL DESTINATION "${_ks_prefix}/lib/systemd/system" TYPE FILE
     FILES "${KS_BINARY_DIR}/install-unit/kpistream.service")
# An operator's configuration is never overwritten by a reinstall.
if(EXISTS "$ENV{DESTDIR}${KS_CONFIG}")
  message(STATUS "Keeping: $ENV{DESTDIR}${KS_CONFIG}")
else()
  file(INSTALL DESTINATION "${_ks_etc}/kpistream" TYPE FILE
       RENAME kpistream.yaml FILES "${KS_SOURCE_DIR}/deploy/kpistream.example.yaml")
endif()
