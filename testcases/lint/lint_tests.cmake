# CTest cases of `tether lint` (label `lint`), included from analyzer/lint/CMakeLists.txt.
#
# A compilation database for the inputs under testcases/lint/ is written at
# configure time (it is the "small compile_commands.json generator" the tests
# need); every input is then checked by check_expectations.py, which fails on
# any missing or extra diagnostic compared with the `// expect-warning: RULE`
# comments in the file.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
set(_lint_src ${PROJECT_SOURCE_DIR}/testcases/lint)
set(_lint_db ${CMAKE_BINARY_DIR}/testcases-lint)
file(GLOB_RECURSE _lint_inputs CONFIGURE_DEPENDS ${_lint_src}/*.cpp)
set(_entries "")
foreach(src ${_lint_inputs})
  string(APPEND _entries "  {\"directory\": \"${_lint_src}\", \"file\": \"${src}\", \"arguments\": "
         "[\"clang++\", \"-std=c++20\", \"-Wall\", \"-I${PROJECT_SOURCE_DIR}/runtime/include\", "
         "\"-I${_lint_src}/include\", \"-c\", \"${src}\", \"-o\", \"/dev/null\"]},\n")
endforeach()
string(REGEX REPLACE ",\n$" "\n" _entries "${_entries}")
file(WRITE ${_lint_db}/compile_commands.json "[\n${_entries}]\n")

set(_driver ${Python3_EXECUTABLE} ${_lint_src}/check_expectations.py --lint $<TARGET_FILE:tether-lint>
            -p ${_lint_db})
foreach(src ${_lint_inputs})
  file(RELATIVE_PATH rel ${_lint_src} ${src})
  string(REGEX REPLACE "\\.cpp$" "" name ${rel})
  add_test(NAME lint.expect.${name} COMMAND ${_driver} ${src})
  set_tests_properties(lint.expect.${name} PROPERTIES LABELS lint TIMEOUT 120)
endforeach()

# Exit codes and messages for bad input.
add_test(NAME lint.cli.errors COMMAND ${Python3_EXECUTABLE} ${_lint_src}/check_cli.py
         --lint $<TARGET_FILE:tether-lint> -p ${_lint_db} --src ${_lint_src}
         --work ${CMAKE_CURRENT_BINARY_DIR}/cli-work)
# SARIF output validated against the SARIF 2.1.0 JSON schema.
add_test(NAME lint.sarif.schema COMMAND ${Python3_EXECUTABLE} ${_lint_src}/check_sarif.py
         --lint $<TARGET_FILE:tether-lint> -p ${_lint_db}
         --cache ${CMAKE_CURRENT_BINARY_DIR}/sarif-schema
         ${_lint_src}/lock_misuse/flagged.cpp ${_lint_src}/blocking/flagged.cpp)
# Self-lint: the project's own runtime, CLI and example programs must be clean.
add_test(NAME lint.self COMMAND ${Python3_EXECUTABLE} ${_lint_src}/self_lint.py
         --lint $<TARGET_FILE:tether-lint> -p ${CMAKE_BINARY_DIR} --root ${PROJECT_SOURCE_DIR}
         --expect ${_lint_src}/project_findings.txt runtime/src cli testcases/programs)
set_tests_properties(lint.cli.errors lint.sarif.schema lint.self PROPERTIES LABELS lint TIMEOUT 600)
# The deadlock corpus (built only with the runtime): expected findings listed, near misses clean.
if(TARGET tether_runtime)
  add_test(NAME lint.corpus COMMAND ${Python3_EXECUTABLE} ${_lint_src}/self_lint.py
           --lint $<TARGET_FILE:tether-lint> -p ${CMAKE_BINARY_DIR} --root ${PROJECT_SOURCE_DIR}
           --expect ${_lint_src}/corpus_findings.txt testcases/deadlock/programs)
  set_tests_properties(lint.corpus PROPERTIES LABELS lint TIMEOUT 600)
endif()
set_tests_properties(lint.sarif.schema PROPERTIES SKIP_RETURN_CODE 77)
