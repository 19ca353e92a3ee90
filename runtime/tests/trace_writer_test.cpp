// The trace writer: what a run under TETHER_TRACE leaves in the file, read
// back with an independent decoder written from docs/trace-format.md.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../../testcases/trace_writer/trace_check.h"
#include "sync_test_util.h"
#include "tether/tether.h"
#include "trace_events.h"
#include "trace_writer.h"

namespace {

using namespace std::chrono_literals;
using trace_check::Record;
using trace_check::Trace;

constexpr std::uint8_t kSite = 0x01, kStack = 0x02, kThreadStart = 0x10, kFiberCreate = 0x20,
                       kFiberExit = 0x21, kRun = 0x22, kPark = 0x23, kUnpark = 0x24,
                       kThreadLock = 0x25, kThreadUnlock = 0x26, kCallBegin = 0x27, kCallEnd = 0x28,
                       kObjectCreate = 0x30, kObjectDestroy = 0x31, kLockAcquire = 0x32,
                       kLockRelease = 0x33, kChanSend = 0x34, kChanRecv = 0x35, kChanClose = 0x36,
                       kSelectDone = 0x37, kWgAdd = 0x38, kCondSignal = 0x39, kSyscallEnter = 0x40,
                       kSyscallExit = 0x41, kFdPair = 0x42, kMisuse = 0x50, kLost = 0x60,
                       kEnd = 0x7F;

std::string temp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/tether_" + name + "_" + std::to_string(getpid()) +
         ".tt";
}

// Runs fn as fiber 1 with TETHER_TRACE=path.
template <class F>
void traced_run(const std::string& path, F&& fn) {
  setenv("TETHER_TRACE", path.c_str(), 1);
  tether::run(std::forward<F>(fn));
  unsetenv("TETHER_TRACE");
}

std::vector<const Record*> of_type(const Trace& t, std::uint8_t type) {
  std::vector<const Record*> out;
  for (const Record& r : t.records)
    if (r.type == type) out.push_back(&r);
  return out;
}

// A function that shows up by name in a captured stack.
__attribute__((noinline)) void blocking_workload(tether::Chan<int>& ch) {
  ch.recv();
  asm volatile("");
}

TEST(TraceWriter, RecordsEveryKindOfEvent) {
  tether_test::Watchdog dog("RecordsEveryKindOfEvent");
  const std::string path = temp_path("every");
  std::uint64_t chan_id = 0, mutex_id = 0, locker_id = 0;
  traced_run(path, [&] {
    tether::Chan<int> ch(3, "requests");
    chan_id = ch.id();
    tether::Chan<int> unbuffered(0, "ping");
    auto receiver = tether::go([&] { blocking_workload(unbuffered); }, {.name = "receiver"});
    EXPECT_TRUE(tether_test::eventually([&] {  // it parks in blocking_workload, not we in send
      auto st = tether_test::wait_state_of(receiver.id());
      return st && st->reason == tether::WaitReason::chan_receive;
    }));
    unbuffered.send(1);
    receiver.join();

    ch.send(1);
    ch.send(2);
    ch.recv();
    tether::Chan<int> other(1);
    int got = 0;
    tether::select(tether::recv(ch, [&](std::optional<int> v) { got = v.value_or(-1); }),
                   tether::recv(other, [&](std::optional<int> v) { got = v.value_or(-1); }));
    EXPECT_EQ(got, 2);
    ch.close();
    EXPECT_FALSE(ch.recv().has_value());

    tether::Mutex mu("guard");
    mutex_id = mu.id();
    mu.lock();
    mu.unlock();
    EXPECT_THROW(mu.unlock(), tether::misuse_error);
    tether::RWMutex rw;
    rw.rlock();
    rw.runlock();
    tether::CondVar cv;
    cv.signal();
    cv.broadcast();
    tether::WaitGroup wg;
    wg.add(2);
    wg.add(-2);
    wg.wait();

    int fds[2];
    ASSERT_EQ(tether::sys::pipe(fds), 0);
    char c = 'x';
    EXPECT_EQ(tether::sys::write(fds[1], &c, 1), 1);
    EXPECT_EQ(tether::sys::read(fds[0], &c, 1), 1);
    tether::sys::close(fds[0]);
    tether::sys::close(fds[1]);

    auto gl = tether::ThreadLocker::make("gl");
    locker_id = gl.id();
    EXPECT_EQ(gl.call([] { return 7; }), 7);
    tether::go([&] {  // fiber 1 is locked to main: a pool fiber moves
      gl.lock();
      gl.unlock();
    })
        .join();
    tether::sleep_for(1ms);
  });
  const Trace t = trace_check::decode_file(path);
  ASSERT_TRUE(t.header_ok) << t.error;
  EXPECT_EQ(t.error, "");
  EXPECT_EQ(t.pid, static_cast<std::uint32_t>(getpid()));
  EXPECT_NE(t.program.find("trace_writer_test"), std::string::npos) << t.program;
  EXPECT_TRUE(t.has_end());
  EXPECT_EQ(trace_check::check_definitions(t), "");
  std::set<std::uint8_t> seen;
  for (const Record& r : t.records) seen.insert(r.type);
  for (std::uint8_t type :
       {kSite,         kStack,         kThreadStart, kFiberCreate,  kFiberExit,    kRun,
        kPark,         kUnpark,        kThreadLock,  kThreadUnlock, kCallBegin,    kCallEnd,
        kObjectCreate, kObjectDestroy, kLockAcquire, kLockRelease,  kChanSend,     kChanRecv,
        kChanClose,    kSelectDone,    kWgAdd,       kCondSignal,   kSyscallEnter, kSyscallExit,
        kFdPair,       kMisuse,        kEnd}) {
    EXPECT_TRUE(seen.count(type)) << "no " << trace_check::type_name(type) << " record";
  }
  // The channel: created with its name and capacity, by fiber 1's thread.
  bool chan_found = false;
  for (const Record* r : of_type(t, kObjectCreate)) {
    if (r->ints[0] == static_cast<std::int64_t>(chan_id)) {
      chan_found = true;
      EXPECT_EQ(r->ints[1], 0);  // chan
      EXPECT_EQ(r->ints[4], 3);  // capacity
      EXPECT_EQ(r->strs[0], "requests");
    }
  }
  EXPECT_TRUE(chan_found);
  // The closed channel's last receive says so.
  bool closed_recv = false;
  for (const Record* r : of_type(t, kChanRecv))
    if (r->ints[1] == static_cast<std::int64_t>(chan_id) && r->ints[2] == 0) closed_recv = true;
  EXPECT_TRUE(closed_recv);
  // Mutex acquire and release pair up; the misuse message names the mutex.
  int acquires = 0, releases = 0;
  for (const Record* r : of_type(t, kLockAcquire)) acquires += r->ints[1] == (int)mutex_id;
  for (const Record* r : of_type(t, kLockRelease)) releases += r->ints[1] == (int)mutex_id;
  EXPECT_EQ(acquires, 1);
  EXPECT_EQ(releases, 1);
  ASSERT_FALSE(of_type(t, kMisuse).empty());
  EXPECT_NE(of_type(t, kMisuse)[0]->strs[0].find("unlock of unlocked"), std::string::npos);
  // The locker's thread is named, and is the one of the lock/unlock records.
  bool gl_thread = false;
  for (const Record* r : of_type(t, kThreadStart)) {
    if (r->strs[0] == "gl") {
      gl_thread = true;
      EXPECT_EQ(r->ints[0], 2);  // locker
      EXPECT_EQ(r->thread, locker_id);
    }
  }
  EXPECT_TRUE(gl_thread);
  // The syscall pair: read on a pipe whose peer is known.
  bool read_seen = false;
  for (const Record* r : of_type(t, kSyscallEnter)) {
    if (r->strs[0] == "read") {
      read_seen = true;
      EXPECT_GE(r->ints[1], 0);
      EXPECT_GE(r->ints[2], 0) << "the pipe's peer";
    }
  }
  EXPECT_TRUE(read_seen);
  // The receiver's park has a symbolized stack through blocking_workload.
  std::map<std::int64_t, const Record*> stacks;
  for (const Record* r : of_type(t, kStack)) stacks[r->ints[0]] = r;
  bool workload_stack = false;
  for (const Record* r : of_type(t, kPark)) {
    if (r->ints[2] != 0 && r->ints[1] == 3 /* chan receive */ && stacks.count(r->ints[4])) {
      for (const std::string& s : stacks[r->ints[4]]->strs)
        if (s.find("blocking_workload") != std::string::npos) workload_stack = true;
    }
  }
  EXPECT_TRUE(workload_stack);
  std::remove(path.c_str());
}

TEST(TraceWriter, EachStackIsWrittenOnce) {
  tether_test::Watchdog dog("EachStackIsWrittenOnce");
  const std::string path = temp_path("once");
  constexpr int kRounds = 3000;
  traced_run(path, [&] {
    tether::Chan<int> req(0), rep(0);
    auto server = tether::go([&] {
      for (int i = 0; i < kRounds; ++i) rep.send(*req.recv() + 1);
    });
    for (int i = 0; i < kRounds; ++i) {
      req.send(i);
      rep.recv();
    }
    server.join();
  });
  const Trace t = trace_check::decode_file(path);
  ASSERT_EQ(t.error, "");
  EXPECT_EQ(trace_check::check_definitions(t), "");
  const auto parks = of_type(t, kPark);
  const auto stacks = of_type(t, kStack);
  EXPECT_GE(parks.size(), static_cast<std::size_t>(kRounds));
  std::set<std::int64_t> park_sites, stack_ids;
  for (const Record* r : parks) park_sites.insert(r->ints[3]);
  for (const Record* r : stacks) {
    EXPECT_TRUE(stack_ids.insert(r->ints[0]).second) << "stack " << r->ints[0] << " twice";
  }
  EXPECT_LE(stacks.size(), park_sites.size() + 2);  // + lock sites, if any
  std::set<std::int64_t> site_ids;
  for (const Record* r : of_type(t, kSite))
    EXPECT_TRUE(site_ids.insert(r->ints[0]).second) << "site " << r->ints[0] << " twice";
  std::remove(path.c_str());
}

TEST(TraceWriter, RecordsReachTheFileWhileTheProgramRuns) {
  tether_test::Watchdog dog("RecordsReachTheFileWhileTheProgramRuns");
  const std::string path = temp_path("periodic");
  bool seen = false;
  traced_run(path, [&] {
    tether::Chan<int> marker(1, "marker-before-sleep");
    marker.send(1);
    // No buffer is full and nothing flushes explicitly: only the periodic round writes it.
    for (int i = 0; i < 200 && !seen; ++i) {
      tether::sleep_for(25ms);
      const Trace t = trace_check::decode_file(path);
      for (const Record* r : of_type(t, kObjectCreate))
        if (!r->strs.empty() && r->strs[0] == "marker-before-sleep") seen = true;
    }
  });
  EXPECT_TRUE(seen) << "the periodic flush did not write the first records within 5 s";
  std::remove(path.c_str());
}

TEST(TraceWriter, DroppedEventsAreCountedNotHidden) {
  tether_test::Watchdog dog("DroppedEventsAreCountedNotHidden");
  const std::string path = temp_path("lost");
  int ops = 0;
  traced_run(path, [&] {
    tether::detail::trace::testing_set_max_buffers(20);
    tether::detail::trace::testing_pause_writer(true);
    tether::Chan<int> ch(1);
    // Until this thread drops events (the capped buffers are all full), then a little more.
    // (Fiber 1 is locked to the main thread: its records all go through this thread's buffer.)
    int extra = 1000;
    while (ops < 4'000'000 && (tether::detail::trace::tls_trace.lost == 0 || extra-- > 0)) {
      ch.send(ops);
      ch.recv();
      ++ops;
    }
    EXPECT_GT(tether::detail::trace::tls_trace.lost, 0u);
    tether::detail::trace::testing_pause_writer(false);
    tether::detail::trace::flush_session();  // the buffers come back
    for (int i = 0; i < 100; ++i) {
      ch.send(i);
      ch.recv();
    }
  });
  tether::detail::trace::testing_set_max_buffers(0);
  const Trace t = trace_check::decode_file(path);
  ASSERT_EQ(t.error, "");
  std::int64_t lost = 0, sends = 0;
  for (const Record* r : of_type(t, kLost)) lost += r->ints[0];
  for (const Record& r : t.records) sends += r.type == kChanSend;
  EXPECT_GT(lost, 0) << "no lost record although the writer stood still";
  // Every send was either recorded or counted as lost (with the receives and
  // everything else in the same count, so lost covers at least the rest).
  EXPECT_GE(sends + lost, ops + 100);
  EXPECT_TRUE(t.has_end());
  std::remove(path.c_str());
}

TEST(TraceWriter, TornFileReadsUpToItsLastCompleteBlock) {
  tether_test::Watchdog dog("TornFileReadsUpToItsLastCompleteBlock");
  const std::string path = temp_path("torn");
  traced_run(path, [&] {
    tether::Chan<int> ch(0);
    auto f = tether::go([&] {
      for (int i = 0; i < 20000; ++i) ch.send(i);
    });
    for (int i = 0; i < 20000; ++i) ch.recv();
    f.join();
  });
  std::ifstream in(path, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  const Trace full = trace_check::decode(bytes);
  ASSERT_EQ(full.error, "");
  ASSERT_GE(full.blocks, 3u);
  std::size_t cuts = 0;
  for (std::size_t cut = bytes.size() - 1; cut > 200; cut = cut * 7 / 8) {
    const std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + cut);
    const Trace t = trace_check::decode(part);
    ASSERT_TRUE(t.header_ok);
    EXPECT_LE(t.valid_bytes, cut);
    EXPECT_EQ(t.error.empty(), t.valid_bytes == cut);
    // What it read is exactly the start of the full trace.
    ASSERT_LE(t.records.size(), full.records.size());
    for (std::size_t i = 0; i < t.records.size(); ++i) {
      ASSERT_EQ(t.records[i].type, full.records[i].type);
      ASSERT_EQ(t.records[i].ticks, full.records[i].ticks);
    }
    ++cuts;
  }
  EXPECT_GT(cuts, 10u);
  // A flipped byte inside a block is caught by its CRC.
  std::vector<std::uint8_t> bad = bytes;
  bad[bad.size() / 2] ^= 0x40;
  const Trace t = trace_check::decode(bad);
  EXPECT_NE(t.error, "");
  EXPECT_LT(t.records.size(), full.records.size());
  std::remove(path.c_str());
}

TEST(TraceWriter, UnwritableFileLeavesTheProgramUntraced) {
  tether_test::Watchdog dog("UnwritableFileLeavesTheProgramUntraced");
  ::testing::internal::CaptureStderr();
  int result = 0;
  traced_run("/nonexistent-dir/trace.tt", [&] {
    tether::Chan<int> ch(1);
    ch.send(5);
    result = *ch.recv();
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(result, 5);
  EXPECT_NE(err.find("tether: trace /nonexistent-dir/trace.tt: cannot create"), std::string::npos)
      << err;
  EXPECT_FALSE(tether::detail::trace::tracing());
}

}  // namespace
