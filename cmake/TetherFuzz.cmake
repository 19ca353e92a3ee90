# TetherFuzz.cmake: libFuzzer targets (TETHER_FUZZ=ON, clang only; docs/fuzzing.md).
#
# Included by the top-level CMakeLists.txt when TETHER_FUZZ is ON, before any
# target is defined. It
#   - checks that the compiler is clang (libFuzzer is clang's);
#   - instruments everything for coverage, ASan and UBSan
#     (-fsanitize=fuzzer-no-link,address,undefined); fuzz targets link with
#     -fsanitize=fuzzer, which provides main();
#   - turns off what no fuzzer needs (tests, benchmarks, viz, the libclang
#     checker, the preload library, the examples), so the fuzz build stays small;
#   - defines tether_add_fuzzer() for the fuzz/ folders, which
#     tether_add_fuzz_directories() adds after every library exists.
#
#   tether_add_fuzzer(NAME
#                     SOURCES a.cpp ...        # defines LLVMFuzzerTestOneInput
#                     [LIBS lib ...]           # linked PRIVATE
#                     [INCLUDES dir ...]       # PRIVATE include directories
#                     [CORPUS dir]             # seed corpus, default ./corpus
#                     [CRASHES dir])           # past crash inputs, default ./crashes
#
# adds the executable NAME (also built by the `tether_fuzzers` target) and two
# CTest tests, both labelled fuzz;reliability:
#   fuzz.NAME          fuzzes a copy of CORPUS for TETHER_FUZZ_SECONDS
#                      (the repository's corpus is never written to);
#   fuzz.NAME.crashes  runs every file of CRASHES once (regressions).
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TETHER_FUZZ needs clang (libFuzzer): configure with "
                      "CC=clang-19 CXX=clang++-19")
endif()
if(NOT TETHER_SANITIZE STREQUAL "")
  message(FATAL_ERROR "TETHER_FUZZ brings its own sanitizers: leave TETHER_SANITIZE empty")
endif()

set(TETHER_FUZZ_SECONDS 20 CACHE STRING "How long each fuzz.NAME test fuzzes (seconds)")
set(TETHER_FUZZ_RSS_MB 2048 CACHE STRING "libFuzzer -rss_limit_mb for the fuzz tests")
set(TETHER_FUZZ_TIMEOUT 10 CACHE STRING "libFuzzer -timeout (seconds per input) for the fuzz tests")

# Plain variables shadow the cache options for this configuration only.
foreach(_part TESTS BENCH VIZ LINT PRELOAD EXAMPLES)
  set(TETHER_BUILD_${_part} OFF)
endforeach()

add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
add_link_options(-fsanitize=address,undefined)
# GCC defines __SANITIZE_ADDRESS__ under -fsanitize=address, clang does not
# (it has __has_feature): the runtime's fiber-switch annotations
# (runtime/src/sanitizers.h) key on the macro, and without them ASan reports
# false stack errors on fiber stacks.
add_compile_definitions(__SANITIZE_ADDRESS__=1)

set(_tether_fuzz_run ${CMAKE_CURRENT_LIST_DIR}/TetherFuzzRun.cmake)
add_custom_target(tether_fuzzers)

function(tether_add_fuzzer name)
  cmake_parse_arguments(PARSE_ARGV 1 F "" "CORPUS;CRASHES" "SOURCES;LIBS;INCLUDES")
  if(NOT F_SOURCES)
    message(FATAL_ERROR "tether_add_fuzzer(${name}): SOURCES is required")
  endif()
  if(NOT F_CORPUS)
    set(F_CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus)
  endif()
  if(NOT F_CRASHES)
    set(F_CRASHES ${CMAKE_CURRENT_SOURCE_DIR}/crashes)
  endif()
  foreach(dir ${F_CORPUS} ${F_CRASHES})
    if(NOT IS_DIRECTORY ${dir})
      message(FATAL_ERROR "tether_add_fuzzer(${name}): no directory ${dir}")
    endif()
  endforeach()
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  if(F_INCLUDES)
    target_include_directories(${name} PRIVATE ${F_INCLUDES})
  endif()
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  add_dependencies(tether_fuzzers ${name})

  set(labels fuzz reliability)  # a list variable keeps its ';' (CMake 3.25)
  set(common -DFUZZER=$<TARGET_FILE:${name}> -DRSS_MB=${TETHER_FUZZ_RSS_MB}
             -DTIMEOUT=${TETHER_FUZZ_TIMEOUT})
  add_test(NAME fuzz.${name}
           COMMAND ${CMAKE_COMMAND} ${common} -DMODE=fuzz -DCORPUS=${F_CORPUS}
                   -DWORK=${CMAKE_CURRENT_BINARY_DIR}/${name}.work
                   -DSECONDS=${TETHER_FUZZ_SECONDS} -P ${_tether_fuzz_run})
  add_test(NAME fuzz.${name}.crashes
           COMMAND ${CMAKE_COMMAND} ${common} -DMODE=crashes -DCORPUS=${F_CRASHES}
                   -P ${_tether_fuzz_run})
  math(EXPR budget "${TETHER_FUZZ_SECONDS} * 3 + 120")
  set_tests_properties(fuzz.${name} PROPERTIES LABELS "${labels}" TIMEOUT ${budget})
  set_tests_properties(fuzz.${name}.crashes PROPERTIES LABELS "${labels}" TIMEOUT 300)
endfunction()

# Every <part>/fuzz and <part>/<sub>/fuzz folder with a CMakeLists.txt.
function(tether_add_fuzz_directories)
  file(GLOB lists ${PROJECT_SOURCE_DIR}/*/fuzz/CMakeLists.txt
                  ${PROJECT_SOURCE_DIR}/*/*/fuzz/CMakeLists.txt)
  list(SORT lists)
  foreach(l ${lists})
    get_filename_component(dir ${l} DIRECTORY)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
    add_subdirectory(${dir} ${PROJECT_BINARY_DIR}/${rel})
  endforeach()
endfunction()
