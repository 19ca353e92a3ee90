// The bytes of a trace file (internal): constants of docs/trace-format.md and
// the varint encoders the writer and its tests share.
//
// Only the runtime's writer side lives here; the reader is analyzer/trace
// (it must not depend on the runtime). Both follow docs/trace-format.md, which
// is the contract: change it first, then both sides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tether::detail::trace {

inline constexpr char kFileMagic[8] = {'T', 'E', 'T', 'H', 'E', 'R', 'T', 'R'};
inline constexpr char kBlockMagic[4] = {'T', 'B', 'L', 'K'};
inline constexpr std::uint16_t kVersionMajor = 3;
inline constexpr std::uint16_t kVersionMinor = 0;
inline constexpr std::size_t kBlockHeaderSize = 36;
inline constexpr std::size_t kMaxString = 65535;
inline constexpr std::size_t kMaxProgram = 4096;

// Record type codes (the "code" column of the format's table).
enum class Rec : std::uint8_t {
  site = 0x01,
  stack = 0x02,
  thread_start = 0x10,
  thread_exit = 0x11,
  fiber_create = 0x20,
  fiber_exit = 0x21,
  run = 0x22,
  park = 0x23,
  unpark = 0x24,
  thread_lock = 0x25,
  thread_unlock = 0x26,
  call_begin = 0x27,
  call_end = 0x28,
  object_create = 0x30,
  object_destroy = 0x31,
  lock_acquire = 0x32,
  lock_release = 0x33,
  chan_send = 0x34,
  chan_recv = 0x35,
  chan_close = 0x36,
  select_done = 0x37,
  wg_add = 0x38,
  cond_signal = 0x39,
  syscall_enter = 0x40,
  syscall_exit = 0x41,
  fd_pair = 0x42,
  misuse = 0x50,
  finding = 0x51,
  lost = 0x60,
  end = 0x7F,
};

// thread_start's kind field.
enum class ThreadKind : std::uint8_t { main = 0, pool = 1, locker = 2, plain = 3 };

// ---- encoders (callers guarantee room: at most 10 bytes per varint) ----

inline std::uint8_t* put_uv(std::uint8_t* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<std::uint8_t>(v) | 0x80;
    v >>= 7;
  }
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}

inline std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

inline std::uint8_t* put_sv(std::uint8_t* p, std::int64_t v) noexcept {
  return put_uv(p, zigzag(v));
}

inline std::size_t uv_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A string field, cut to kMaxString bytes.
inline std::uint8_t* put_str(std::uint8_t* p, std::string_view s) noexcept {
  if (s.size() > kMaxString) s = s.substr(0, kMaxString);
  p = put_uv(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline std::size_t str_size(std::string_view s) noexcept {
  const std::size_t n = s.size() > kMaxString ? kMaxString : s.size();
  return uv_size(n) + n;
}

inline void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  std::memcpy(p, &v, 2);
}
inline void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  std::memcpy(p, &v, 4);
}
inline void put_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  std::memcpy(p, &v, 8);
}

// Decodes one varint at p (< end); nullptr if it is cut or too long. For the
// writer's own walk over records it already wrote, and for tests.
inline const std::uint8_t* get_uv(const std::uint8_t* p, const std::uint8_t* end,
                                  std::uint64_t* out) noexcept {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 70 && p < end; shift += 7) {
    const std::uint8_t b = *p++;
    if (shift == 63 && b > 1) return nullptr;
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return p;
    }
  }
  return nullptr;
}

}  // namespace tether::detail::trace
