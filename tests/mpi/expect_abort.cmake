# Runs an MPI job that must fail: a non-zero exit, the failing rank's
# message on stderr, and nothing printed past the point of failure.
# -DCOMMAND=<;-list> -DWORKDIR=<dir> -DWANT=<text>
execute_process(COMMAND ${COMMAND}
  WORKING_DIRECTORY "${WORKDIR}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
  TIMEOUT 60)
if(rc EQUAL 0)
  message(FATAL_ERROR "the job succeeded; it should have stopped.\nstdout: ${out}\nstderr: ${err}")
endif()
string(FIND "${err}" "${WANT}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "stderr lacks '${WANT}' (exit ${rc}):\n${err}")
endif()
string(FIND "${out}" "unreachable" bad)
if(NOT bad EQUAL -1)
  message(FATAL_ERROR "a rank went past the failure:\n${out}")
endif()
message(STATUS "stopped as it should (exit ${rc})")
