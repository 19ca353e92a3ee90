# TetherInstall.cmake: what `cmake --install BUILD [--prefix P]` installs.
#
#   bin/tether                              the command (cli/CMakeLists.txt)
#   lib/libtether.a, lib/libtether.so.0     the runtime, static and shared
#   lib/libtether_preload.so                when the tether_preload target is built
#   include/tether/*.h                      the public headers
#   lib/cmake/tether/tetherConfig.cmake     find_package(tether CONFIG):
#                                           tether::runtime (static), tether::runtime_shared
#   lib/pkgconfig/tether.pc                 pkg-config tether (--static for the archive's deps)
#   share/man/man1/tether.1                 from docs/tether.1.md (scripts/gen_man.py),
#                                           which includes docs/guide.md's environment
#                                           variables and exit codes
#
# Both installed libraries are linked from the object files tether_runtime is
# already built from, so the second flavour costs one link, not a second
# compile. They live in BUILD/lib, apart from the in-tree libtether.a that the
# build's own programs use. Included by the top-level CMakeLists.txt after
# every part, so it sees every target.
include_guard(GLOBAL)

option(TETHER_INSTALL "Build the installable libtether (static and shared) and the man page" ON)
if(NOT TETHER_INSTALL OR TETHER_FUZZ OR NOT TARGET tether_runtime)  # fuzz builds install nothing
  return()
endif()
include(CMakePackageConfigHelpers)
# The runtime's dependencies, found again here: imported targets are local to
# the directory (runtime/) that found them.
find_package(Boost 1.74 REQUIRED COMPONENTS context)
if(NOT TARGET PkgConfig::LIBUNWIND)
  pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind-generic)
endif()
if(NOT TARGET PkgConfig::LIBDW)
  pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
endif()

set(_tether_objects $<TARGET_OBJECTS:tether_runtime>)
if(TARGET tether_wait_model)  # the detector's model, a static library of its own
  list(APPEND _tether_objects $<TARGET_OBJECTS:tether_wait_model>)
endif()

add_library(tether_install_static STATIC ${_tether_objects})
add_library(tether_install_shared SHARED ${_tether_objects})
foreach(kind static shared)
  set(t tether_install_${kind})
  set_target_properties(${t} PROPERTIES
                        OUTPUT_NAME tether
                        ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
  target_include_directories(${t} PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${t}
    PUBLIC Threads::Threads
    PRIVATE Boost::context fmt::fmt PkgConfig::LIBUNWIND PkgConfig::LIBDW)
endforeach()
set_target_properties(tether_install_static PROPERTIES EXPORT_NAME runtime)
set_target_properties(tether_install_shared PROPERTIES
                      EXPORT_NAME runtime_shared
                      VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR})

set(_tether_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/tether)
install(TARGETS tether_install_static tether_install_shared
        EXPORT tetherTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/tether
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
if(TARGET tether_preload)
  install(TARGETS tether_preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

install(EXPORT tetherTargets NAMESPACE tether:: DESTINATION ${_tether_cmakedir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tetherConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/cmake/tetherConfig.cmake
                              INSTALL_DESTINATION ${_tether_cmakedir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/tetherConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/tetherConfig.cmake
              ${CMAKE_BINARY_DIR}/cmake/tetherConfigVersion.cmake
        DESTINATION ${_tether_cmakedir})

# tether.pc: prefix-relative paths, so the installed tree can be moved.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(TETHER_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(TETHER_PC_PREFIX "\${pcfiledir}")
  string(REPLACE "/" ";" _tether_pc_parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  foreach(_part ${_tether_pc_parts})
    string(APPEND TETHER_PC_PREFIX "/..")
  endforeach()
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/tether.pc.in ${CMAKE_BINARY_DIR}/cmake/tether.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/cmake/tether.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The man page, generated from docs/tether.1.md at build time; its ENVIRONMENT
# and EXIT STATUS are the guide's sections (gen_man.py's "Included:" lines).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  set(_tether_man ${CMAKE_BINARY_DIR}/docs/tether.1)
  add_custom_command(
    OUTPUT ${_tether_man}
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/gen_man.py
            ${PROJECT_SOURCE_DIR}/docs/tether.1.md ${_tether_man} --version ${PROJECT_VERSION}
    DEPENDS ${PROJECT_SOURCE_DIR}/scripts/gen_man.py ${PROJECT_SOURCE_DIR}/docs/tether.1.md
            ${PROJECT_SOURCE_DIR}/docs/guide.md
    COMMENT "Generating the man page tether(1)")
  add_custom_target(tether_man ALL DEPENDS ${_tether_man})
  install(FILES ${_tether_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# Tests: install into a temporary prefix and build an outside project
# against it (label install); the man page renders cleanly, agrees with
# `tether CMD --help` and documents every TETHER_* variable (labels install;docs).
if(TETHER_BUILD_TESTS AND TETHER_SANITIZE STREQUAL "" AND TARGET tether)
  set(_tether_install_labels "install")
  add_test(NAME install.outside_project
           COMMAND bash ${PROJECT_SOURCE_DIR}/testcases/install/run.sh ${CMAKE_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR}/testcases/install/project ${CMAKE_COMMAND})
  set_tests_properties(install.outside_project
                       PROPERTIES LABELS "${_tether_install_labels}" TIMEOUT 300)
  if(Python3_FOUND)
    set(_tether_man_labels "install;docs")
    add_test(NAME install.man_page
             COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/testcases/install/check_man.py
                     $<TARGET_FILE:tether> ${PROJECT_SOURCE_DIR}/docs/tether.1.md ${_tether_man})
    set_tests_properties(install.man_page PROPERTIES LABELS "${_tether_man_labels}" TIMEOUT 60)
    # Every TETHER_* variable the runtime and the command read or set is in
    # the guide's environment table, which is the man page's ENVIRONMENT.
    add_test(NAME install.man_environment
             COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/gen_man.py --check-env
                     ${PROJECT_SOURCE_DIR}/docs/tether.1.md ${PROJECT_SOURCE_DIR}/runtime
                     ${PROJECT_SOURCE_DIR}/cli)
    set_tests_properties(install.man_environment
                         PROPERTIES LABELS "${_tether_man_labels}" TIMEOUT 60)
  endif()
endif()
