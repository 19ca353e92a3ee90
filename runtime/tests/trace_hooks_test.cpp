// The trace's hot-path records (format 2.0, 3.0): a channel handoff names the
// fiber it woke instead of a separate unpark; a park names the fiber its
// thread switches to instead of a separate run; plain threads record their
// waits; blocking sites' stacks start at the user's call. Read back with the
// independent decoder of testcases/trace_writer (written from
// docs/trace-format.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../../testcases/trace_writer/trace_check.h"
#include "sync_test_util.h"
#include "tether/tether.h"

namespace {

using namespace std::chrono_literals;
using trace_check::Record;
using trace_check::Trace;

constexpr std::uint8_t kStack = 0x02, kThreadStart = 0x10, kPark = 0x23, kUnpark = 0x24,
                       kChanSend = 0x34, kChanRecv = 0x35;

std::string temp_path(const char* name) {
  return std::string(::testing::TempDir()) + "/tether_hooks_" + name + "_" +
         std::to_string(getpid()) + ".tt";
}

template <class F>
Trace traced(const char* name, F&& fn) {
  const std::string path = temp_path(name);
  setenv("TETHER_TRACE", path.c_str(), 1);
  tether::run(std::forward<F>(fn));
  unsetenv("TETHER_TRACE");
  Trace t = trace_check::decode_file(path);
  std::remove(path.c_str());
  return t;
}

// B1's shape: client and server fibers on one locked thread, unbuffered
// request and reply channels.
TEST(TraceHooks, HandoffNamesTheWokenFiberInsteadOfAnUnpark) {
  tether_test::Watchdog dog("HandoffNamesTheWokenFiber");
  constexpr int kRounds = 200;
  std::uint64_t server_id = 0, client_id = 0, req_id = 0;
  const Trace t = traced("handoff", [&] {
    auto locker = tether::ThreadLocker::make("hooks-b1");
    tether::Chan<int> req(0, "req"), rep(0, "rep");
    req_id = req.id();
    auto server = locker.go([&] {
      while (auto r = req.recv()) rep.send(*r + 1);
    });
    server_id = server.id();
    auto client = locker.go([&] {
      for (int i = 0; i < kRounds; ++i) {
        req.send(i);
        EXPECT_EQ(rep.recv(), i + 1);
      }
      req.close();
    });
    client_id = client.id();
    client.join();
    server.join();
  });
  ASSERT_EQ(t.error, "");
  int woke_server = 0, done_for_server = 0, server_unparks = 0, server_recvs = 0;
  for (const Record& r : t.records) {
    if (r.type == kChanSend && r.ints[1] == static_cast<std::int64_t>(req_id) &&
        r.ints[0] == static_cast<std::int64_t>(client_id) &&
        r.ints[2] == static_cast<std::int64_t>(server_id)) {
      ++woke_server;
      done_for_server += r.ints[3] == 1;  // the server's receive completed with it
    }
    if (r.type == kUnpark && r.ints[0] == static_cast<std::int64_t>(server_id)) ++server_unparks;
    if (r.type == kChanRecv && r.ints[0] == static_cast<std::int64_t>(server_id) &&
        r.ints[1] == static_cast<std::int64_t>(req_id) && r.ints[2] == 1)
      ++server_recvs;
  }
  // Every request found the server parked in recv (it runs first and parks
  // again right after each reply): each send names it.
  EXPECT_GE(woke_server, kRounds - 2);
  // ...and those wake-ups have no unpark records of their own.
  EXPECT_LE(server_unparks, 2);
  // The server's receives: each said once, by the send's `done` or by
  // itself (a value received), never both.
  EXPECT_EQ(done_for_server, woke_server);
  EXPECT_EQ(server_recvs + done_for_server, kRounds);
  // 3.0: the client's parks name the server as the fiber switched to, and
  // those switches have no run records of their own.
  constexpr std::uint8_t kRun = 0x22;
  int client_parks_to_server = 0, server_runs = 0;
  for (const Record& r : t.records) {
    if (r.type == kPark && r.ints[0] == static_cast<std::int64_t>(client_id) &&
        r.ints[6] == static_cast<std::int64_t>(server_id))
      ++client_parks_to_server;
    if (r.type == kRun && r.ints[0] == static_cast<std::int64_t>(server_id)) ++server_runs;
  }
  EXPECT_GE(client_parks_to_server, kRounds - 2);
  EXPECT_LE(server_runs, 2);
}

// 3.0: a fiber's park and channel records share the thread's last clock
// reading while readings come soon after one another; once a server computes
// ~20 us before each reply, its replies read the clock again, after at most
// kMaxShare records that took an earlier reading (trace-format.md, "One
// instant per switch", case 3).
TEST(TraceHooks, RecordsShareAReadingOnlyWhileReadingsComeSoon) {
  tether_test::Watchdog dog("RecordsShareAReading");
  constexpr int kFast = 100, kSlow = 40;
  std::uint64_t server_id = 0, rep_id = 0;
  const Trace t = traced("instant", [&] {
    auto locker = tether::ThreadLocker::make("hooks-instant");
    tether::Chan<int> req(0, "req"), rep(0, "rep");
    rep_id = rep.id();
    auto server = locker.go([&] {
      while (auto r = req.recv()) {
        if (*r >= kFast) {  // the slow phase: compute before replying
          const auto until = std::chrono::steady_clock::now() + 20us;
          while (std::chrono::steady_clock::now() < until) {
          }
        }
        rep.send(*r + 1);
      }
    });
    server_id = server.id();
    auto client = locker.go([&] {
      for (int i = 0; i < kFast + kSlow; ++i) {
        req.send(i);
        EXPECT_EQ(rep.recv(), i + 1);
      }
      req.close();
    });
    client.join();
    server.join();
  });
  ASSERT_EQ(t.error, "");
  constexpr std::uint8_t kRun = 0x22;
  constexpr int kMaxShare = 15;  // trace_buffer.h
  const auto server = static_cast<std::int64_t>(server_id);
  int n = 0, fast_shared = 0, slow_shared = 0, slow_own = 0;
  std::map<std::uint64_t, const Record*> prev;  // per thread: its previous record
  for (std::size_t i = 0; i < t.records.size(); ++i) {
    const Record& r = t.records[i];
    const Record* p = prev[r.thread];
    prev[r.thread] = &r;
    if (r.type != kChanSend || r.ints[0] != server || r.ints[1] != static_cast<std::int64_t>(rep_id))
      continue;
    const int round = n++;
    ASSERT_NE(p, nullptr);
    // Each reply is the server's first record after the switch onto it: the
    // client's park that names it as `next` (its receive was said by the
    // client's send), or a run record.
    ASSERT_TRUE((p->type == kPark && p->ints[6] == server) ||
                (p->type == kRun && p->ints[0] == server))
        << "reply " << round << " after a record of type " << int{p->type};
    const bool shared = r.ticks == p->ticks;
    if (round < kFast) {
      fast_shared += shared;
    } else if (shared) {
      ++slow_shared;
    } else {
      ++slow_own;
      // Its own reading: after the server's computing.
      EXPECT_GE(t.ns(r.ticks) - t.ns(p->ticks), 15'000) << "reply " << round;
    }
  }
  ASSERT_EQ(n, kFast + kSlow);
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
  // (Most: sharing starts after 16 quick readings, and a preempted round
  // stops it for a while. Under TSan a round trip takes more than 1 us, so
  // none share there; under ASan a round trip is several times slower and
  // the readings come too far apart for most replies: CI saw 41 of 100.)
  EXPECT_GE(fast_shared, kFast / 2);
#else
  (void)fast_shared;
#endif
  // The first slow replies may share a reading taken before the server's
  // computing: at most kMaxShare records, four per round. The first reading
  // after the computing stops the sharing, and 20 us gaps keep it stopped.
  const int first_late = kMaxShare / 4 + 1;
  EXPECT_LE(slow_shared, first_late);
  EXPECT_GE(slow_own, kSlow - first_late);
}

// A plain thread blocked in recv: a park of fiber 0 and then an unpark of
// fiber 0, both in that thread's own blocks, which a thread_start names
// "plain".
TEST(TraceHooks, PlainThreadWaitsAreRecorded) {
  tether_test::Watchdog dog("PlainThreadWaitsAreRecorded");
  std::uint64_t chan_id = 0;
  const Trace t = traced("plain", [&] {
    tether::Chan<int> ch(0, "to-plain");
    chan_id = ch.id();
    std::thread plain([&] { EXPECT_EQ(ch.recv(), 7); });
    tether::sleep_for(20ms);  // (it may not be parked yet: the send then waits for it)
    ch.send(7);
    plain.join();
  });
  ASSERT_EQ(t.error, "");
  std::map<std::uint64_t, std::int64_t> kind_of;  // thread -> thread_start kind
  for (const Record& r : t.records)
    if (r.type == kThreadStart) kind_of[r.thread] = r.ints[0];
  std::uint64_t parked_thread = 0;
  bool resumed = false;
  for (const Record& r : t.records) {
    if (r.type == kPark && r.ints[0] == 0 && r.ints[2] == static_cast<std::int64_t>(chan_id)) {
      EXPECT_EQ(r.ints[1], 3);  // chan receive
      parked_thread = r.thread;
    } else if (r.type == kUnpark && r.ints[0] == 0 && parked_thread != 0 &&
               r.thread == parked_thread) {
      resumed = true;
    }
  }
  ASSERT_NE(parked_thread, 0u) << "no park of the plain thread";
  EXPECT_EQ(kind_of[parked_thread], 3) << "the parked thread is not a plain thread";
  EXPECT_TRUE(resumed) << "no unpark of the plain thread after its park";
}

[[gnu::noinline]] int user_waits_here(tether::Chan<int>& ch) {
  const auto v = ch.recv();
  asm volatile("");
  return v.value_or(-1);
}

// The stack of a blocking site starts at the user's call: no runtime frame
// (block, park, the trace's capture) before it.
TEST(TraceHooks, StacksStartAtTheUsersCall) {
  tether_test::Watchdog dog("StacksStartAtTheUsersCall");
  const Trace t = traced("stack", [&] {
    tether::Chan<int> ch(0, "stacked");
    auto f = tether::go([&] { EXPECT_EQ(user_waits_here(ch), 5); });
    tether::sleep_for(20ms);
    ch.send(5);
    f.join();
  });
  ASSERT_EQ(t.error, "");
  bool found = false;
  for (const Record& r : t.records) {
    if (r.type != kStack || r.strs.size() < 2) continue;
    std::size_t user = r.strs.size();
    for (std::size_t i = 1; i < r.strs.size(); i += 2)
      if (r.strs[i].find("user_waits_here") != std::string::npos) {
        user = i;
        break;
      }
    if (user == r.strs.size()) continue;
    found = true;
    // Frames before the user's function: at most the public API it called
    // (tether::Chan<int>::recv, inlined or not), never the runtime's own.
    for (std::size_t i = 1; i < user; i += 2) {
      EXPECT_EQ(r.strs[i].rfind("tether::detail::", 0), std::string::npos) << r.strs[i];
      EXPECT_EQ(r.strs[i - 1].find("runtime/src/"), std::string::npos) << r.strs[i - 1];
    }
    EXPECT_LE(user, 3u) << "innermost frame: " << r.strs[1];
  }
  EXPECT_TRUE(found) << "no stack through user_waits_here";
}

}  // namespace
