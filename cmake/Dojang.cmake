# One module = one folder under src/ = one library target dojang::<name>.
# Sources are the .cpp files of the folder (and its internal/ subfolder).

set(DOJANG_WARNINGS -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O3 reports -Wrestrict/-Wstringop-overflow inside libstdc++'s
  # std::string code that are false positives (GCC bug 105329, 105651).
  list(APPEND DOJANG_WARNINGS -Wno-restrict -Wno-stringop-overflow -Wno-stringop-overread)
endif()

function(dojang_apply_common target)
  target_compile_options(${target} PRIVATE ${DOJANG_WARNINGS})
  if(DOJANG_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # Sanitizer instrumentation makes GCC 12 report maybe-uninitialized inside
      # libstdc++ (std::regex, std::function): false positives.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# dojang_module(NAME <name> DEPS <targets...> [PRIVATE_DEPS <targets...>])
function(dojang_module)
  cmake_parse_arguments(M "" "NAME" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/internal/*.cpp)
  if(NOT srcs)
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty.cpp)
  endif()
  add_library(dojang_${M_NAME} STATIC ${srcs})
  add_library(dojang::${M_NAME} ALIAS dojang_${M_NAME})
  target_include_directories(dojang_${M_NAME}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(dojang_${M_NAME} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  dojang_apply_common(dojang_${M_NAME})
  if(DOJANG_FUZZ)
    target_compile_options(dojang_${M_NAME} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  endif()
endfunction()

# dojang_tests(NAME <module> DEPS <targets...>): one GoogleTest binary per module
# from tests/<module>/*_test.cpp, each test registered with CTest.
function(dojang_tests)
  cmake_parse_arguments(T "" "NAME" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp ${CMAKE_CURRENT_SOURCE_DIR}/*_helpers.cpp)
  if(NOT srcs)
    return()
  endif()
  add_executable(${T_NAME}_tests ${srcs})
  target_link_libraries(${T_NAME}_tests PRIVATE ${T_DEPS} dojang_testing GTest::gtest_main GTest::gmock)
  target_include_directories(${T_NAME}_tests PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${T_NAME}_tests PRIVATE
    DOJANG_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data"
    DOJANG_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
  dojang_apply_common(${T_NAME}_tests)
  gtest_discover_tests(${T_NAME}_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
