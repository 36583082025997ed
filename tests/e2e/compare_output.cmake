# Runs a command and compares its standard output, byte for byte, with an
# expected file. The test fails when the command exits with a non-zero status
# or when the output differs.
#
#   cmake -DEXPECTED=<file> [-DWORKDIR=<dir>] [-DACTUAL=<file>]
#         [-DCOMMAND=<cmd;arg;...>] -P compare_output.cmake [-- <cmd> <arg>...]
#
# COMMAND is the command as a list; the words after `--` are used instead
# when it is not given (they may hold ';' and spaces). WORKDIR defaults to the
# current directory. ACTUAL, when given, receives the output that was seen, so
# that a failure can be inspected and an expected file regenerated from it.

if(NOT DEFINED COMMAND)
  set(COMMAND "")
  set(rest OFF)
  math(EXPR last "${CMAKE_ARGC} - 1")
  foreach(i RANGE 1 ${last})
    if(rest)
      string(REPLACE ";" "\\;" word "${CMAKE_ARGV${i}}")   # keep ';' inside a word
      list(APPEND COMMAND "${word}")
    elseif(CMAKE_ARGV${i} STREQUAL "--")
      set(rest ON)
    endif()
  endforeach()
endif()
if(NOT COMMAND)
  message(FATAL_ERROR "compare_output: no command (give -DCOMMAND=... or words after --)")
endif()
if(NOT DEFINED EXPECTED)
  message(FATAL_ERROR "compare_output: EXPECTED is not set")
endif()
if(NOT DEFINED WORKDIR)
  set(WORKDIR "${CMAKE_CURRENT_BINARY_DIR}")
endif()
if(NOT EXISTS "${EXPECTED}")
  message(FATAL_ERROR "compare_output: expected file ${EXPECTED} does not exist\n"
    "create it from a run that has been checked by hand:\n"
    "  (cd ${WORKDIR} && <command> > ${EXPECTED})")
endif()

list(JOIN COMMAND " " shown)
execute_process(
  COMMAND ${COMMAND}
  WORKING_DIRECTORY "${WORKDIR}"
  OUTPUT_VARIABLE actual
  ERROR_VARIABLE errors
  RESULT_VARIABLE status)

if(DEFINED ACTUAL)
  get_filename_component(dir "${ACTUAL}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  file(WRITE "${ACTUAL}" "${actual}")
endif()

# Details go out unformatted (message() without a mode); FATAL_ERROR would
# re-wrap them and double every line break of a diff.
if(NOT status STREQUAL "0")
  message("--- standard output ---\n${actual}--- standard error ---\n${errors}")
  message(FATAL_ERROR "compare_output: `${shown}` failed (exit status: ${status})")
endif()

file(READ "${EXPECTED}" expected)
if(NOT actual STREQUAL expected)
  set(hint "")
  find_program(DIFF_PROGRAM diff)
  if(DEFINED ACTUAL AND DIFF_PROGRAM)
    execute_process(
      COMMAND "${DIFF_PROGRAM}" -u "${EXPECTED}" "${ACTUAL}"
      OUTPUT_VARIABLE hint)
  endif()
  if(hint STREQUAL "")
    set(hint "--- expected ---\n${expected}--- actual ---\n${actual}")
  endif()
  message("${hint}--- standard error ---\n${errors}")
  if(DEFINED ACTUAL)
    message("output kept in ${ACTUAL}\n  diff -u ${EXPECTED} ${ACTUAL}")
  endif()
  message(FATAL_ERROR "compare_output: output of `${shown}` differs from ${EXPECTED}")
endif()
