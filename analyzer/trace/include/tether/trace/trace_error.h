// tether/trace/trace_error.h — what a TraceReader reports when a file is bad.
//
// A trace reader stops at the first thing that does not match
// docs/trace-format.md and describes it as ONE error:
//
//   out.tt: byte 4096: expected block magic "TTBK", found 00 00 00 00
//
// `offset` is the byte offset in the file of the first byte that is wrong (or,
// for a file that ends too early, the file's size). Everything decoded before
// that point stays valid: the reader has already handed it out.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace tether::trace {

struct TraceError {
  std::string file;          // as given to the reader
  std::uint64_t offset = 0;  // byte offset in the file
  std::string expected;      // "block magic \"TTBK\"", "a varint", ...
  std::string found;         // "end of file", "00 00 00 00", "type 200", ...

  // "FILE: byte OFFSET: expected EXPECTED, found FOUND"
  std::string message() const;
};

// Thrown where an exception is the natural shape (read_all(), the CLI's
// helpers); TraceReader::next() itself never throws it.
class TraceException : public std::runtime_error {
 public:
  explicit TraceException(TraceError e) : std::runtime_error(e.message()), error_(std::move(e)) {}
  const TraceError& error() const noexcept { return error_; }

 private:
  TraceError error_;
};

}  // namespace tether::trace
