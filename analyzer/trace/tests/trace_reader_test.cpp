// TraceReader against the test encoder (tools/trace_encoder.h): round trips
// of every event type, the format's versioning rules, and every kind of
// corruption, each with its message, its offset and the prefix it keeps.
#include "tether/trace/trace_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "crc32c.h"
#include "trace_encoder.h"
#include "trace_format.h"

namespace tether::trace {
namespace {

using testing::EncoderOptions;
using testing::TraceEncoder;

Event ev(EventType t, std::int64_t time_ns, std::uint64_t thread, std::uint64_t fiber = 0) {
  Event e;
  e.type = t;
  e.time_ns = time_ns;
  e.thread = thread;
  e.fiber = fiber;
  return e;
}

// One event of every type, with every field each type carries set to a
// distinct non-zero value. Thread 10 is a locker, 11 a pool thread.
std::vector<std::pair<std::uint64_t, Event>> every_type() {
  std::vector<std::pair<std::uint64_t, Event>> v;
  auto add = [&](std::uint64_t block_thread, Event e) { v.emplace_back(block_thread, e); };
  Event site = ev(EventType::site, 0, 0);
  site.id = 1, site.line = 42, site.file = "/src/main.cpp", site.text = "main";
  add(0, site);
  Event stack = ev(EventType::stack, 0, 0);
  stack.id = 1;
  stack.frames = {{"serve(int)", "/src/srv.cpp", 17, 0x401000}, {"", "", 0, 0x402000}};
  add(0, stack);
  Event ts = ev(EventType::thread_start, 100, 10);
  ts.kind = "locker", ts.object = 10, ts.a = 4010, ts.text = "gl";
  add(10, ts);
  Event fc = ev(EventType::fiber_create, 110, 33, 2);
  fc.other = 1, fc.site = 1, fc.text = "server";
  add(10, fc);  // the new fiber is locked to thread 33 (field), recorded on 10
  add(10, ev(EventType::run, 120, 10, 2));
  Event park = ev(EventType::park, 130, 10, 2);
  park.reason = 3, park.object = 7, park.site = 1, park.stack = 1, park.a = 1;
  add(10, park);
  Event unpark = ev(EventType::unpark, 140, 11, 2);
  unpark.other = 3;
  add(11, unpark);
  Event tl = ev(EventType::thread_lock, 150, 10, 2);
  tl.object = 10;
  add(11, tl);
  Event tu = ev(EventType::thread_unlock, 160, 10, 2);
  tu.object = 10;
  add(11, tu);
  for (EventType t : {EventType::call_begin, EventType::call_end}) {
    Event c = ev(t, 170, 11, 3);
    c.object = 10, c.other = 2;
    add(11, c);
  }
  Event oc = ev(EventType::object_create, 180, 11, 3);
  oc.object = 7, oc.kind = "chan", oc.site = 1, oc.a = 4, oc.text = "requests";
  add(11, oc);
  Event od = ev(EventType::object_destroy, 181, 11);
  od.object = 7;
  add(11, od);
  Event la = ev(EventType::lock_acquire, 190, 11, 3);
  la.object = 8, la.a = 1, la.site = 1, la.stack = 1;
  add(11, la);
  Event lr = ev(EventType::lock_release, 191, 11, 3);
  lr.object = 8, lr.a = 1;
  add(11, lr);
  Event cs = ev(EventType::chan_send, 200, 11, 3);
  cs.object = 7;
  add(11, cs);
  Event cr = ev(EventType::chan_recv, 201, 11, 3);
  cr.object = 7, cr.a = 1;
  add(11, cr);
  Event cc = ev(EventType::chan_close, 202, 11, 3);
  cc.object = 7;
  add(11, cc);
  Event sd = ev(EventType::select_done, 203, 11, 3);
  sd.object = 7, sd.a = 2, sd.b = 1;
  add(11, sd);
  Event wg = ev(EventType::wg_add, 204, 11, 3);
  wg.object = 9, wg.a = -1, wg.b = 2;
  add(11, wg);
  Event sig = ev(EventType::cond_signal, 205, 11, 3);
  sig.object = 12, sig.a = 1;
  add(11, sig);
  Event se = ev(EventType::syscall_enter, 210, 10, 2);
  se.a = 5, se.b = -1, se.site = 1, se.text = "read";
  add(10, se);
  Event sx = ev(EventType::syscall_exit, 220, 10, 2);
  sx.a = -1, sx.b = 4;
  add(10, sx);
  Event fp = ev(EventType::fd_pair, 221, 10, 2);
  fp.a = 5, fp.b = 6;
  add(10, fp);
  Event mu = ev(EventType::misuse, 230, 10, 2);
  mu.site = 1, mu.text = "unlock_os_thread: not locked";
  add(10, mu);
  Event fi = ev(EventType::finding, 240, 11);
  fi.kind = "deadlock", fi.text = "lock-cycle", fi.fibers = {2, 3};
  add(11, fi);
  Event lost = ev(EventType::lost, 245, 11);
  lost.a = 17;
  add(11, lost);
  add(11, ev(EventType::fiber_exit, 246, 11, 3));
  add(10, ev(EventType::thread_exit, 250, 10));
  Event end = ev(EventType::end, 260, 11);
  end.a = -3;
  add(11, end);
  return v;
}

std::string encode(const std::vector<std::pair<std::uint64_t, Event>>& events,
                   EncoderOptions options = {}) {
  std::ostringstream out;
  TraceEncoder enc(out, options);
  for (const auto& [thread, e] : events) enc.add(thread, e);
  enc.flush_all();
  return out.str();
}

struct ReadBack {
  std::vector<Event> events;
  std::optional<TraceError> error;
  std::vector<TraceError> warnings;
  ReaderStats stats;
  bool header_ok = false;
};

ReadBack read(std::string_view bytes, Limits limits = {}) {
  TraceReader r(bytes, "t.tt", limits);
  ReadBack b;
  Event e;
  while (r.next(e)) b.events.push_back(e);
  EXPECT_FALSE(r.next(e)) << "next() after the end must stay false";
  b.error = r.error();
  b.warnings = r.warnings();
  b.stats = r.stats();
  b.header_ok = r.header_ok();
  return b;
}

void expect_same(const Event& want, const Event& got) {
  SCOPED_TRACE(std::string(to_string(want.type)));
  EXPECT_EQ(want.type, got.type);
  if (want.type != EventType::site && want.type != EventType::stack) {
    EXPECT_EQ(want.time_ns, got.time_ns);
  }
  EXPECT_EQ(want.thread, got.thread);
  EXPECT_EQ(want.fiber, got.fiber);
  EXPECT_EQ(want.object, got.object);
  EXPECT_EQ(want.other, got.other);
  EXPECT_EQ(want.id, got.id);
  EXPECT_EQ(want.site, got.site);
  EXPECT_EQ(want.stack, got.stack);
  EXPECT_EQ(want.reason, got.reason);
  EXPECT_EQ(want.a, got.a);
  EXPECT_EQ(want.b, got.b);
  EXPECT_EQ(want.kind, got.kind);
  EXPECT_EQ(want.text, got.text);
  EXPECT_EQ(want.file, got.file);
  EXPECT_EQ(want.line, got.line);
  ASSERT_EQ(want.frames.size(), got.frames.size());
  for (std::size_t i = 0; i < want.frames.size(); ++i) {
    EXPECT_EQ(want.frames[i].function, got.frames[i].function);
    EXPECT_EQ(want.frames[i].file, got.frames[i].file);
    EXPECT_EQ(want.frames[i].line, got.frames[i].line);
    EXPECT_EQ(want.frames[i].pc, got.frames[i].pc);
  }
  EXPECT_EQ(want.fibers, got.fibers);
}

// With one block per thread (the default block size), file order is the
// input sorted by block thread (0 first, then ascending), stable.
void expect_round_trip(std::vector<std::pair<std::uint64_t, Event>> in, const ReadBack& out) {
  for (auto& [thread, e] : in)
    if (e.type == EventType::site || e.type == EventType::stack) thread = 0;
  std::stable_sort(in.begin(), in.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  ASSERT_EQ(in.size(), out.events.size());
  for (std::size_t i = 0; i < in.size(); ++i) expect_same(in[i].second, out.events[i]);
}

TEST(TraceReader, RoundTripsEveryEventType) {
  const auto in = every_type();
  const std::string bytes = encode(in);
  const ReadBack out = read(bytes);
  ASSERT_FALSE(out.error) << out.error->message();
  EXPECT_TRUE(out.warnings.empty());
  expect_round_trip(in, out);
  EXPECT_TRUE(out.stats.clean_end);
  EXPECT_EQ(out.stats.lost_events, 17u);
  EXPECT_EQ(out.stats.valid_bytes, bytes.size());
  EXPECT_EQ(out.stats.file_bytes, bytes.size());
  EXPECT_EQ(out.stats.events, in.size());
}

TEST(TraceReader, HeaderFields) {
  EncoderOptions o;
  o.pid = 777;
  o.program = std::string(300, 'p');  // header larger than the minimum
  o.start_ticks = 5;
  const std::string bytes = encode({{11, ev(EventType::run, 9, 11, 1)}}, o);
  TraceReader r(bytes, "t.tt");
  Event e;
  ASSERT_TRUE(r.next(e));
  EXPECT_TRUE(r.header_ok());
  EXPECT_EQ(r.header().version, 3u);
  EXPECT_EQ(r.header().pid, 777);
  EXPECT_EQ(r.header().program, o.program);
  EXPECT_EQ(r.header().header_bytes, 60u + 300 + 4);
  EXPECT_EQ(e.time_ns, 9);
}

TEST(TraceReader, TicksConvertToNanoseconds) {
  EncoderOptions o;
  o.tick_num = 1;
  o.tick_den = 3;  // a 3 GHz TSC
  o.start_ticks = 3'000'000'000'000ull;
  std::vector<std::pair<std::uint64_t, Event>> in;
  for (std::int64_t t : {0LL, 1LL, 1000LL, 5'000'000'000LL}) in.push_back({11, ev(EventType::run, t, 11, 1)});
  const ReadBack out = read(encode(in, o));
  ASSERT_FALSE(out.error);
  ASSERT_EQ(out.events.size(), 4u);
  EXPECT_EQ(out.events[0].time_ns, 0);
  EXPECT_EQ(out.events[1].time_ns, 1);
  EXPECT_EQ(out.events[2].time_ns, 1000);
  EXPECT_EQ(out.events[3].time_ns, 5'000'000'000);
}

TEST(TraceReader, ManyThreadsManySmallBlocksKeepPerThreadOrder) {
  EncoderOptions o;
  o.block_bytes = 64;
  std::vector<std::pair<std::uint64_t, Event>> in;
  for (int i = 0; i < 3000; ++i) {
    const std::uint64_t thread = 10 + i % 7;
    in.push_back({thread, ev(EventType::run, i, thread, 1 + i % 13)});
  }
  const std::string bytes = encode(in, o);
  const ReadBack out = read(bytes);
  ASSERT_FALSE(out.error) << out.error->message();
  ASSERT_EQ(out.events.size(), in.size());
  EXPECT_GT(out.stats.blocks, 100u);
  std::map<std::uint64_t, std::int64_t> last;
  for (const Event& e : out.events) {
    EXPECT_GT(e.time_ns + 1, last[e.thread]);
    last[e.thread] = e.time_ns;
    EXPECT_EQ(e.fiber, 1 + static_cast<std::uint64_t>(e.time_ns) % 13);
  }
}

TEST(TraceReader, SkipsUnknownRecordTypesCountingTheirTime) {
  std::ostringstream out;
  TraceEncoder enc(out);
  enc.add(11, ev(EventType::run, 10, 11, 1));
  enc.add_raw(11, 0x70, 50, "\x01\x02\x03");  // a later minor version's record
  enc.add(11, ev(EventType::run, 60, 11, 2));
  enc.flush_all();
  const ReadBack b = read(out.str());
  ASSERT_FALSE(b.error) << b.error->message();
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[1].time_ns, 60);
}

TEST(TraceReader, IgnoresFieldsAppendedByLaterMinorVersions) {
  std::ostringstream out;
  TraceEncoder enc(out);
  std::string f;
  TraceEncoder::put_uv(f, 5);   // fiber
  TraceEncoder::put_uv(f, 9);   // a field 1.0 does not know
  enc.add_raw(11, fmt_v1::kRun, 20, f);
  enc.add(11, ev(EventType::fiber_exit, 30, 11, 5));
  enc.flush_all();
  const ReadBack b = read(out.str());
  ASSERT_FALSE(b.error) << b.error->message();
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].fiber, 5u);
  EXPECT_EQ(b.events[1].type, EventType::fiber_exit);
}

// --- corruption --------------------------------------------------------------

// A trace of two threads' blocks, for cutting and flipping.
struct Sample {
  std::string bytes;
  std::vector<TraceEncoder::BlockInfo> blocks;
  std::size_t events = 0;
};

Sample sample() {
  std::ostringstream out;
  EncoderOptions o;
  o.block_bytes = 40;
  TraceEncoder enc(out, o);
  Sample s;
  for (int i = 0; i < 40; ++i) {
    enc.add(10 + i % 2, ev(EventType::run, i * 10, 10 + i % 2, 1 + i));
    ++s.events;
  }
  enc.flush_all();
  s.bytes = out.str();
  s.blocks = enc.blocks();
  return s;
}

// Events in the blocks before block `k`.
std::size_t events_before(const Sample& s, std::size_t k) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < k; ++i) n += s.blocks[i].records;
  return n;
}

void expect_error(const ReadBack& b, std::uint64_t offset, const std::string& needle) {
  ASSERT_TRUE(b.error) << "no error";
  EXPECT_EQ(b.error->offset, offset) << b.error->message();
  EXPECT_NE(b.error->message().find(needle), std::string::npos) << b.error->message();
  EXPECT_EQ(b.error->message().rfind("t.tt: byte " + std::to_string(offset) + ": expected ", 0),
            0u)
      << b.error->message();
}

TEST(TraceReaderCorrupt, BadMagic) {
  std::string bytes = sample().bytes;
  bytes[0] = 'X';
  const ReadBack b = read(bytes);
  expect_error(b, 0, "expected the trace magic \"TETHERTR\", found 58 45 54");
  EXPECT_FALSE(b.header_ok);
  EXPECT_TRUE(b.events.empty());
}

TEST(TraceReaderCorrupt, EmptyFile) {
  expect_error(read(""), 0, "found the end of the file");
}

TEST(TraceReaderCorrupt, WrongMajorVersion) {
  std::string bytes = sample().bytes;
  bytes[8] = 4;
  expect_error(read(bytes), 8,
               "expected a format major version from 1 to 3 (this tether reads 1.x to 3.x), "
               "found 4");
  bytes[8] = 0;
  expect_error(read(bytes), 8,
               "expected a format major version from 1 to 3 (this tether reads 1.x to 3.x), "
               "found 0");
}

// A 1.0 file (no `woke` fields, no plain-thread parks) and a 2.x file (no
// park names a `next`) read as before.
TEST(TraceReader, ReadsMajorVersions1And2) {
  for (const char major : {1, 2}) {
    std::string bytes = sample().bytes;
    ASSERT_EQ(bytes[8], 3);
    bytes[8] = major;
    Limits lim;
    lim.verify_checksums = false;  // the header's CRC no longer matches
    TraceReader r(bytes, "old.tt", lim);
    Event e;
    std::size_t n = 0;
    while (r.next(e)) ++n;
    EXPECT_FALSE(r.error()) << r.error()->message();
    EXPECT_EQ(r.header().version, static_cast<unsigned>(major));
    EXPECT_GT(n, 0u);
  }
}

// 2.0: a send or receive that woke a parked fiber names it (`woke`); the
// reader returns the implied unpark right after it, same time and thread,
// the operation's fiber as the waker; with `done`, the woken fiber's own
// completion (the matching receive or send) before that.
TEST(TraceReader, WokeImpliesUnparkAndDoneTheCompletion) {
  Event cs = ev(EventType::chan_send, 100, 11, 3);
  cs.object = 7, cs.other = 4;  // woke 4 (a select: no done)
  Event cr = ev(EventType::chan_recv, 120, 11, 4);
  cr.object = 7, cr.a = 1, cr.other = 3, cr.b = 1;  // woke 3, done: 3's send completed
  Event cs2 = ev(EventType::chan_send, 125, 11, 3);
  cs2.object = 7, cs2.other = 5, cs2.b = 1;  // woke 5, done: 5's receive completed
  Event plain = ev(EventType::chan_send, 130, 11, 3);
  plain.object = 7;
  const ReadBack out = read(encode({{11, cs}, {11, cr}, {11, cs2}, {11, plain}}));
  ASSERT_FALSE(out.error) << out.error->message();
  const auto& v = out.events;
  ASSERT_EQ(v.size(), 9u);
  EXPECT_EQ(v[0].type, EventType::chan_send);
  EXPECT_EQ(v[0].other, 4u);
  EXPECT_EQ(v[1].type, EventType::unpark);
  EXPECT_EQ(v[1].fiber, 4u);
  EXPECT_EQ(v[1].other, 3u);
  EXPECT_EQ(v[1].thread, 11u);
  EXPECT_EQ(v[1].time_ns, v[0].time_ns);
  EXPECT_EQ(v[2].type, EventType::chan_recv);
  EXPECT_EQ(v[3].type, EventType::chan_send);  // 3's send, implied
  EXPECT_EQ(v[3].fiber, 3u);
  EXPECT_EQ(v[3].object, 7u);
  EXPECT_EQ(v[3].time_ns, v[2].time_ns);
  EXPECT_EQ(v[4].type, EventType::unpark);
  EXPECT_EQ(v[4].fiber, 3u);
  EXPECT_EQ(v[4].other, 4u);
  EXPECT_EQ(v[5].type, EventType::chan_send);
  EXPECT_EQ(v[6].type, EventType::chan_recv);  // 5's receive, implied: a value
  EXPECT_EQ(v[6].fiber, 5u);
  EXPECT_EQ(v[6].a, 1);
  EXPECT_EQ(v[7].type, EventType::unpark);
  EXPECT_EQ(v[7].fiber, 5u);
  EXPECT_EQ(v[8].type, EventType::chan_send);
  EXPECT_EQ(v[8].other, 0u);
  EXPECT_EQ(out.stats.events, 9u);
}

// 3.0: a park that names the fiber its thread switched to (`next`) implies
// that fiber's run, right after it, same time and thread; without it (or on
// a plain thread's park) there is none.
TEST(TraceReader, ParkNextImpliesTheRun) {
  Event p1 = ev(EventType::park, 100, 11, 3);
  p1.reason = 3, p1.object = 7, p1.other = 4;  // next: 4
  Event p2 = ev(EventType::park, 120, 11, 4);
  p2.reason = 3, p2.object = 7;  // to the scheduler
  Event p3 = ev(EventType::park, 130, 11, 0);
  p3.reason = 3, p3.object = 7, p3.other = 9;  // a plain thread: next ignored
  const ReadBack out = read(encode({{11, p1}, {11, p2}, {11, p3}}));
  ASSERT_FALSE(out.error) << out.error->message();
  const auto& v = out.events;
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].type, EventType::park);
  EXPECT_EQ(v[0].fiber, 3u);
  EXPECT_EQ(v[0].other, 0u);
  EXPECT_EQ(v[1].type, EventType::run);
  EXPECT_EQ(v[1].fiber, 4u);
  EXPECT_EQ(v[1].thread, 11u);
  EXPECT_EQ(v[1].time_ns, v[0].time_ns);
  EXPECT_EQ(v[2].type, EventType::park);
  EXPECT_EQ(v[2].fiber, 4u);
  EXPECT_EQ(v[3].type, EventType::park);
  EXPECT_EQ(v[3].fiber, 0u);
  EXPECT_EQ(out.stats.events, 4u);
}

TEST(TraceReaderCorrupt, TruncatedHeader) {
  const std::string bytes = sample().bytes.substr(0, 30);
  expect_error(read(bytes), 30, "expected a 60-byte file header, found only 30 bytes");
  const std::string more = sample().bytes.substr(0, 62);
  expect_error(read(more), 62, "expected a 82-byte file header, found only 2 bytes");
}

TEST(TraceReaderCorrupt, HeaderChecksum) {
  std::string bytes = sample().bytes;
  bytes[50] ^= 1;  // the pid
  expect_error(read(bytes), 78, "expected the header CRC32C");  // 60 + 18 (program) + 4
}

TEST(TraceReaderCorrupt, AbsurdHeaderFields) {
  std::string bytes = sample().bytes;
  bytes[12] = '\xff', bytes[13] = '\xff', bytes[14] = '\xff', bytes[15] = '\x7f';
  expect_error(read(bytes), 12, "expected a header size from 64 to 65536, found 2147483647");
  bytes = sample().bytes;
  for (int i = 32; i < 40; ++i) bytes[i] = 0;
  expect_error(read(bytes), 32, "expected tick_den of at least 1, found 0");
  bytes = sample().bytes;
  bytes[57] = 0x10;  // program_len 4096
  expect_error(read(bytes), 56, "expected a program length of at most 4096");
}

TEST(TraceReaderCorrupt, TornBlockKeepsEveryCompleteBlock) {
  const Sample s = sample();
  ASSERT_GE(s.blocks.size(), 4u);
  const auto& last = s.blocks.back();
  for (std::uint64_t cut : {last.offset + 3, last.offset + 20, last.offset + 36 + 1,
                            last.offset + 36 + last.payload - 1}) {
    SCOPED_TRACE(cut);
    const ReadBack b = read(std::string_view(s.bytes).substr(0, cut));
    expect_error(b, last.offset, cut < last.offset + 36 ? "block header" : "payload bytes");
    EXPECT_EQ(b.events.size(), events_before(s, s.blocks.size() - 1));
    EXPECT_EQ(b.stats.valid_bytes, last.offset);
    EXPECT_FALSE(b.stats.clean_end);
  }
}

TEST(TraceReaderCorrupt, BadBlockChecksum) {
  const Sample s = sample();
  const auto& blk = s.blocks[2];
  std::string bytes = s.bytes;
  bytes[blk.offset + 36 + 1] ^= 0x40;
  const ReadBack b = read(bytes);
  expect_error(b, blk.offset, "expected a block whose CRC32C is");
  EXPECT_EQ(b.events.size(), events_before(s, 2));
}

TEST(TraceReaderCorrupt, GarbageInsteadOfABlock) {
  const Sample s = sample();
  std::string bytes = s.bytes.substr(0, s.blocks[3].offset) + std::string(100, '\0');
  const ReadBack b = read(bytes);
  expect_error(b, s.blocks[3].offset, "expected the block magic \"TBLK\", found 00 00 00 00");
  EXPECT_EQ(b.events.size(), events_before(s, 3));
}

TEST(TraceReaderCorrupt, BlockSequenceGap) {
  const Sample s = sample();
  // Drop block 1: block 2 then carries seq 2 where 1 is expected.
  const std::string bytes = s.bytes.substr(0, s.blocks[1].offset) +
                            s.bytes.substr(s.blocks[2].offset);
  const ReadBack b = read(bytes);
  expect_error(b, s.blocks[1].offset + 24, "expected block number 1, found 2");
  EXPECT_EQ(b.events.size(), events_before(s, 1));
}

// A block with any payload and a correct CRC, to test record-level checks.
std::string block(std::uint64_t thread, std::uint64_t base, std::uint32_t seq,
                  std::uint32_t records, const std::string& payload) {
  auto le = [](std::string& s, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s += static_cast<char>(v >> (8 * i));
  };
  std::string h = "TBLK";
  le(h, payload.size(), 4);
  le(h, thread, 8);
  le(h, base, 8);
  le(h, seq, 4);
  le(h, records, 4);
  le(h, detail::crc32c(payload.data(), payload.size(), detail::crc32c(h.data(), 32)), 4);
  return h + payload;
}

std::string header_only() {
  std::ostringstream out;
  TraceEncoder enc(out);
  return out.str();
}

// A run record (type, len, dt, fiber) for payloads built by hand.
std::string run_record(std::uint64_t dt, std::uint64_t fiber) {
  std::string f;
  TraceEncoder::put_uv(f, dt);
  TraceEncoder::put_uv(f, fiber);
  std::string r(1, static_cast<char>(fmt_v1::kRun));
  TraceEncoder::put_uv(r, f.size());
  return r + f;
}

TEST(TraceReaderCorrupt, AbsurdLengths) {
  const std::string h = header_only();
  const std::uint64_t p0 = h.size() + 36;  // first payload byte
  {  // a record longer than its block
    const std::string payload = run_record(1, 2) + "\x22\xff\xff\x03";
    const ReadBack b = read(h + block(11, 1000, 0, 2, payload));
    expect_error(b, p0 + 4 + 1, "expected a run record of at most 0 bytes (what is left of the block), found length 65535");
    EXPECT_EQ(b.events.size(), 1u);  // the record before it
  }
  {  // a string longer than the format allows
    std::string f;
    TraceEncoder::put_uv(f, 0);  // dt
    TraceEncoder::put_uv(f, 1);  // fiber
    TraceEncoder::put_uv(f, 0);  // site
    TraceEncoder::put_uv(f, 1u << 30);
    std::string payload(1, static_cast<char>(fmt_v1::kMisuse));
    TraceEncoder::put_uv(payload, f.size());
    expect_error(read(h + block(11, 1000, 0, 1, payload + f)), p0 + 5,
                 "expected message of the misuse record at byte " + std::to_string(p0) +
                     " to be at most 65535 bytes long, found length 1073741824");
  }
  {  // a payload size far above the format's cap
    std::string blk = block(11, 1000, 0, 1, run_record(0, 1));
    blk[4] = '\xff', blk[5] = '\xff', blk[6] = '\xff', blk[7] = '\xff';
    expect_error(read(h + blk), h.size() + 4,
                 "expected a payload size from 1 to 16777216, found 4294967295");
  }
  {  // a stack claiming a billion frames
    std::string f;
    TraceEncoder::put_uv(f, 0);
    TraceEncoder::put_uv(f, 1);
    TraceEncoder::put_uv(f, 1'000'000'000);
    std::string payload(1, static_cast<char>(fmt_v1::kStack));
    TraceEncoder::put_uv(payload, f.size());
    expect_error(read(h + block(0, 0, 0, 1, payload + f)), p0 + 4, "expected a frame count");
  }
  {  // a block that claims more records than its payload can hold
    expect_error(read(h + block(11, 1000, 0, 100, run_record(0, 1))), h.size() + 28,
                 "expected a record count from 1 to 1");
  }
  {  // a block that claims fewer records than it holds
    expect_error(read(h + block(11, 1000, 0, 1, run_record(0, 1) + run_record(0, 2))), p0 + 4,
                 "expected the end of the block's payload after its last record, found 4 more");
  }
}

TEST(TraceReaderCorrupt, OverlongVarintAndFieldsOutOfRange) {
  const std::string h = header_only();
  const std::uint64_t p0 = h.size() + 36;
  {
    const std::string f("\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11);  // dt, fiber
    std::string payload(1, static_cast<char>(fmt_v1::kRun));
    TraceEncoder::put_uv(payload, f.size());
    expect_error(read(h + block(11, 1000, 0, 1, payload + f)), p0 + 3,
                 "found a varint longer than 64 bits");
  }
  {  // a park with reason 300 (reasons are one byte)
    std::string f;
    for (std::uint64_t v : {0, 2, 300}) TraceEncoder::put_uv(f, v);
    std::string payload(1, static_cast<char>(fmt_v1::kPark));
    TraceEncoder::put_uv(payload, f.size());
    expect_error(read(h + block(11, 1000, 0, 1, payload + f)), p0 + 4,
                 "expected reason of the park record at byte " + std::to_string(p0) +
                     " to be at most 255, found 300");
  }
  {  // a record that ends before its fields do
    std::string f;
    TraceEncoder::put_uv(f, 0);  // dt, then no fiber
    std::string payload(1, static_cast<char>(fmt_v1::kRun));
    TraceEncoder::put_uv(payload, f.size());
    expect_error(read(h + block(11, 1000, 0, 1, payload + f)), p0 + 3,
                 "expected fiber (a varint) in the run record at byte " + std::to_string(p0) +
                     ", found the end of the record");
  }
}

TEST(TraceReaderCorrupt, TimeGoingBackOnAThread) {
  const std::string h = header_only();
  const std::string b0 = block(11, 5000, 0, 1, run_record(0, 1));
  const std::string b1 = block(11, 4000, 1, 1, run_record(0, 2));
  const ReadBack b = read(h + b0 + b1);
  expect_error(b, h.size() + b0.size() + 16,
               "expected base ticks of at least 5000 (thread 11's last event), found 4000");
  EXPECT_EQ(b.events.size(), 1u);
  // Before the trace's start (1000): also wrong.
  expect_error(read(h + block(12, 999, 0, 1, run_record(0, 1))), h.size() + 16,
               "expected base ticks of at least 1000 (thread 12's last event: the trace's start)");
}

TEST(TraceReaderCorrupt, UndefinedSiteIsAWarningAndUnknown) {
  std::ostringstream out;
  TraceEncoder enc(out);
  Event park = ev(EventType::park, 5, 11, 2);
  park.reason = 6, park.site = 99, park.stack = 98;
  enc.add(park);
  enc.add(ev(EventType::run, 6, 11, 3));
  enc.flush_all();
  const ReadBack b = read(out.str());
  ASSERT_FALSE(b.error) << b.error->message();
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(b.events[0].site, 0u);
  EXPECT_EQ(b.events[0].stack, 0u);
  ASSERT_EQ(b.warnings.size(), 2u);  // one per kind: site, stack
  EXPECT_NE(b.warnings[0].message().find("expected site 99 of the park record"),
            std::string::npos)
      << b.warnings[0].message();
  EXPECT_NE(b.warnings[1].message().find("expected stack 98"), std::string::npos);
}

TEST(TraceReaderCorrupt, NothingAfterTheEnd) {
  std::ostringstream out;
  TraceEncoder enc(out);
  enc.add(ev(EventType::end, 5, 11));
  enc.flush_all();
  enc.add(ev(EventType::run, 6, 11, 1));
  enc.flush_all();
  const ReadBack b = read(out.str());
  expect_error(b, enc.blocks()[1].offset, "expected the end of the file after the end record");
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_TRUE(b.stats.clean_end);
}

TEST(TraceReaderCorrupt, MissingFile) {
  TraceReader r(std::string("/nonexistent/x.tt"));
  Event e;
  EXPECT_FALSE(r.next(e));
  ASSERT_TRUE(r.error());
  EXPECT_EQ(r.error()->message(),
            "/nonexistent/x.tt: byte 0: expected a readable trace file, found No such file or "
            "directory");
}

TEST(TraceReader, ReadsFilesThroughItsBufferLikeMemory) {
  EncoderOptions o;
  o.block_bytes = 300 * 1024;  // blocks larger than the read chunk's remainder
  std::vector<std::pair<std::uint64_t, Event>> in;
  for (int i = 0; i < 400000; ++i) in.push_back({10 + i % 3, ev(EventType::run, i, 10 + i % 3, i)});
  const std::string bytes = encode(in, o);
  const std::string path = ::testing::TempDir() + "/trace_reader_test.tt";
  std::ofstream(path, std::ios::binary) << bytes;
  TraceReader r(path);
  Event e;
  std::size_t n = 0;
  while (r.next(e)) ++n;
  EXPECT_FALSE(r.error()) << r.error()->message();
  EXPECT_EQ(n, in.size());
  EXPECT_EQ(r.stats().file_bytes, bytes.size());
  std::remove(path.c_str());
}

// Random damage never crashes, never throws, and what comes out before the
// error is a prefix of what a clean read returns.
TEST(TraceReader, RandomDamageYieldsAPrefixOrAnError) {
  const std::string clean = encode(every_type());
  const ReadBack good = read(clean);
  ASSERT_FALSE(good.error);
  std::mt19937 rng(12345);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = clean;
    const int flips = 1 + round % 4;
    for (int i = 0; i < flips; ++i)
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (round % 3 == 0) bytes.resize(rng() % bytes.size());
    const ReadBack b = read(bytes);
    ASSERT_LE(b.events.size(), good.events.size());
    if (!b.error) continue;  // a flip inside a skipped byte (header padding)
    EXPECT_LE(b.error->offset, bytes.size());
  }
}

}  // namespace
}  // namespace tether::trace
