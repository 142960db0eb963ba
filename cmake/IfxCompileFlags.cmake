# The C standard, warnings and feature macros every ifx build uses: the main project and the
# AArch64 test project (tests/aarch64) include this one file.
set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE RelWithDebInfo)
endif()
option(IFX_WERROR "Treat warnings as errors" ON)
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
                    -Wformat=2 -Wno-format-nonliteral)
add_compile_definitions(_POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
if(IFX_WERROR)
  add_compile_options(-Werror)
endif()
