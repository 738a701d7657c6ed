# Project-wide warnings; third-party headers come in as SYSTEM includes so they stay quiet.
add_library(gyre_warnings INTERFACE)
target_compile_options(gyre_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
    # g++ 12 at -O3 reports std::string copies as overlapping memcpy (GCC PR 105329), and
    # std::variant members of default-initialised structs as maybe-uninitialized.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict -Wno-maybe-uninitialized>)
if(GYRE_WERROR)
    target_compile_options(gyre_warnings INTERFACE -Werror)
endif()
