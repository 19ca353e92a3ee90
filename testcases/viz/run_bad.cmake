# cmake -DDRIVER= -DINPUT= -DEXPECTED=regex -DOUT= -P run_bad.cmake
# `viz INPUT -o OUT` must exit 2, print exactly one line matching EXPECTED,
# and create no OUT.
file(REMOVE ${OUT})
execute_process(COMMAND ${DRIVER} viz ${INPUT} -o ${OUT} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit 2, got ${rc}; stderr: ${err}")
endif()
string(STRIP "${err}" err)
if(NOT err MATCHES "${EXPECTED}")
  message(FATAL_ERROR "stderr does not match '${EXPECTED}': ${err}")
endif()
if(err MATCHES "\n")
  message(FATAL_ERROR "expected one line of error, got: ${err}")
endif()
if(EXISTS ${OUT})
  message(FATAL_ERROR "${OUT} was written despite the error")
endif()
