# kpistream_add_plugin(<name> <sources>...)
#
# Builds a KPI plugin as a MODULE library named kpi_<name>.so. In the source
# tree it links the header-only kpistream_sdk target; out of tree (through
# find_package(Kpistream)) it links Kpistream::sdk. A plugin never links the
# host: services come in through the ks_host_api table.
# Both install it (`cmake --install`): in the tree into kpistream's plugin
# directory, out of tree into KPISTREAM_PLUGIN_INSTALL_DIR, by default
# <install prefix>/lib/kpistream/plugins (${CMAKE_INSTALL_LIBDIR}): the
# directory an installed kpistream searches when the plugin's prefix is its own.
include(GNUInstallDirs)
set(KPISTREAM_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/kpistream/plugins
    CACHE STRING "Where kpistream_add_plugin() installs an out-of-tree plugin")
function(kpistream_add_plugin name)
  add_library(kpi_${name} MODULE ${ARGN})
  set_target_properties(kpi_${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden)
  if(TARGET kpistream_sdk)
    target_link_libraries(kpi_${name} PRIVATE kpistream_sdk)
    set_target_properties(kpi_${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${KS_PLUGIN_DIR_BUILD})
    install(TARGETS kpi_${name} LIBRARY DESTINATION ${KS_PLUGIN_DIR_RELATIVE})
  else()
    target_link_libraries(kpi_${name} PRIVATE Kpistream::sdk)
    install(TARGETS kpi_${name} LIBRARY DESTINATION ${KPISTREAM_PLUGIN_INSTALL_DIR})
  endif()
  # Refuse undefined symbols at link time: a plugin may only use libc/libm.
  if(NOT KS_SANITIZE AND NOT KS_TSAN) # sanitizer runtimes are resolved from the host at load time
    target_link_options(kpi_${name} PRIVATE -Wl,--no-undefined)
  endif()
  target_link_libraries(kpi_${name} PRIVATE m)
endfunction()
