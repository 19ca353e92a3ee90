// byte_source.h — the reader's view of its input: a file read sequentially
// through one buffer, or bytes already in memory (tests, fuzzing).
//
// get(n) returns n contiguous bytes at the current offset and advances past
// them, or fewer when the input ends first. The file variant keeps a single
// buffer that grows to the largest request (capped by the reader's Limits),
// so memory stays bounded whatever the file's length. Internal to the reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tether::trace::detail {

class ByteSource {
 public:
  // Input in memory; the bytes must outlive the source.
  explicit ByteSource(std::string_view bytes);
  // A file; check open_error() afterwards.
  explicit ByteSource(const std::string& path);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Empty when the input is readable; else why not ("No such file or directory").
  const std::string& open_error() const noexcept { return open_error_; }
  // Size of the input (for a file: at open time; a file still being written
  // may grow, which only means more is read than this says).
  std::uint64_t size() const noexcept { return size_; }
  std::uint64_t offset() const noexcept { return offset_; }

  // Up to n bytes at offset(); `got` says how many (fewer only at the end of
  // the input or on a read error, see read_error()). Valid until the next get().
  const std::uint8_t* get(std::size_t n, std::size_t& got);
  // Non-empty after a read(2) error.
  const std::string& read_error() const noexcept { return read_error_; }

 private:
  bool fill(std::size_t n);

  std::string_view memory_;
  bool is_file_ = false;
  int fd_ = -1;
  std::string open_error_, read_error_;
  std::uint64_t size_ = 0;
  std::uint64_t offset_ = 0;  // of the next byte get() returns
  // File buffer: bytes [pos_, len_) of buf_ are the input from offset_ on.
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
};

}  // namespace tether::trace::detail
