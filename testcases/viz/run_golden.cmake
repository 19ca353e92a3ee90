# cmake -DDRIVER= -DINPUT= -DGOLDEN= -DOUT= -P run_golden.cmake
# `viz INPUT --format dot` must exit 0 and write exactly GOLDEN.
execute_process(COMMAND ${DRIVER} viz ${INPUT} --format dot -o ${OUT} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tether viz exited ${rc}: ${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${GOLDEN} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "${OUT} differs from ${GOLDEN}")
endif()
