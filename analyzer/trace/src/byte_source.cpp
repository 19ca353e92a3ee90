#include "byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tether::trace::detail {
namespace {
constexpr std::size_t kReadChunk = 1u << 20;
}

ByteSource::ByteSource(std::string_view bytes) : memory_(bytes), size_(bytes.size()) {}

ByteSource::ByteSource(const std::string& path) : is_file_(true) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    open_error_ = std::strerror(errno);
    return;
  }
  struct stat st{};
  if (::fstat(fd_, &st) != 0) {
    open_error_ = std::strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    open_error_ = "is a directory";
  } else if (S_ISREG(st.st_mode)) {
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  // A pipe or FIFO has no size: size_ stays 0 and the reader's limits apply
  // alone.
#ifdef POSIX_FADV_SEQUENTIAL
  if (open_error_.empty()) ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

ByteSource::~ByteSource() {
  if (fd_ >= 0) ::close(fd_);
}

bool ByteSource::fill(std::size_t n) {
  if (len_ - pos_ >= n) return true;
  // Move what is left to the front, grow to n (at least one chunk), read.
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
  }
  const std::size_t want = std::max(n, kReadChunk);
  if (buf_.size() < want) buf_.resize(want);
  while (len_ < n && !eof_) {
    const ssize_t r = ::read(fd_, buf_.data() + len_, buf_.size() - len_);
    if (r < 0) {
      if (errno == EINTR) continue;
      read_error_ = std::strerror(errno);
      eof_ = true;
      break;
    }
    if (r == 0) {
      eof_ = true;
      break;
    }
    len_ += static_cast<std::size_t>(r);
  }
  return len_ - pos_ >= n;
}

const std::uint8_t* ByteSource::get(std::size_t n, std::size_t& got) {
  if (!is_file_) {
    const std::uint64_t left = memory_.size() - offset_;
    got = static_cast<std::size_t>(std::min<std::uint64_t>(n, left));
    const auto* p = reinterpret_cast<const std::uint8_t*>(memory_.data()) + offset_;
    offset_ += got;
    return p;
  }
  if (!open_error_.empty()) {
    got = 0;
    return nullptr;
  }
  fill(n);
  got = std::min(n, len_ - pos_);
  const std::uint8_t* p = buf_.data() + pos_;
  pos_ += got;
  offset_ += got;
  return p;
}

}  // namespace tether::trace::detail
