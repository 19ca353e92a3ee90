# cmake -DGEN= -DN= -DOUT= -P run_generate.cmake: writes a synthetic snapshot.
execute_process(COMMAND ${GEN} ${N} OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "generator exited ${rc}")
endif()
