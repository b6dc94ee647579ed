# Compile options shared by every kappa target.
add_library(kappa_options INTERFACE)
target_compile_options(kappa_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers)
if(KAPPA_WARNINGS_AS_ERRORS)
  target_compile_options(kappa_options INTERFACE -Werror)
endif()
# Sanitizer builds also check every REQUIRES: condition (base/check.h), as debug builds do.
if(NOT KAPPA_SANITIZE STREQUAL "")
  target_compile_definitions(kappa_options INTERFACE KAPPA_DCHECKS=1)
endif()
if(KAPPA_SANITIZE STREQUAL "address")
  target_compile_options(kappa_options INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(kappa_options INTERFACE -fsanitize=address,undefined)
elseif(KAPPA_SANITIZE STREQUAL "thread")
  # TSan does not model std::atomic_thread_fence and g++ warns about each one. The fences here
  # order atomic accesses only (seqlock-style validation), so the warning is silenced rather
  # than made an error; the tests that rely on a fence to reject a benign race are not run
  # under TSan.
  target_compile_options(kappa_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  target_link_options(kappa_options INTERFACE -fsanitize=thread)
elseif(NOT KAPPA_SANITIZE STREQUAL "")
  message(FATAL_ERROR "KAPPA_SANITIZE must be '', 'address' or 'thread', not '${KAPPA_SANITIZE}'")
endif()
install(TARGETS kappa_options EXPORT kappaTargets)

# kappa_test(NAME SOURCES... [LABELS l...] [LIBS t...])
# Labels: "concurrency" marks the suites that also run under ThreadSanitizer.
function(kappa_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LABELS;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main kappa_options)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

# kappa_benchmark(NAME SOURCES... [LIBS t...])
function(kappa_benchmark name)
  cmake_parse_arguments(B "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  target_link_libraries(${name} PRIVATE ${B_LIBS} benchmark::benchmark kappa_options)
endfunction()
