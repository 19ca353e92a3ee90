// FdTable: what the runtime knows about file descriptors (internal).
//
// pipe()/pipe2()/socketpair() through tether::sys record both ends as peers,
// the fiber that created them and which fibers used them since, so the
// detector can tell who could ever wake a fiber blocked reading one end.
// Lock-free, indexed by descriptor (the first 64k descriptors are tracked):
// recording a use of an untracked descriptor costs one relaxed load.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace tether::detail {

class FdTable {
 public:
  static constexpr int kMaxFd = 1 << 16;
  static constexpr int kUsers = 6;

  struct Info {
    int peer = -1;
    std::uint64_t creator = 0;
    std::uint64_t watermark = 0;
    std::vector<std::uint64_t> users;  // fibers that used this end (0: a plain thread)
  };

  static FdTable& instance();
  void add_pair(int a, int b, std::uint64_t creator, std::uint64_t watermark) noexcept;
  void forget(int fd) noexcept;
  void note_use(int fd, std::uint64_t fiber) noexcept;
  int peer(int fd) const noexcept;
  bool info(int fd, Info& out) const;

 private:
  struct Entry {
    std::atomic<int> peer{-1};
    std::atomic<std::uint64_t> creator{0};
    std::atomic<std::uint64_t> watermark{0};
    std::atomic<std::uint64_t> users[kUsers] = {};  // fiber id + 1; 0: empty slot
    std::atomic<bool> tracked{false};
  };
  FdTable();
  Entry* entries_;
};

}  // namespace tether::detail
