# brigade_set_warnings(<target>)
#
# Turns on the project's warning set for <target>. Every target the project builds calls it,
# and the code is expected to compile clean. CI configures with -DBRIGADE_WERROR=ON, which makes
# any warning an error.
#
# -Wconversion is deliberately left out: it is too noisy for the value it adds here.
# -Wnull-dereference too: at -O3 GCC 12 reports it inside Boost.Asio code inlined into the tests.

include_guard(GLOBAL)

option(BRIGADE_WERROR "Treat compiler warnings as errors" OFF)

function(brigade_set_warnings target)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "brigade_set_warnings: '${target}' is not a target")
  endif()

  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(WARNING "brigade_set_warnings: no warning set for ${CMAKE_CXX_COMPILER_ID}")
    return()
  endif()

  set(common_warnings
    -Wall
    -Wextra
    -Wpedantic
    -Wshadow
    -Wimplicit-fallthrough)

  # These only mean something (and are only accepted without a warning) for C++.
  set(cxx_warnings
    -Wnon-virtual-dtor
    -Wold-style-cast
    -Woverloaded-virtual)

  target_compile_options(${target} PRIVATE
    ${common_warnings}
    $<$<COMPILE_LANGUAGE:CXX>:${cxx_warnings}>)

  if(BRIGADE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
