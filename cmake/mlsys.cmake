# Helpers that declare mlsys's per-subsystem libraries, tests and benchmarks.
#
# Layering is enforced by include visibility: each subsystem's headers are reachable as
# <mlsys/NAME/...> only through a private staging folder that is the library's PUBLIC include
# directory. A subsystem therefore sees its own headers and those of the libraries it names in
# DEPS (transitively), nothing else: a lower layer including a higher one fails to compile.

include(GoogleTest)
set(MLSYS_STAGE_DIR ${CMAKE_BINARY_DIR}/include-stage)

# mlsys_library(NAME core SRCS a.cpp b.cpp DEPS other_lib... [EXTERNAL ext::lib...])
function(mlsys_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;EXTERNAL" ${ARGN})
  set(target mlsys_${ARG_NAME})
  set(stage ${MLSYS_STAGE_DIR}/${ARG_NAME})
  file(MAKE_DIRECTORY ${stage}/mlsys)
  if(NOT EXISTS ${stage}/mlsys/${ARG_NAME})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${stage}/mlsys/${ARG_NAME} SYMBOLIC)
  endif()
  add_library(${target} STATIC ${ARG_SRCS})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC ${stage})
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${target} PUBLIC mlsys_${dep})
  endforeach()
  target_link_libraries(${target} PUBLIC ${ARG_EXTERNAL})
endfunction()

# mlsys_test(NAME units_test SRCS units_test.cpp DEPS core)
function(mlsys_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${ARG_NAME} PRIVATE mlsys_${dep})
  endforeach()
  target_link_libraries(${ARG_NAME} PRIVATE GTest::gtest_main GTest::gmock)
  target_compile_definitions(${ARG_NAME} PRIVATE
    MLSYS_SHARED_DATA="${CMAKE_SOURCE_DIR}/../shared/data"
    MLSYS_REPO_DATA="${CMAKE_SOURCE_DIR}/data")
  gtest_discover_tests(${ARG_NAME} DISCOVERY_MODE PRE_TEST
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} PROPERTIES LABELS unit)
endfunction()

# mlsys_bench(NAME engine_bench SRCS engine_bench.cpp DEPS sim)
function(mlsys_bench)
  if(NOT MLSYS_BENCH)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${ARG_NAME} PRIVATE mlsys_${dep})
  endforeach()
  target_link_libraries(${ARG_NAME} PRIVATE benchmark::benchmark)
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endfunction()
