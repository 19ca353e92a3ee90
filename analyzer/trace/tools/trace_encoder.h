// trace_encoder.h — a test-side writer of docs/trace-format.md.
//
// Encodes Events (event.h) into a version 3.0 trace (a park's `other` is its
// `next`, written when not 0): the file header, then
// one open block per thread, each written out when it reaches `block_bytes`
// (or on flush()), with the site/stack metadata block (thread 0) always
// written before any block that may refer to it. Tests, the generator
// (tether_trace_gen), the fuzz corpus and the benchmark use it; the runtime's
// writer (runtime/src/trace_*) is a separate implementation of the same
// document, on purpose.
//
// It also writes what the runtime never would — raw records of unknown
// types, records with extra trailing fields — so the reader's handling of
// later minor versions can be tested. It checks nothing about the events it
// is given: garbage in, a well-framed trace of garbage out.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tether/trace/event.h"

namespace tether::trace::testing {

struct EncoderOptions {
  std::uint64_t start_ticks = 1000;
  std::uint64_t tick_num = 1, tick_den = 1;  // ns = ticks * num / den
  std::int64_t start_wall_ns = 1'700'000'000'000'000'000;
  std::uint32_t pid = 4242;
  std::string program = "/usr/bin/synthetic";
  std::size_t block_bytes = 64 * 1024;  // a thread's block is written out at this payload size
};

class TraceEncoder {
 public:
  // Writes the header to `out` at once; `out` must outlive the encoder.
  TraceEncoder(std::ostream& out, EncoderOptions options = {});

  // Appends `e` to the open block of `thread` (the OS thread it happened on;
  // site and stack go to thread 0 whatever is passed). e.time_ns must not
  // go back on one thread (metadata excepted). An `end` event writes out
  // every other thread's block, then its own: it ends the file.
  void add(std::uint64_t thread, const Event& e);
  // As add(e.thread, e), for types whose `thread` field is the block's.
  void add(const Event& e) { add(e.thread, e); }
  // A record with any type code and field bytes (after dt), as is.
  void add_raw(std::uint64_t thread, std::uint8_t type, std::int64_t time_ns,
               std::string_view fields);

  // Writes out the open block of `thread` / of every thread (thread 0 first).
  void flush(std::uint64_t thread);
  void flush_all();

  std::uint64_t bytes_written() const noexcept { return written_; }
  std::uint64_t header_size() const noexcept { return header_size_; }
  struct BlockInfo {
    std::uint64_t offset = 0, payload = 0, thread = 0;
    std::uint32_t records = 0;
  };
  // Every block written so far, in file order.
  const std::vector<BlockInfo>& blocks() const noexcept { return blocks_; }

  // Field encoders (exposed for tests that build raw records).
  static void put_uv(std::string& s, std::uint64_t v);
  static void put_sv(std::string& s, std::int64_t v);
  static void put_str(std::string& s, std::string_view v);

 private:
  struct Open {
    std::string payload;
    std::uint64_t base_ticks = 0, last_ticks = 0;
    std::uint32_t records = 0;
  };
  std::uint64_t ticks_of(std::int64_t time_ns) const;
  void append(std::uint64_t thread, std::uint8_t type, std::uint64_t ticks,
              std::string_view fields);

  std::ostream& out_;
  EncoderOptions options_;
  std::map<std::uint64_t, Open> open_;
  std::vector<BlockInfo> blocks_;
  std::uint64_t written_ = 0, header_size_ = 0;
  std::uint32_t seq_ = 0;
  std::string fields_;  // scratch
};

}  // namespace tether::trace::testing
