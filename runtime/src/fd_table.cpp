#include "fd_table.h"

namespace tether::detail {

FdTable::FdTable() : entries_(new Entry[kMaxFd]) {}

FdTable& FdTable::instance() {
  static FdTable* t = new FdTable;  // never destroyed: used until the last fiber stops
  return *t;
}

void FdTable::add_pair(int a, int b, std::uint64_t creator, std::uint64_t watermark) noexcept {
  if (a < 0 || b < 0 || a >= kMaxFd || b >= kMaxFd) return;
  for (int fd : {a, b}) {
    Entry& e = entries_[fd];
    for (auto& u : e.users) u.store(0, std::memory_order_relaxed);
    e.creator.store(creator, std::memory_order_relaxed);
    e.watermark.store(watermark, std::memory_order_relaxed);
    e.peer.store(fd == a ? b : a, std::memory_order_relaxed);
    e.tracked.store(true, std::memory_order_release);
  }
}

void FdTable::forget(int fd) noexcept {
  if (fd < 0 || fd >= kMaxFd) return;
  Entry& e = entries_[fd];
  if (!e.tracked.exchange(false, std::memory_order_acq_rel)) return;
  const int p = e.peer.exchange(-1, std::memory_order_relaxed);
  if (p >= 0 && p < kMaxFd) {
    int expected = fd;
    entries_[p].peer.compare_exchange_strong(expected, -1, std::memory_order_relaxed);
  }
}

void FdTable::note_use(int fd, std::uint64_t fiber) noexcept {
  if (fd < 0 || fd >= kMaxFd) return;
  Entry& e = entries_[fd];
  if (!e.tracked.load(std::memory_order_relaxed)) return;
  const std::uint64_t v = fiber + 1;
  for (auto& u : e.users) {
    std::uint64_t cur = u.load(std::memory_order_relaxed);
    if (cur == v) return;
    if (cur == 0 && u.compare_exchange_strong(cur, v, std::memory_order_relaxed)) return;
    if (cur == v) return;
  }
  // Full: the detector treats the descriptor as used by many (conservative).
}

int FdTable::peer(int fd) const noexcept {
  if (fd < 0 || fd >= kMaxFd) return -1;
  const Entry& e = entries_[fd];
  return e.tracked.load(std::memory_order_acquire) ? e.peer.load(std::memory_order_relaxed) : -1;
}

bool FdTable::info(int fd, Info& out) const {
  if (fd < 0 || fd >= kMaxFd) return false;
  const Entry& e = entries_[fd];
  if (!e.tracked.load(std::memory_order_acquire)) return false;
  out.peer = e.peer.load(std::memory_order_relaxed);
  out.creator = e.creator.load(std::memory_order_relaxed);
  out.watermark = e.watermark.load(std::memory_order_relaxed);
  out.users.clear();
  bool full = true;
  for (const auto& u : e.users) {
    const std::uint64_t v = u.load(std::memory_order_relaxed);
    if (v == 0) {
      full = false;
    } else {
      out.users.push_back(v - 1);
    }
  }
  if (full) out.users.push_back(0);  // overflowed: assume someone outside could act
  return true;
}

}  // namespace tether::detail
