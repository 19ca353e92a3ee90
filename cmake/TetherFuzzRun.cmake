# Runs one libFuzzer target for CTest (see TetherFuzz.cmake).
#   cmake -DFUZZER=bin -DMODE=fuzz|crashes -DCORPUS=dir [-DWORK=dir -DSECONDS=n]
#         -DRSS_MB=n -DTIMEOUT=n -P TetherFuzzRun.cmake
# fuzz:    copies CORPUS into WORK/corpus (the repository's seeds stay as they
#          are), fuzzes it for SECONDS; a crash input lands in WORK/artifacts.
# crashes: runs every file of CORPUS once (-runs=0): past crashes must pass.
foreach(v FUZZER MODE CORPUS RSS_MB TIMEOUT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "TetherFuzzRun.cmake: -D${v}=... is required")
  endif()
endforeach()
set(limits -rss_limit_mb=${RSS_MB} -timeout=${TIMEOUT} -print_final_stats=1)

if(MODE STREQUAL "crashes")
  file(GLOB inputs LIST_DIRECTORIES false ${CORPUS}/*)
  list(LENGTH inputs n)
  message(STATUS "running ${n} past crash input(s) from ${CORPUS}")
  execute_process(COMMAND ${FUZZER} ${limits} -runs=0 ${CORPUS} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FUZZER}: a past crash input of ${CORPUS} fails again (status ${rc})")
  endif()
  return()
endif()

if(NOT MODE STREQUAL "fuzz" OR NOT DEFINED WORK OR NOT DEFINED SECONDS)
  message(FATAL_ERROR "TetherFuzzRun.cmake: MODE=fuzz needs -DWORK and -DSECONDS")
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds LIST_DIRECTORIES false ${CORPUS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${WORK}/corpus)
endif()
execute_process(COMMAND ${FUZZER} ${limits} -max_total_time=${SECONDS}
                        -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "${FUZZER} failed (status ${rc}). Crash input(s): ${found}\n"
          "Reproduce: ${FUZZER} FILE; keep it as a regression: copy it into the "
          "target's crashes/ folder (docs/fuzzing.md).")
endif()
