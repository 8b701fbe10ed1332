# Desktop integration installed with the .deb.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/schedy-dashboard.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/schedy.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)

set(CPACK_PACKAGE_NAME "schedy")
set(CPACK_PACKAGE_VENDOR "Schedy developers")
set(CPACK_PACKAGE_CONTACT "Schedy developers <dev@schedy.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Hyperparameter search: server, desktop dashboard and command line")
set(CPACK_PACKAGE_DESCRIPTION "Schedy coordinates hyperparameter searches: schedy-server hands out jobs from \
manual queues, random search and Population Based Training to any number of workers; schedy-dashboard browses and \
monitors experiments live; schedy is the command line for people and worker scripts.")
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGE_INSTALL_DIRECTORY "schedy")
include(CPack)
