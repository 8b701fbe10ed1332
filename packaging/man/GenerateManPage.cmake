# Writes a manual page from a program's own --help and --version (with
# help2man), so that the page and the help cannot drift apart; run at build
# time by packaging/CPackConfig.cmake:
#
#   cmake -DPROGRAM=path -DNAME=text -DINCLUDE=file.h2m -DOUTPUT=file.1 (makes file.1.gz)
#         -DVERSION=x.y.z [-DCOMMANDS=a,b] -P GenerateManPage.cmake
#
# VERSION is project(VERSION), which every program's --version prints too; given
# here so that the page is named by the program (the dashboard's --version
# names the application, "schedy"). Only stdout is read: Qt's warnings on
# stderr stay out of the page.
#
# COMMANDS: subcommands whose 'PROGRAM help COMMAND' text becomes a section
# of the page each. INCLUDE holds what --help does not say (FILES, SEE ALSO).
foreach(var PROGRAM NAME INCLUDE OUTPUT HELP2MAN VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "GenerateManPage.cmake: ${var} is not set")
  endif()
endforeach()

string(REPLACE "," ";" COMMANDS "${COMMANDS}")
set(include "${OUTPUT}.h2m")
file(READ "${INCLUDE}" text)
foreach(command IN LISTS COMMANDS)
  execute_process(COMMAND "${PROGRAM}" help ${command} OUTPUT_VARIABLE usage RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} help ${command} failed (${rc})")
  endif()
  # help2man's include format: a [SECTION] header, then roff. Usage lines as
  # they are (no filling), '\' and leading '.' or ''' escaped.
  string(REPLACE "\\" "\\e" usage "${usage}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" usage "${usage}")
  string(APPEND text "\n[COMMAND ${command}]\n.nf\n${usage}.fi\n")
endforeach()
file(WRITE "${include}" "${text}")

execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env QT_QPA_PLATFORM=offscreen
          "${HELP2MAN}" --no-info --section=1 "--name=${NAME}" "--version-string=${VERSION}"
          "--include=${include}" "--output=${OUTPUT}" "${PROGRAM}"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man on ${PROGRAM} failed (${rc}): ${err}")
endif()
# Debian installs manual pages compressed; -n: no time stamp, the same bytes every build.
execute_process(COMMAND gzip -9nf "${OUTPUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip ${OUTPUT} failed")
endif()
