# The Debian package (cpack in a build tree): programs, manual pages, desktop
# integration, systemd units and documentation; docs/deployment.md uses it.
# The version is project(VERSION) and SCHEDY_RELEASE_DATE in CMakeLists.txt.
set(SCHEDY_HOMEPAGE "https://schedy.invalid/" CACHE STRING "Project homepage (AppStream metainfo)")
set(packaging ${CMAKE_CURRENT_LIST_DIR})
set(generated ${PROJECT_BINARY_DIR}/packaging)

# Desktop integration: all named by the reverse-DNS id.
configure_file(${packaging}/${SCHEDY_APP_ID}.metainfo.xml.in ${generated}/${SCHEDY_APP_ID}.metainfo.xml @ONLY)
install(FILES ${packaging}/${SCHEDY_APP_ID}.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${generated}/${SCHEDY_APP_ID}.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/schedy.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps RENAME ${SCHEDY_APP_ID}.svg)

# systemd: one unit for a single server, a template for one process per port.
set(UNIT_SUMMARY "schedy-server on /var/lib/schedy/schedy.sqlite3, listening on 127.0.0.1:8080.")
set(UNIT_SETTINGS "")
set(UNIT_DESCRIPTION "")
set(UNIT_LISTEN "127.0.0.1:8080")
set(UNIT_INSTANCE_SETTINGS "")
configure_file(${packaging}/systemd/schedy-server.service.in ${generated}/schedy-server.service @ONLY)
set(UNIT_SUMMARY "One of several schedy-server processes on one database, one per port:\n#   systemctl enable --now schedy-server@8081 schedy-server@8082")
set(UNIT_SETTINGS " (all ports) and /etc/default/schedy-server@PORT")
set(UNIT_DESCRIPTION " on port %i")
set(UNIT_LISTEN "127.0.0.1:%i")
set(UNIT_INSTANCE_SETTINGS "EnvironmentFile=-/etc/default/schedy-server@%i\n")
configure_file(${packaging}/systemd/schedy-server.service.in ${generated}/schedy-server@.service @ONLY)
install(FILES ${generated}/schedy-server.service ${generated}/schedy-server@.service
        DESTINATION lib/systemd/system) # under the prefix: /usr/lib/systemd/system in the package

# Manual pages from the programs' own --help (packaging/man/GenerateManPage.cmake).
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(pages)
  # PROGRAM "what it is" [COMMAND...]: the subcommands get a section each.
  function(schedy_man_page program name)
    set(page ${generated}/${program}.1.gz)
    string(REPLACE ";" "," commands "${ARGN}")
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${program}> "-DNAME=${name}"
              -DINCLUDE=${packaging}/man/${program}.h2m -DOUTPUT=${generated}/${program}.1 "-DCOMMANDS=${commands}"
              -DHELP2MAN=${HELP2MAN} -DVERSION=${PROJECT_VERSION} -P ${packaging}/man/GenerateManPage.cmake
      DEPENDS ${program} ${packaging}/man/${program}.h2m ${packaging}/man/GenerateManPage.cmake
      COMMENT "Manual page ${program}(1) from its --help"
      VERBATIM)
    set(pages ${pages} ${page} PARENT_SCOPE)
  endfunction()
  schedy_man_page(schedy-server "the Schedy hyperparameter search service")
  schedy_man_page(schedy "command line for Schedy experiments, jobs and workers"
                  add rm show list push gen-token export watch run)
  schedy_man_page(schedy-dashboard "desktop dashboard for Schedy hyperparameter searches")
  add_custom_target(schedy_man_pages ALL DEPENDS ${pages})
  install(FILES ${pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: no manual pages (scripts/setup.sh installs it)")
endif()

install(FILES README.md docs/protocol.md docs/server.md docs/deployment.md docs/cli.md docs/dashboard.md
        docs/libschedy.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/schedy) # the package name, not the project's

set(CPACK_PACKAGE_NAME "schedy")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Schedy developers")
set(CPACK_PACKAGE_CONTACT "Schedy developers <dev@schedy.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "hyperparameter search: server, desktop dashboard and command line")
# Continuation lines of a Debian description start with a space; " ." is an empty line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
 Schedy coordinates hyperparameter searches for machine learning: an
 experiment hands out jobs to any number of workers, from a manual queue, by
 random search over distributions or by Population Based Training, and records
 what they report.
 .
 This package contains:
  - schedy-server, the service (SQLite, or PostgreSQL for several processes
    on one database), with systemd units; workers written with the original
    Schedy Python client run against it unchanged;
  - schedy-dashboard, the Qt desktop dashboard to browse, chart and edit
    experiments and jobs live; it runs a server of its own when none is set up;
  - schedy, the command line for people and worker scripts.")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${SCHEDY_HOMEPAGE})
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Shared libraries are found by dpkg-shlibdeps; Qt's plugins are loaded at run
# time, so it cannot see them: the SQLite driver (the default database), SVG
# (the icon; libqt6gui6 brings the xcb, offscreen and image plugins) and
# OpenSSL for https (libqt6network6's TLS plugin loads it).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, libqt6svg6, libssl3")
# PostgreSQL is optional: without its driver the server says which package to install.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libqt6sql6-psql, qt6-wayland")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
# Stripped programs; their debug symbols go into schedy-dbgsym (a .ddeb). CPack
# strips them itself when it splits the symbols off (CPACK_STRIP_FILES would
# strip them first, leaving nothing to split).
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_PACKAGE_INSTALL_DIRECTORY "schedy")
include(CPack)
