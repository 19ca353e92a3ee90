# CTest end-to-end cases for `tether viz`, run through tether_viz_driver (the
# same cli/viz_command.cpp as `tether viz`). Included from viz/CMakeLists.txt.
set(_cases ${CMAKE_CURRENT_LIST_DIR})
set(_drv $<TARGET_FILE:tether_viz_driver>)

# Every snapshot renders to SVG, PNG and DOT, and the DOT equals the golden file.
file(GLOB _snapshots CONFIGURE_DEPENDS ${_cases}/snapshots/*.json)
foreach(_snap ${_snapshots})
  get_filename_component(_name ${_snap} NAME_WE)
  add_test(NAME viz.cli.${_name}.dot
    COMMAND ${CMAKE_COMMAND} -DDRIVER=${_drv} -DINPUT=${_snap} -DGOLDEN=${_cases}/golden/${_name}.dot
            -DOUT=${CMAKE_CURRENT_BINARY_DIR}/cli-${_name}.dot -P ${_cases}/run_golden.cmake)
  add_test(NAME viz.cli.${_name}.svg COMMAND ${_drv} viz ${_snap} -o ${CMAKE_CURRENT_BINARY_DIR}/cli-${_name}.svg)
  set_tests_properties(viz.cli.${_name}.dot viz.cli.${_name}.svg PROPERTIES
    LABELS "viz" TIMEOUT 60 ENVIRONMENT "${TETHER_VIZ_TEST_ENV}")
endforeach()
add_test(NAME viz.cli.png COMMAND ${_drv} viz ${_cases}/snapshots/self_request.json
         -o ${CMAKE_CURRENT_BINARY_DIR}/cli-self_request.png)
add_test(NAME viz.cli.focus_no_collapse COMMAND ${_drv} viz ${_cases}/snapshots/self_request.json
         --focus --no-collapse --format dot -o -)
set_tests_properties(viz.cli.focus_no_collapse PROPERTIES PASS_REGULAR_EXPRESSION "\"fiber:15\" \\[")

# Bad input: one message naming the file and the place, exit 2 (never a crash).
# Each testcases/viz/bad/NAME.json has NAME.expected: a regex for stderr.
file(GLOB _bad CONFIGURE_DEPENDS ${_cases}/bad/*.json)
foreach(_in ${_bad})
  get_filename_component(_name ${_in} NAME_WE)
  file(READ ${_cases}/bad/${_name}.expected _expected)
  string(STRIP "${_expected}" _expected)
  add_test(NAME viz.cli.bad.${_name}
    COMMAND ${CMAKE_COMMAND} -DDRIVER=${_drv} -DINPUT=${_in} -DEXPECTED=${_expected}
            -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bad-${_name}.svg -P ${_cases}/run_bad.cmake)
endforeach()
add_test(NAME viz.cli.bad.missing_file
  COMMAND ${CMAKE_COMMAND} -DDRIVER=${_drv} -DINPUT=${_cases}/bad/no-such-file.json
          "-DEXPECTED=no-such-file.json: cannot open: No such file or directory"
          -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bad-missing.svg -P ${_cases}/run_bad.cmake)
add_test(NAME viz.cli.bad.unwritable_output
  COMMAND ${CMAKE_COMMAND} -DDRIVER=${_drv} -DINPUT=${_cases}/snapshots/global.json
          "-DEXPECTED=/nonexistent-dir/out.svg: cannot write"
          -DOUT=/nonexistent-dir/out.svg -P ${_cases}/run_bad.cmake)
add_test(NAME viz.cli.bad.format COMMAND ${_drv} viz ${_cases}/snapshots/global.json -o x.svg --format jpeg)
set_tests_properties(viz.cli.bad.format PROPERTIES WILL_FAIL TRUE)
add_test(NAME viz.cli.bad.no_output COMMAND ${_drv} viz ${_cases}/snapshots/global.json)
set_tests_properties(viz.cli.bad.no_output PROPERTIES WILL_FAIL TRUE)

# Large programs: 10,000 fibers render to SVG in at most 20 s (issue 5),
# with the default collapse; the generator is deterministic. Timing means
# nothing under a sanitizer, so these run in plain builds only.
if(TETHER_SANITIZE STREQUAL "")
add_test(NAME viz.large.generate
  COMMAND ${CMAKE_COMMAND} -DGEN=$<TARGET_FILE:tether_viz_gen_snapshot> -DN=10000
          -DOUT=${CMAKE_CURRENT_BINARY_DIR}/large-10000.json -P ${_cases}/run_generate.cmake)
set_tests_properties(viz.large.generate PROPERTIES FIXTURES_SETUP viz_large)
add_test(NAME viz.large.10000_fibers_svg
  COMMAND ${_drv} viz ${CMAKE_CURRENT_BINARY_DIR}/large-10000.json -o ${CMAKE_CURRENT_BINARY_DIR}/large-10000.svg)
set_tests_properties(viz.large.10000_fibers_svg PROPERTIES FIXTURES_REQUIRED viz_large TIMEOUT 20 RUN_SERIAL TRUE)

# --no-collapse draws all 10,000 fibers (laid out with osage, see
# dot_writer.cpp); about 16 s on an idle machine, 44 s under load 16, so
# the bound is looser than the default path's 20 s.
add_test(NAME viz.large.10000_fibers_no_collapse_svg
  COMMAND ${_drv} viz ${CMAKE_CURRENT_BINARY_DIR}/large-10000.json --no-collapse
          -o ${CMAKE_CURRENT_BINARY_DIR}/large-10000-all.svg)
set_tests_properties(viz.large.10000_fibers_no_collapse_svg PROPERTIES
  FIXTURES_REQUIRED viz_large TIMEOUT 120 RUN_SERIAL TRUE)
endif()

get_property(_tests DIRECTORY PROPERTY TESTS)
foreach(_t ${_tests})
  if(_t MATCHES "^viz\\.(cli|large)\\.")
    set_tests_properties(${_t} PROPERTIES LABELS "viz" ENVIRONMENT "${TETHER_VIZ_TEST_ENV}")
  endif()
endforeach()
