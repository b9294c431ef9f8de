# Sanitizer build types and the compiler cache.
#
# Besides CMake's own Release, Debug, RelWithDebInfo and MinSizeRel, two build types:
#   Asan  AddressSanitizer + UndefinedBehaviorSanitizer; any UB report aborts the run.
#   Tsan  ThreadSanitizer.
# Both build with -O1 -g and frame pointers, so reports have usable stacks and still run at a
# reasonable speed. Pick them with -DCMAKE_BUILD_TYPE=Asan|Tsan or the asan/tsan presets.
#
# When ccache is installed it becomes the compiler launcher (turn off with
# -DBRIGADE_USE_CCACHE=OFF).

include_guard(GLOBAL)

set(brigade_asan_flags
  "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g")
set(brigade_tsan_flags "-fsanitize=thread -Wno-tsan -fno-omit-frame-pointer -O1 -g")

foreach(lang C CXX)
  set(CMAKE_${lang}_FLAGS_ASAN "${brigade_asan_flags}")
  set(CMAKE_${lang}_FLAGS_TSAN "${brigade_tsan_flags}")
endforeach()

foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_ASAN "-fsanitize=address,undefined")
  set(CMAKE_${kind}_LINKER_FLAGS_TSAN "-fsanitize=thread")
endforeach()

set(brigade_build_types Release Debug RelWithDebInfo MinSizeRel Asan Tsan)

get_property(brigade_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
if(brigade_multi_config)
  foreach(type Asan Tsan)
    if(NOT type IN_LIST CMAKE_CONFIGURATION_TYPES)
      list(APPEND CMAKE_CONFIGURATION_TYPES ${type})
    endif()
  endforeach()
  set(CMAKE_CONFIGURATION_TYPES "${CMAKE_CONFIGURATION_TYPES}" CACHE STRING "" FORCE)
else()
  if(NOT CMAKE_BUILD_TYPE)
    set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
    message(STATUS "No CMAKE_BUILD_TYPE given; using Release")
  endif()
  set_property(CACHE CMAKE_BUILD_TYPE PROPERTY STRINGS ${brigade_build_types})
  if(NOT CMAKE_BUILD_TYPE IN_LIST brigade_build_types)
    message(WARNING "Unknown CMAKE_BUILD_TYPE '${CMAKE_BUILD_TYPE}'; "
                    "expected one of: ${brigade_build_types}")
  endif()
endif()

option(BRIGADE_USE_CCACHE "Use ccache as the compiler launcher when it is installed" ON)
if(BRIGADE_USE_CCACHE)
  find_program(BRIGADE_CCACHE_PROGRAM ccache)
  if(BRIGADE_CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    message(STATUS "Using ccache: ${BRIGADE_CCACHE_PROGRAM}")
    set(CMAKE_C_COMPILER_LAUNCHER "${BRIGADE_CCACHE_PROGRAM}")
    set(CMAKE_CXX_COMPILER_LAUNCHER "${BRIGADE_CCACHE_PROGRAM}")
  endif()
endif()
