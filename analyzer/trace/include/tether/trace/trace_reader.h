// tether/trace/trace_reader.h — stream the events of a trace file.
//
// A TraceReader decodes a file written by the runtime (TETHER_TRACE=file,
// `tether run --trace file`; bytes in docs/trace-format.md) into the Events
// of event.h, one at a time, in file order: block by block, each block being
// one OS thread's events in the order they happened. It never holds more than
// one block and the id tables (strings, sites, stacks) in memory, so a trace
// of any length reads in bounded memory.
//
// Validation: every block's framing and checksum, every record's type,
// length and fields (ids defined before use, values in range, timestamps
// monotonic per thread). The first violation ends the stream: next() returns
// false and error() describes it as
//
//   out.tt: byte 4096: expected block magic "TTBK", found 00 00 00 00
//
// Everything returned before that stays valid (the "valid prefix"). A file
// that ends inside a block (a crash, `kill -9`) is reported the same way:
// the events of every complete block were already returned.
//
// Robustness: no input crashes, hangs or makes it allocate without bound;
// string, stack and block sizes and the number of table entries are capped
// (see Limits) and checked against the file's size before anything is
// allocated. The only exception next() can throw is std::bad_alloc.
//
//   TraceReader reader("out.tt");
//   Event e;
//   while (reader.next(e)) consume(e);
//   if (reader.error()) std::cerr << reader.error()->message() << "\n";
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tether/trace/event.h"
#include "tether/trace/trace_error.h"

namespace tether::trace {

// The file header (docs/trace-format.md, "File header").
struct TraceHeader {
  std::uint32_t version = 0;         // the major version (1)
  std::int64_t pid = 0;
  std::string program;               // argv[0] or /proc/self/exe; may be empty
  std::int64_t start_unix_ns = 0;    // wall clock at time 0 (for display only)
  std::uint16_t minor = 0;
  std::uint64_t header_bytes = 0;    // where the first block starts
  std::uint64_t start_ticks = 0, tick_num = 1, tick_den = 1;
  bool tsc = false;                  // flags bit 0: ticks are the CPU's TSC
};

// Caps on what one file may make the reader allocate. The defaults are the
// format's own maxima (docs/trace-format.md); a caller may lower them, not
// raise them. Each is also checked against the file's size before anything
// is allocated.
struct Limits {
  std::uint32_t max_block_bytes = 16u << 20;    // one block's payload
  std::uint32_t max_string_bytes = 65535;       // one string (name, message, path)
  std::uint32_t max_frames = 4096;              // frames in one stack
  std::uint64_t max_table_entries = 64u << 20;  // site and stack ids defined
  // Off only for fuzzing: lets mutated bytes reach the record decoder
  // instead of stopping at the block's CRC.
  bool verify_checksums = true;
};

// Running totals, for summaries and progress.
struct ReaderStats {
  std::uint64_t blocks = 0;
  std::uint64_t events = 0;         // Events returned by next()
  std::uint64_t valid_bytes = 0;    // end of the last record returned (or of the header)
  std::uint64_t file_bytes = 0;     // the file's size (0 when unknown)
  std::uint64_t lost_events = 0;    // the writer's "lost N events" records (it fell behind)
  bool clean_end = false;           // the `end` record was read
};

class TraceReader {
 public:
  // Opens `path`. Never throws (but std::bad_alloc): a file that cannot be
  // opened or whose header is bad leaves error() set and next() false.
  explicit TraceReader(const std::string& path, Limits limits = {});
  // Reads a trace held in memory (tests, fuzzing); `name` is used in messages.
  // The bytes must outlive the reader.
  TraceReader(std::string_view bytes, std::string name, Limits limits = {});
  ~TraceReader();
  TraceReader(TraceReader&&) noexcept;
  TraceReader& operator=(TraceReader&&) noexcept;

  // The next event in file order; false at the end of the trace or at the
  // first error (then error() says which). `e` is overwritten entirely.
  bool next(Event& e);

  // True when the file header was read and is valid (events may follow).
  bool header_ok() const noexcept;
  const TraceHeader& header() const noexcept;
  const std::optional<TraceError>& error() const noexcept;
  const ReaderStats& stats() const noexcept;
  // Problems that did not stop the stream: a site or stack id used before
  // it was defined (the event gets 0, "unknown", as the format says); one
  // entry per kind of problem, same message layout as error().
  const std::vector<TraceError>& warnings() const noexcept;
  const std::string& name() const noexcept;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads the whole file into a vector (tests, small traces). Throws
// TraceException on the first error, even after a valid prefix.
std::vector<Event> read_all(const std::string& path);

}  // namespace tether::trace
