// varint.h — bounds-checked decoding of the trace's integers (LEB128 varints,
// zigzag for signed values) and fixed-width little-endian fields.
//
// Every decoder takes [p, end) and never reads past `end`: a truncated or
// overlong varint is reported, not read through. Internal to the reader.
#pragma once

#include <cstdint>
#include <cstring>

namespace tether::trace::detail {

enum class VarintStatus : std::uint8_t {
  ok,
  truncated,  // the buffer ended before the last byte (high bit clear)
  overlong,   // more than 10 bytes, or a 10th byte above 1: does not fit 64 bits
};

// Unsigned LEB128: 7 bits per byte, least significant first, high bit set on
// every byte but the last. On ok, advances `p` past the varint.
inline VarintStatus read_uvarint(const std::uint8_t*& p, const std::uint8_t* end,
                                 std::uint64_t& out) noexcept {
  // The common case (a timestamp delta, a small id) is one byte.
  if (p < end && *p < 0x80) {
    out = *p++;
    return VarintStatus::ok;
  }
  std::uint64_t value = 0;
  const std::uint8_t* q = p;
  for (int shift = 0; shift < 70; shift += 7) {
    if (q == end) return VarintStatus::truncated;
    const std::uint8_t byte = *q++;
    if (shift == 63 && byte > 1) return VarintStatus::overlong;
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) {
      out = value;
      p = q;
      return VarintStatus::ok;
    }
  }
  return VarintStatus::overlong;
}

// Zigzag: 0, -1, 1, -2, ... <-> 0, 1, 2, 3, ...
inline std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}
inline std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

inline std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  return static_cast<std::uint64_t>(load_le32(p)) |
         static_cast<std::uint64_t>(load_le32(p + 4)) << 32;
}
inline std::uint16_t load_le16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}

}  // namespace tether::trace::detail
