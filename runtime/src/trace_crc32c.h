// CRC32C (Castagnoli) for trace blocks (internal): the SSE4.2 instruction
// when the CPU has it, a table otherwise. crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tether::detail::trace {

// Extends `crc` (a finished CRC of the bytes so far; 0 for none) with n bytes.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t n) noexcept;
inline std::uint32_t crc32c(const void* data, std::size_t n) noexcept {
  return crc32c_extend(0, data, n);
}

}  // namespace tether::detail::trace
