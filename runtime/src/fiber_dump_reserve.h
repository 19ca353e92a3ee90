// Dump reserve (internal): address space set aside at start so that a dump
// can still be made once memory has run out.
//
// A dump allocates: the capture (about 1.2 KiB a fiber), the symbolizer's
// caches and libdw's reading of debug information, the text. When the
// program has used up its address space (RLIMIT_AS) or its commit limit,
// every one of those fails. So install_dump_handlers() maps kDumpReserveBytes
// of private, untouched memory (no resident pages; it counts toward
// RLIMIT_AS, and toward the commit charge where overcommit is strict), and a
// dump that finds memory exhausted unmaps it: malloc and the kernel then
// have room again for the dump's own allocations. Enough for the capture of
// about 20 000 fibers and their text.
#pragma once

#include <cstddef>

namespace tether::detail {

inline constexpr std::size_t kDumpReserveBytes = std::size_t{32} << 20;

// Maps the reserve unless it is mapped already (after a release, the next
// call maps it again if memory allows). Async-signal-safe.
void reserve_dump_memory() noexcept;

// Unmaps the reserve. False when nothing was reserved (already released, or
// the mapping failed). Async-signal-safe; one caller wins.
bool release_dump_memory() noexcept;

}  // namespace tether::detail
