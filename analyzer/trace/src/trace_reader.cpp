// TraceReader: docs/trace-format.md (version 1.x), read block by block.
//
// The file header is checked in full first. Then each block is read whole
// (its size is checked against the format's cap and the file's size before
// anything is allocated), its CRC verified, and only then are its records
// decoded, one per next() call. Records are decoded straight from the block
// bytes; nothing else is kept but the set of defined site/stack ids and each
// thread's last tick (for the monotonic check).
#include "tether/trace/trace_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "byte_source.h"
#include "crc32c.h"
#include "trace_format.h"
#include "varint.h"

namespace tether::trace {

std::string TraceError::message() const {
  return fmt::format("{}: byte {}: expected {}, found {}", file, offset, expected, found);
}

namespace {

using detail::VarintStatus;

// "54 42 00 ff" (at most 8 bytes shown), for "found" in messages.
std::string hex_bytes(const std::uint8_t* p, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n && i < 8; ++i) s += fmt::format("{}{:02x}", i ? " " : "", p[i]);
  if (n > 8) s += " ...";
  return s;
}

// Site and stack ids seen so far: a bitmap for the dense small ids the
// runtime hands out, a hash set for anything else.
class IdSet {
 public:
  void insert(std::uint64_t id) {
    if (id < kDense) {
      if (id >= bits_.size()) bits_.resize(std::max<std::size_t>(id + 1, bits_.size() * 2));
      if (!bits_[id]) ++size_;
      bits_[id] = true;
    } else if (sparse_.insert(id).second) {
      ++size_;
    }
  }
  bool contains(std::uint64_t id) const {
    return id < kDense ? id < bits_.size() && bits_[id] : sparse_.count(id) != 0;
  }
  std::uint64_t size() const { return size_; }

 private:
  static constexpr std::uint64_t kDense = 1u << 22;
  std::vector<bool> bits_;
  std::unordered_set<std::uint64_t> sparse_;
  std::uint64_t size_ = 0;
};

}  // namespace

class TraceReader::Impl {
 public:
  Impl(std::unique_ptr<detail::ByteSource> src, std::string name, Limits limits)
      : src_(std::move(src)), name_(std::move(name)) {
    limits_.max_block_bytes = std::min(limits.max_block_bytes, fmt_v1::kMaxPayload);
    limits_.max_string_bytes = std::min(limits.max_string_bytes, fmt_v1::kMaxString);
    limits_.max_frames = limits.max_frames;
    limits_.max_table_entries = limits.max_table_entries;
    limits_.verify_checksums = limits.verify_checksums;
    stats_.file_bytes = src_->size();
    if (!src_->open_error().empty()) {
      fail(0, "a readable trace file", src_->open_error());
      return;
    }
    header_ok_ = read_header();
  }

  bool next(Event& e);

  TraceHeader header_;
  bool header_ok_ = false;
  std::optional<TraceError> error_;
  std::vector<TraceError> warnings_;
  ReaderStats stats_;
  std::unique_ptr<detail::ByteSource> src_;
  std::string name_;

 private:
  bool fail(std::uint64_t offset, std::string expected, std::string found) {
    if (!error_) error_ = TraceError{name_, offset, std::move(expected), std::move(found)};
    return false;
  }
  void warn(int kind, std::uint64_t offset, std::string expected, std::string found) {
    if (warned_ & (1u << kind)) return;
    warned_ |= 1u << kind;
    warnings_.push_back(TraceError{name_, offset, std::move(expected), std::move(found)});
  }
  // What get() returned when it came short: the end of the file or a read error.
  std::string short_read(std::size_t got) const {
    if (!src_->read_error().empty()) return fmt::format("a read error ({})", src_->read_error());
    return got == 0 ? "the end of the file" : fmt::format("only {} bytes before the end", got);
  }

  bool read_header();
  bool read_block();
  bool decode_record(Event& e);
  bool decode_fields(Event& e);

  // --- field decoding inside the current record [p_, rec_end_) -------------
  std::uint64_t at(const std::uint8_t* p) const {
    return payload_offset_ + static_cast<std::uint64_t>(p - payload_);
  }
  bool field_error(VarintStatus st, const char* what) {
    return fail(at(p_), fmt::format("{} (a varint) in the {} record at byte {}", what, rec_name_,
                                    rec_offset_),
                st == VarintStatus::overlong ? "a varint longer than 64 bits"
                                             : "the end of the record");
  }
  // chan_send / chan_recv's `woke` and `done` (2.0): absent in 1.x records, 0 = none.
  bool woke(Event& e) {
    if (p_ == rec_end_) return true;
    if (!uv(e.other, "woke")) return false;
    if (p_ == rec_end_) return true;
    std::uint64_t done;
    if (!uv(done, "done")) return false;
    e.b = done != 0 && e.other != 0;
    return true;
  }
  // park's `next` (3.0): absent in earlier records, 0 = none. Implies a run.
  std::uint64_t next_run_ = 0;
  bool park_next(const Event& e) {
    next_run_ = 0;
    if (p_ == rec_end_) return true;
    if (!uv(next_run_, "next")) return false;
    if (next_run_ != 0 && e.fiber == 0) next_run_ = 0;  // (a plain thread switches to no fiber)
    return true;
  }
  bool uv(std::uint64_t& v, const char* what) {
    const VarintStatus st = detail::read_uvarint(p_, rec_end_, v);
    return st == VarintStatus::ok || field_error(st, what);
  }
  bool sv(std::int64_t& v, const char* what) {
    std::uint64_t u;
    if (!uv(u, what)) return false;
    v = detail::unzigzag(u);
    return true;
  }
  template <typename T>
  bool uv_as(T& out, const char* what) {
    const std::uint8_t* start = p_;
    std::uint64_t v;
    if (!uv(v, what)) return false;
    if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      return fail(at(start),
                  fmt::format("{} of the {} record at byte {} to be at most {}", what, rec_name_,
                              rec_offset_, std::numeric_limits<T>::max()),
                  std::to_string(v));
    out = static_cast<T>(v);
    return true;
  }
  bool str(std::string& s, const char* what) {
    const std::uint8_t* start = p_;
    std::uint64_t n;
    if (!uv(n, what)) return false;
    if (n > limits_.max_string_bytes)
      return fail(at(start),
                  fmt::format("{} of the {} record at byte {} to be at most {} bytes long", what,
                              rec_name_, rec_offset_, limits_.max_string_bytes),
                  fmt::format("length {}", n));
    if (n > static_cast<std::uint64_t>(rec_end_ - p_))
      return fail(at(start),
                  fmt::format("{} ({} bytes) inside the {} record at byte {}", what, n, rec_name_,
                              rec_offset_),
                  fmt::format("{} bytes left in the record", rec_end_ - p_));
    s.assign(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }
  // A site or stack id a record refers to: 0 when never defined (a warning).
  bool ref(std::uint32_t& out, const IdSet& defined, int warn_kind, const char* what) {
    const std::uint8_t* start = p_;
    if (!uv_as(out, what)) return false;
    if (out != 0 && !defined.contains(out)) {
      warn(warn_kind, at(start),
           fmt::format("{} {} of the {} record at byte {} to be defined before its use", what,
                       out, rec_name_, rec_offset_),
           "no such definition (treated as unknown)");
      out = 0;
    }
    return true;
  }
  bool define(IdSet& set, std::uint64_t id, const std::uint8_t* where, const char* what) {
    if (id == 0 || id > std::numeric_limits<std::uint32_t>::max())
      return fail(at(where),
                  fmt::format("a {} id from 1 to 4294967295 in the {} record at byte {}", what,
                              rec_name_, rec_offset_),
                  std::to_string(id));
    if (sites_.size() + stacks_.size() >= limits_.max_table_entries)
      return fail(at(where),
                  fmt::format("at most {} site and stack definitions", limits_.max_table_entries),
                  "more");
    set.insert(id);
    return true;
  }

  Limits limits_;
  unsigned warned_ = 0;
  bool ended_ = false;   // the end record was returned
  // Events the last record implies (2.0 `woke`, `done`; 3.0 park's `next`), due next.
  Event implied_[2];
  int implied_n_ = 0, implied_next_ = 0;
  void imply_run(const Event& park) {
    implied_n_ = implied_next_ = 0;
    Event& r = implied_[implied_n_++];
    r = Event{};
    r.type = EventType::run;
    r.time_ns = park.time_ns;
    r.thread = park.thread;
    r.fiber = next_run_;
  }
  void imply(const Event& e) {
    implied_n_ = implied_next_ = 0;
    if (e.b) {  // done: the woken fiber's matching operation completed with it
      Event& c = implied_[implied_n_++];
      c = Event{};
      c.type = e.type == EventType::chan_send ? EventType::chan_recv : EventType::chan_send;
      c.time_ns = e.time_ns;
      c.thread = e.thread;
      c.fiber = e.other;
      c.object = e.object;
      c.a = c.type == EventType::chan_recv ? 1 : 0;
    }
    Event& u = implied_[implied_n_++];
    u = Event{};
    u.type = EventType::unpark;
    u.time_ns = e.time_ns;
    u.thread = e.thread;
    u.fiber = e.other;
    u.other = e.fiber;
  }
  bool at_eof_ = false;  // no more blocks

  // The current block.
  const std::uint8_t* payload_ = nullptr;
  std::uint64_t payload_offset_ = 0;  // file offset of payload_[0]
  const std::uint8_t* block_end_ = nullptr;
  std::uint64_t block_offset_ = 0;
  std::uint64_t block_thread_ = 0;
  std::uint64_t ticks_ = 0;  // running time of the block
  std::uint32_t records_left_ = 0;
  std::uint32_t next_seq_ = 0;
  // Each thread's last tick (node-based: pointers stay valid); the current
  // block's thread's entry, null for thread 0.
  std::unordered_map<std::uint64_t, std::uint64_t> last_ticks_;
  std::uint64_t* thread_last_ = nullptr;
  std::uint64_t next_block_offset_ = 0;

  // The current record.
  const std::uint8_t* p_ = nullptr;
  const std::uint8_t* rec_end_ = nullptr;
  std::uint64_t rec_offset_ = 0;
  std::string_view rec_name_;
  std::string unknown_name_;

  IdSet sites_, stacks_;
};

bool TraceReader::Impl::read_header() {
  using namespace fmt_v1;
  std::size_t got;
  const std::uint8_t* p = src_->get(kHeaderFixed, got);
  if (got < 8 || std::memcmp(p, kFileMagic, 8) != 0) {
    return fail(0, "the trace magic \"TETHERTR\"",
                got == 0 ? short_read(0) : hex_bytes(p, std::min<std::size_t>(got, 8)));
  }
  if (got < kHeaderFixed)
    return fail(got, fmt::format("a {}-byte file header", kHeaderFixed), short_read(got));
  std::uint8_t fixed[kHeaderFixed];
  std::memcpy(fixed, p, kHeaderFixed);
  const std::uint16_t major = detail::load_le16(fixed + 8);
  if (major < kOldestMajor || major > kMajor)
    return fail(8,
                fmt::format("a format major version from {} to {} (this tether reads {}.x to {}.x)",
                            kOldestMajor, kMajor, kOldestMajor, kMajor),
                std::to_string(major));
  const std::uint32_t header_size = detail::load_le32(fixed + 12);
  if (header_size < kMinHeaderSize || header_size > kMaxHeaderSize)
    return fail(12, fmt::format("a header size from {} to {}", kMinHeaderSize, kMaxHeaderSize),
                std::to_string(header_size));
  const std::uint64_t num = detail::load_le64(fixed + 24), den = detail::load_le64(fixed + 32);
  if (num == 0) return fail(24, "tick_num of at least 1", "0");
  if (den == 0) return fail(32, "tick_den of at least 1", "0");
  const std::uint32_t program_len = detail::load_le32(fixed + 56);
  if (program_len > kMaxProgram || kHeaderFixed + program_len > header_size - 4)
    return fail(56,
                fmt::format("a program length of at most {} that fits the {}-byte header",
                            kMaxProgram, header_size),
                std::to_string(program_len));
  const std::uint8_t* rest = src_->get(header_size - kHeaderFixed, got);
  if (got < header_size - kHeaderFixed)
    return fail(kHeaderFixed + got, fmt::format("a {}-byte file header", header_size),
                short_read(got));
  const std::uint32_t stored = detail::load_le32(rest + header_size - kHeaderFixed - 4);
  const std::uint32_t crc =
      detail::crc32c(rest, header_size - kHeaderFixed - 4, detail::crc32c(fixed, kHeaderFixed));
  if (crc != stored && limits_.verify_checksums)
    return fail(header_size - 4, fmt::format("the header CRC32C {:08x}", crc),
                fmt::format("{:08x}", stored));
  header_.version = major;
  header_.minor = detail::load_le16(fixed + 10);
  header_.header_bytes = header_size;
  header_.start_ticks = detail::load_le64(fixed + 16);
  header_.tick_num = num;
  header_.tick_den = den;
  header_.start_unix_ns = static_cast<std::int64_t>(detail::load_le64(fixed + 40));
  header_.pid = detail::load_le32(fixed + 48);
  header_.tsc = detail::load_le32(fixed + 52) & 1u;
  header_.program.assign(reinterpret_cast<const char*>(rest), program_len);
  next_block_offset_ = header_size;
  stats_.valid_bytes = header_size;
  return true;
}

bool TraceReader::Impl::read_block() {
  using namespace fmt_v1;
  const std::uint64_t off = next_block_offset_;
  std::size_t got;
  const std::uint8_t* p = src_->get(kBlockHeader, got);
  if (got == 0 && src_->read_error().empty()) {
    at_eof_ = true;
    return false;
  }
  if (ended_)
    return fail(off, "the end of the file after the end record",
                fmt::format("{} more bytes", got));
  if (got >= 4 && std::memcmp(p, kBlockMagic, 4) != 0)
    return fail(off, "the block magic \"TBLK\"", hex_bytes(p, 4));
  if (got < kBlockHeader)
    return fail(off, fmt::format("a {}-byte block header", kBlockHeader), short_read(got));
  std::uint8_t h[kBlockHeader];
  std::memcpy(h, p, kBlockHeader);
  const std::uint32_t size = detail::load_le32(h + 4);
  if (size == 0 || size > limits_.max_block_bytes)
    return fail(off + 4, fmt::format("a payload size from 1 to {}", limits_.max_block_bytes),
                std::to_string(size));
  const std::uint32_t seq = detail::load_le32(h + 24);
  if (seq != next_seq_)
    return fail(off + 24, fmt::format("block number {}", next_seq_), std::to_string(seq));
  const std::uint32_t records = detail::load_le32(h + 28);
  if (records == 0 || records > size / kMinRecord)
    return fail(off + 28,
                fmt::format("a record count from 1 to {} (payload {} bytes)", size / kMinRecord,
                            size),
                std::to_string(records));
  // A torn tail: say so before allocating room for a payload that is not there.
  const std::uint64_t file_size = src_->size();
  if (file_size != 0 && off + kBlockHeader + size > file_size)
    return fail(off, fmt::format("a block of {} payload bytes", size),
                fmt::format("only {} bytes before the end of the file",
                            file_size - off - kBlockHeader));
  const std::uint8_t* payload = src_->get(size, got);
  if (got < size)
    return fail(off, fmt::format("a block of {} payload bytes", size), short_read(got));
  const std::uint32_t stored = detail::load_le32(h + 32);
  const std::uint32_t crc = detail::crc32c(payload, size, detail::crc32c(h, 32));
  if (crc != stored && limits_.verify_checksums)
    return fail(off, fmt::format("a block whose CRC32C is {:08x} (stored at byte {})", stored,
                                 off + 32),
                fmt::format("{:08x}", crc));
  const std::uint64_t thread = detail::load_le64(h + 8);
  const std::uint64_t base = detail::load_le64(h + 16);
  if (thread != 0) {
    // Thread 0 holds metadata, whose time means nothing; every other thread's
    // ticks start at the trace's start and never go back.
    auto [it, fresh] = last_ticks_.try_emplace(thread, header_.start_ticks);
    if (base < it->second)
      return fail(off + 16,
                  fmt::format("base ticks of at least {} (thread {}'s last event{})", it->second,
                              thread, fresh ? ": the trace's start" : ""),
                  std::to_string(base));
    thread_last_ = &it->second;
  } else {
    thread_last_ = nullptr;
  }
  ++next_seq_;
  ++stats_.blocks;
  block_offset_ = off;
  payload_ = payload;
  payload_offset_ = off + kBlockHeader;
  block_end_ = payload + size;
  block_thread_ = thread;
  ticks_ = base;
  records_left_ = records;
  next_block_offset_ = off + kBlockHeader + size;
  p_ = payload;
  return true;
}

bool TraceReader::Impl::decode_fields(Event& e) {
  std::uint64_t n;
  switch (e.type) {
    case EventType::site: {
      const std::uint8_t* where = p_;
      std::uint32_t column;
      return uv(e.id, "id") && uv_as(e.line, "line") && uv_as(column, "column") &&
             str(e.file, "file") && str(e.text, "function") &&
             define(sites_, e.id, where, "site");
    }
    case EventType::stack: {
      const std::uint8_t* where = p_;
      if (!uv(e.id, "id")) return false;
      const std::uint8_t* count_at = p_;
      if (!uv(n, "frame count")) return false;
      // Each frame takes at least 4 bytes: bounded by the record before any allocation.
      const std::uint64_t fit = static_cast<std::uint64_t>(rec_end_ - p_) / 4;
      if (n > limits_.max_frames || n > fit)
        return fail(at(count_at),
                    fmt::format("a frame count of at most {} in the stack record at byte {}",
                                std::min<std::uint64_t>(limits_.max_frames, fit), rec_offset_),
                    std::to_string(n));
      e.frames.resize(static_cast<std::size_t>(n));
      for (Frame& f : e.frames)
        if (!uv(f.pc, "pc") || !uv_as(f.line, "line") || !str(f.file, "file") ||
            !str(f.function, "function"))
          return false;
      return define(stacks_, e.id, where, "stack");
    }
    case EventType::thread_start: {
      std::uint64_t kind;
      if (!uv(kind, "kind") || !uv(e.object, "object") || !uv_as(e.a, "tid") ||
          !str(e.text, "name"))
        return false;
      e.kind = kind < std::size(fmt_v1::kThreadKinds) ? fmt_v1::kThreadKinds[kind] : "unknown";
      return true;
    }
    case EventType::thread_exit:
    case EventType::end:
      return e.type == EventType::thread_exit || sv(e.a, "status");
    case EventType::fiber_create:
      return uv(e.fiber, "fiber") && uv(e.other, "parent") &&
             ref(e.site, sites_, 0, "site") && uv(e.thread, "thread") && str(e.text, "name");
    case EventType::fiber_exit:
    case EventType::run:
      return uv(e.fiber, "fiber");
    case EventType::park:
      return uv(e.fiber, "fiber") && uv_as(e.reason, "reason") && uv(e.object, "object") &&
             ref(e.site, sites_, 0, "site") && ref(e.stack, stacks_, 1, "stack") &&
             uv_as(e.a, "timed") && park_next(e);
    case EventType::unpark:
      return uv(e.fiber, "fiber") && uv(e.other, "waker");
    case EventType::thread_lock:
    case EventType::thread_unlock:
      return uv(e.fiber, "fiber") && uv(e.thread, "thread") && uv(e.object, "object");
    case EventType::call_begin:
    case EventType::call_end:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && uv(e.other, "other");
    case EventType::object_create: {
      std::uint64_t kind;
      if (!uv(e.object, "object") || !uv(kind, "kind") || !uv(e.fiber, "fiber") ||
          !ref(e.site, sites_, 0, "site") || !uv_as(e.a, "capacity") || !str(e.text, "name"))
        return false;
      e.kind = kind < std::size(fmt_v1::kObjectKinds) ? fmt_v1::kObjectKinds[kind] : "unknown";
      return true;
    }
    case EventType::object_destroy:
      return uv(e.object, "object");
    case EventType::lock_acquire:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && uv_as(e.a, "read") &&
             ref(e.site, sites_, 0, "site") && ref(e.stack, stacks_, 1, "stack");
    case EventType::lock_release:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && uv_as(e.a, "read");
    case EventType::chan_send:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && woke(e);
    case EventType::chan_close:
      return uv(e.fiber, "fiber") && uv(e.object, "object");
    case EventType::chan_recv:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && uv_as(e.a, "ok") && woke(e);
    case EventType::select_done:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && uv_as(e.a, "index") &&
             uv_as(e.b, "is_send");
    case EventType::wg_add:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && sv(e.a, "delta") &&
             sv(e.b, "counter");
    case EventType::cond_signal:
      return uv(e.fiber, "fiber") && uv(e.object, "object") && uv_as(e.a, "broadcast");
    case EventType::syscall_enter:
      return uv(e.fiber, "fiber") && sv(e.a, "fd") && sv(e.b, "peer") &&
             ref(e.site, sites_, 0, "site") && str(e.text, "name");
    case EventType::syscall_exit:
      return uv(e.fiber, "fiber") && sv(e.a, "result") && uv_as(e.b, "errno");
    case EventType::fd_pair:
      return uv(e.fiber, "fiber") && sv(e.a, "fd0") && sv(e.b, "fd1");
    case EventType::misuse:
      return uv(e.fiber, "fiber") && ref(e.site, sites_, 0, "site") && str(e.text, "message");
    case EventType::finding: {
      if (!str(e.kind, "kind") || !str(e.text, "pattern")) return false;
      const std::uint8_t* count_at = p_;
      if (!uv(n, "fiber count")) return false;
      const std::uint64_t fit = static_cast<std::uint64_t>(rec_end_ - p_);  // >= 1 byte each
      if (n > fit)
        return fail(at(count_at),
                    fmt::format("a fiber count of at most {} in the finding record at byte {}",
                                fit, rec_offset_),
                    std::to_string(n));
      e.fibers.resize(static_cast<std::size_t>(n));
      for (std::uint64_t& f : e.fibers)
        if (!uv(f, "fiber")) return false;
      return true;
    }
    case EventType::lost:
      return uv_as(e.a, "count");
  }
  return true;
}

bool TraceReader::Impl::next(Event& e) {
  if (implied_next_ < implied_n_) {
    e = std::move(implied_[implied_next_++]);
    ++stats_.events;
    return true;
  }
  if (!header_ok_ || error_) return false;
  for (;;) {
    if (records_left_ == 0) {
      if (payload_ && p_ != block_end_)
        return fail(at(p_), "the end of the block's payload after its last record",
                    fmt::format("{} more bytes", block_end_ - p_));
      if (payload_) {
        stats_.valid_bytes = next_block_offset_;
        payload_ = nullptr;
      }
      if (at_eof_ || !read_block()) return false;
    }
    if (ended_)  // (the block may claim more records than its payload holds)
      return fail(at(p_), "nothing after the end record",
                  p_ < block_end_ ? fmt::format("record type {:#04x}", *p_)
                                  : std::string("another record announced by the block"));
    if (!decode_record(e)) {
      if (error_) return false;
      continue;  // an unknown record type, skipped
    }
    if (e.other != 0 && (e.type == EventType::chan_send || e.type == EventType::chan_recv))
      imply(e);
    if (e.type == EventType::park && next_run_ != 0) imply_run(e);
    ++stats_.events;
    return true;
  }
}

bool TraceReader::Impl::decode_record(Event& e) {
  const std::uint8_t* start = p_;
  rec_offset_ = at(start);
  --records_left_;
  if (block_end_ - p_ < 1) return fail(rec_offset_, "a record type", "the end of the block");
  const std::uint8_t type = *p_++;
  const std::optional<EventType> et = fmt_v1::event_type_of(type);
  if (et) {
    rec_name_ = to_string(*et);
  } else {
    unknown_name_ = fmt::format("type {:#04x}", type);
    rec_name_ = unknown_name_;
  }
  std::uint64_t len;
  const VarintStatus st = detail::read_uvarint(p_, block_end_, len);
  if (st != VarintStatus::ok)
    return fail(at(p_), fmt::format("the length (a varint) of the {} record at byte {}", rec_name_,
                                    rec_offset_),
                st == VarintStatus::overlong ? "a varint longer than 64 bits"
                                             : "the end of the block");
  if (len > static_cast<std::uint64_t>(block_end_ - p_))
    return fail(at(start) + 1,
                fmt::format("a {} record of at most {} bytes (what is left of the block)",
                            rec_name_, block_end_ - p_),
                fmt::format("length {}", len));
  rec_end_ = p_ + len;
  std::uint64_t dt;
  if (!uv(dt, "dt")) return false;
  if (ticks_ + dt < ticks_)
    return fail(at(start), fmt::format("a {} record whose time fits 64-bit ticks", rec_name_),
                fmt::format("dt {} on top of {}", dt, ticks_));
  ticks_ += dt;

  if (!et) {  // a later minor version's record: skip it (its dt counted)
    p_ = rec_end_;
    stats_.valid_bytes = at(p_);
    return false;
  }
  e.type = *et;
  e.thread = block_thread_;
  e.fiber = e.object = e.other = e.id = 0;
  e.site = e.stack = 0;
  e.reason = 0;
  e.a = e.b = 0;
  e.line = 0;
  e.kind.clear();
  e.text.clear();
  e.file.clear();
  e.frames.clear();
  e.fibers.clear();
  const bool metadata = e.type == EventType::site || e.type == EventType::stack;
  if (metadata) {
    e.time_ns = 0;  // "their time has no meaning"
  } else {
    const std::uint64_t start_ticks = header_.start_ticks;
    const bool before = ticks_ < start_ticks;  // only possible on thread 0
    const unsigned __int128 diff = before ? start_ticks - ticks_ : ticks_ - start_ticks;
    const unsigned __int128 ns =
        header_.tick_num == header_.tick_den ? diff : diff * header_.tick_num / header_.tick_den;
    if (ns > static_cast<unsigned __int128>(std::numeric_limits<std::int64_t>::max()))
      return fail(rec_offset_, "a time within 292 years of the trace's start",
                  fmt::format("ticks {}", ticks_));
    e.time_ns = before ? -static_cast<std::int64_t>(ns) : static_cast<std::int64_t>(ns);
  }
  if (thread_last_) *thread_last_ = ticks_;
  if (!decode_fields(e)) return false;
  // Longer records: later minor versions append fields; skip them.
  p_ = rec_end_;
  stats_.valid_bytes = at(p_);
  if (e.type == EventType::lost) stats_.lost_events += static_cast<std::uint64_t>(e.a);
  if (e.type == EventType::end) {
    ended_ = true;
    stats_.clean_end = true;
  }
  return true;
}

// --- the public API -----------------------------------------------------------

TraceReader::TraceReader(const std::string& path, Limits limits)
    : impl_(std::make_unique<Impl>(std::make_unique<detail::ByteSource>(path), path, limits)) {}
TraceReader::TraceReader(std::string_view bytes, std::string name, Limits limits)
    : impl_(std::make_unique<Impl>(std::make_unique<detail::ByteSource>(bytes), std::move(name),
                                   limits)) {}
TraceReader::~TraceReader() = default;
TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;

bool TraceReader::next(Event& e) { return impl_->next(e); }
bool TraceReader::header_ok() const noexcept { return impl_->header_ok_; }
const TraceHeader& TraceReader::header() const noexcept { return impl_->header_; }
const std::optional<TraceError>& TraceReader::error() const noexcept { return impl_->error_; }
const ReaderStats& TraceReader::stats() const noexcept { return impl_->stats_; }
const std::vector<TraceError>& TraceReader::warnings() const noexcept { return impl_->warnings_; }
const std::string& TraceReader::name() const noexcept { return impl_->name_; }

std::vector<Event> read_all(const std::string& path) {
  TraceReader reader(path);
  std::vector<Event> events;
  Event e;
  while (reader.next(e)) events.push_back(e);
  if (reader.error()) throw TraceException(*reader.error());
  return events;
}

}  // namespace tether::trace
