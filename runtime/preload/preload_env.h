// preload_env.h — how `tether run` puts libtether_preload.so into a program.
//
// The library goes into the program's LD_PRELOAD, in front of what the
// environment already preloads. One exception to "in front": a program built
// with a sanitizer whose runtime is a shared library (GCC's default for
// -fsanitize=address/thread) needs that runtime first in the library order
// (ASan refuses to start otherwise), so the sanitizer runtimes the program
// itself needs (its DT_NEEDED entries) go first. A static program, a script
// or anything that is not a 64-bit ELF file gets no sanitizer entries (the
// dynamic loader ignores LD_PRELOAD for a static program anyway).
#pragma once

#include <string>
#include <vector>

namespace tether::preload {

// The file name of the library.
inline constexpr const char* kLibraryName = "libtether_preload.so";

// Where libtether_preload.so is for the tether command installed or built at
// `command_dir` (the directory of /proc/self/exe): that directory itself (the
// build tree), then ../lib/<libdir>, ../<libdir> and ../lib (an install).
// `libdir` is CMake's CMAKE_INSTALL_LIBDIR. Empty if none exists.
std::string find_library(const std::string& command_dir, const std::string& libdir);

// The sonames of sanitizer runtimes among `program`'s DT_NEEDED entries
// (libasan.so.N, libtsan.so.N, liblsan.so.N, libhwasan.so.N), in that order.
std::vector<std::string> sanitizer_runtimes(const std::string& program);

// The LD_PRELOAD value for `program`: its sanitizer runtimes, then `library`,
// then the entries of `current` (the inherited value, may be empty) that are
// not already there. Entries are separated by ':'.
std::string ld_preload_value(const std::string& library, const std::string& program,
                             const std::string& current);

}  // namespace tether::preload
