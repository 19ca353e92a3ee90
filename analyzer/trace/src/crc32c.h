// crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
// checksum of a trace block (docs/trace-format.md). crc32c("123456789") is
// 0xE3069283. Uses the SSE4.2 instruction when the CPU has it, else a
// slicing-by-8 table. Internal to the reader and its test encoder.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tether::trace::detail {

// Continues `crc` (0 to start) over [data, data + n).
std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0) noexcept;

}  // namespace tether::trace::detail
