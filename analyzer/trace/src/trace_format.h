// trace_format.h — the constants of docs/trace-format.md versions 1.x and 2.x: magic
// numbers, sizes, limits, record codes and their mapping to EventType.
// Shared by the reader and the test-side encoder (tools/trace_encoder.h);
// deliberately not by the runtime's writer, so that the two sides are
// independent implementations of the document.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "tether/trace/event.h"

namespace tether::trace::fmt_v1 {

inline constexpr char kFileMagic[8] = {'T', 'E', 'T', 'H', 'E', 'R', 'T', 'R'};
inline constexpr char kBlockMagic[4] = {'T', 'B', 'L', 'K'};
// The version written by the test-side encoder; the reader reads every major
// from kOldestMajor to kMajor (2.0 and 3.0 only add to what earlier records
// may say).
inline constexpr std::uint16_t kMajor = 3;
inline constexpr std::uint16_t kMinor = 0;
inline constexpr std::uint16_t kOldestMajor = 1;
inline constexpr std::uint32_t kHeaderFixed = 60;  // fields before `program`
inline constexpr std::uint32_t kMinHeaderSize = 64;
inline constexpr std::uint32_t kMaxHeaderSize = 65536;
inline constexpr std::uint32_t kMaxProgram = 4096;
inline constexpr std::uint32_t kBlockHeader = 36;
inline constexpr std::uint32_t kMaxPayload = 16u << 20;
inline constexpr std::uint32_t kMaxString = 65535;
inline constexpr std::uint32_t kMinRecord = 3;  // type, len, dt

// Record codes (the "Records" table).
enum Code : std::uint8_t {
  kSite = 0x01,
  kStack = 0x02,
  kThreadStart = 0x10,
  kThreadExit = 0x11,
  kFiberCreate = 0x20,
  kFiberExit = 0x21,
  kRun = 0x22,
  kPark = 0x23,
  kUnpark = 0x24,
  kThreadLock = 0x25,
  kThreadUnlock = 0x26,
  kCallBegin = 0x27,
  kCallEnd = 0x28,
  kObjectCreate = 0x30,
  kObjectDestroy = 0x31,
  kLockAcquire = 0x32,
  kLockRelease = 0x33,
  kChanSend = 0x34,
  kChanRecv = 0x35,
  kChanClose = 0x36,
  kSelectDone = 0x37,
  kWgAdd = 0x38,
  kCondSignal = 0x39,
  kSyscallEnter = 0x40,
  kSyscallExit = 0x41,
  kFdPair = 0x42,
  kMisuse = 0x50,
  kFinding = 0x51,
  kLost = 0x60,
  kEnd = 0x7F,
};

// The EventType of a known code, nullopt for codes of later minor versions.
constexpr std::optional<EventType> event_type_of(std::uint8_t code) noexcept {
  switch (code) {
    case kSite: return EventType::site;
    case kStack: return EventType::stack;
    case kThreadStart: return EventType::thread_start;
    case kThreadExit: return EventType::thread_exit;
    case kFiberCreate: return EventType::fiber_create;
    case kFiberExit: return EventType::fiber_exit;
    case kRun: return EventType::run;
    case kPark: return EventType::park;
    case kUnpark: return EventType::unpark;
    case kThreadLock: return EventType::thread_lock;
    case kThreadUnlock: return EventType::thread_unlock;
    case kCallBegin: return EventType::call_begin;
    case kCallEnd: return EventType::call_end;
    case kObjectCreate: return EventType::object_create;
    case kObjectDestroy: return EventType::object_destroy;
    case kLockAcquire: return EventType::lock_acquire;
    case kLockRelease: return EventType::lock_release;
    case kChanSend: return EventType::chan_send;
    case kChanRecv: return EventType::chan_recv;
    case kChanClose: return EventType::chan_close;
    case kSelectDone: return EventType::select_done;
    case kWgAdd: return EventType::wg_add;
    case kCondSignal: return EventType::cond_signal;
    case kSyscallEnter: return EventType::syscall_enter;
    case kSyscallExit: return EventType::syscall_exit;
    case kFdPair: return EventType::fd_pair;
    case kMisuse: return EventType::misuse;
    case kFinding: return EventType::finding;
    case kLost: return EventType::lost;
    case kEnd: return EventType::end;
    default: return std::nullopt;
  }
}

constexpr std::uint8_t code_of(EventType t) noexcept {
  for (unsigned c = 0; c < 256; ++c)
    if (event_type_of(static_cast<std::uint8_t>(c)) == t) return static_cast<std::uint8_t>(c);
  return 0;
}

// thread_start's kind and object_create's kind, by number.
inline constexpr std::string_view kThreadKinds[] = {"main", "pool", "locker", "plain"};
inline constexpr std::string_view kObjectKinds[] = {"chan",       "mutex", "rwmutex", "cond_var",
                                                    "wait_group", "once",  "locker"};

}  // namespace tether::trace::fmt_v1
