// The analyses on hand-built event sequences: deadlocks found by the
// runtime's detector on the replayed state (and near misses that must stay
// silent), leaks, lock-order inversions, stalls, misuse, the blocking
// profile, the graph at a point in time.
#include "tether/trace/analysis.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "trace_builder.h"

namespace tether::trace {
namespace {

using testing::TraceBuilder;

std::vector<const Finding*> of_kind(const AnalysisResult& r, std::string_view kind) {
  std::vector<const Finding*> out;
  for (const Finding& f : r.findings)
    if (f.kind == kind) out.push_back(&f);
  return out;
}

std::vector<std::uint64_t> ids(const Finding& f) {
  std::vector<std::uint64_t> out;
  for (const FiberInfo& fi : f.fibers) out.push_back(fi.id);
  std::sort(out.begin(), out.end());
  return out;
}

// Two pool fibers take "accounts" and "audit" in opposite orders and block;
// main sleeps (it could wake up: not a global deadlock).
TraceBuilder lock_cycle(bool near) {
  TraceBuilder b;
  b.start();
  b.site(1, "transfer", "/src/bank.cpp", 31);
  b.site(2, "report", "/src/bank.cpp", 40);
  b.object(10, "mutex", "accounts", 1);
  b.object(11, "mutex", "audit", 1);
  b.thread(3, "pool-1", "pool");
  b.fiber(2, 1, "transfer");
  b.fiber(3, 1, "report");
  b.tick().park(1, 1, WaitReason::sleep, 0, 0, 0, /*timed=*/true);
  b.tick().run(2, 2);
  b.run(3, 3);
  b.tick().lock(2, 2, 10, 1);
  b.lock(3, 3, 11, 2);
  if (near) {
    b.tick().park(2, 2, WaitReason::mutex_lock, 11, 1);
    b.tick().unlock(3, 3, 11);
    b.unpark(3, 2, 3);
    b.exit(3, 3);
    b.tick().run(2, 2);
    b.lock(2, 2, 11, 1);
    b.tick().unlock(2, 2, 11);
    b.unlock(2, 2, 10);
    b.exit(2, 2);
  } else {
    b.tick().park(2, 2, WaitReason::mutex_lock, 11, 1);
    b.park(3, 3, WaitReason::mutex_lock, 10, 2);
  }
  b.tick(5'000'000).add(EventType::lost);  // a harmless trailing event: time passes
  b.events.back().a = 0;
  return b;
}

TEST(TraceAnalysis, LockCycleIsFoundByTheRuntimesDetector) {
  const AnalysisResult r = analyze(lock_cycle(false).events);
  const auto dl = of_kind(r, "deadlock");
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0]->pattern, "lock-cycle");
  EXPECT_EQ(ids(*dl[0]), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_NE(dl[0]->text.find("deadlock (lock cycle): fibers 2, 3 can never proceed"),
            std::string::npos)
      << dl[0]->text;
  EXPECT_EQ(dl[0]->location.file, "/src/bank.cpp");
  ASSERT_EQ(dl[0]->objects.size(), 2u);
  EXPECT_EQ(dl[0]->objects[0].name, "accounts");
  // The graph at that time carries the deadlock, as a runtime snapshot would.
  ASSERT_EQ(r.graph.deadlocks.size(), 1u);
  EXPECT_EQ(r.graph.deadlocks[0].kind, "lock-cycle");
  EXPECT_TRUE(of_kind(r, "lock-order-inversion").empty());  // the second locks were never taken
}

TEST(TraceAnalysis, LockCycleNearMissIsSilent) {
  const AnalysisResult r = analyze(lock_cycle(true).events);
  EXPECT_TRUE(r.findings.empty()) << r.findings.front().text;
  EXPECT_TRUE(r.graph.deadlocks.empty());
}

TEST(TraceAnalysis, AtATimeBeforeTheDeadlockThereIsNone) {
  const TraceBuilder b = lock_cycle(false);
  AnalysisOptions o;
  o.at_ns = 3500;  // after the locks, before the parks (start + 3.5 us)
  const AnalysisResult r = analyze(b.events, o);
  EXPECT_TRUE(of_kind(r, "deadlock").empty());
  EXPECT_EQ(r.at_ns, 3500);
  EXPECT_TRUE(r.graph.deadlocks.empty());
  bool holder = false;
  for (const graph::Object& obj : r.graph.objects)
    if (obj.id == 10 && obj.holder && *obj.holder == 2) holder = true;
  EXPECT_TRUE(holder) << "mutex 10 is held by fiber 2 at 3.5 us";
}

// main waits for "results", the worker for "jobs": nothing else exists.
TEST(TraceAnalysis, GlobalChannelCycle) {
  TraceBuilder b;
  b.start();
  b.object(20, "chan", "jobs", 1);
  b.object(21, "chan", "results", 1);
  b.fiber(2, 1, "");
  b.tick().park(1, 1, WaitReason::chan_receive, 21);
  b.tick().run(2, 2);
  b.park(2, 2, WaitReason::chan_receive, 20);
  const AnalysisResult r = analyze(b.events);
  const auto dl = of_kind(r, "deadlock");
  ASSERT_EQ(dl.size(), 2u);
  EXPECT_EQ(dl[0]->pattern, "global");
  EXPECT_EQ(dl[1]->pattern, "channel-cycle");
  EXPECT_EQ(ids(*dl[1]), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(r.graph.deadlocks.size(), 2u);
}

// The reader blocks in read() on a pipe on thread "gl"; the writer, which
// would write the other end, is locked to "gl" too.
TraceBuilder shared_syscall(bool near) {
  TraceBuilder b;
  b.start();
  b.thread(5, "gl", "locker");
  b.object(5, "locker", "gl", 1);
  b.fd_pair(1, 1, 3, 4);
  b.fiber(2, 1, "reader", 5);
  b.fiber(3, 1, "writer", near ? 0 : 5);
  b.tick().run(5, 2);
  b.syscall(5, 2, "read", 3, 4);
  b.tick().park(1, 1, WaitReason::join, 2);
  return b;
}

TEST(TraceAnalysis, SharedThreadSyscall) {
  const AnalysisResult r = analyze(shared_syscall(false).events);
  const auto dl = of_kind(r, "deadlock");
  ASSERT_FALSE(dl.empty());
  bool found = false;
  for (const Finding* f : dl) {
    if (f->pattern != "shared-thread-syscall") continue;
    found = true;
    EXPECT_EQ(ids(*f), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_TRUE(std::any_of(f->threads.begin(), f->threads.end(),
                            [](const ThreadInfo& t) { return t.name == "gl"; }));
  }
  EXPECT_TRUE(found);
}

TEST(TraceAnalysis, SharedThreadSyscallNearMissIsSilent) {
  const AnalysisResult r = analyze(shared_syscall(true).events);  // the writer is a pool fiber
  EXPECT_TRUE(of_kind(r, "deadlock").empty());
}

TEST(TraceAnalysis, FibersBlockedAtACleanEndAreLeaksNotDeadlocks) {
  TraceBuilder b;
  b.start();
  b.object(20, "chan", "events", 1);
  b.fiber(2, 1, "listener");
  b.tick().run(2, 2);
  b.recv(2, 2, 20);
  b.park(2, 2, WaitReason::chan_receive, 20);
  b.tick().exit(1, 1);
  b.tick().end(0);
  const AnalysisResult r = analyze(b.events);
  EXPECT_TRUE(of_kind(r, "deadlock").empty());
  const auto leaks = of_kind(r, "leak");
  ASSERT_EQ(leaks.size(), 1u);
  EXPECT_EQ(leaks[0]->pattern, "orphan-wait");
  EXPECT_EQ(ids(*leaks[0]), (std::vector<std::uint64_t>{2}));
  EXPECT_NE(leaks[0]->text.find("\"listener\" [chan receive]"), std::string::npos)
      << leaks[0]->text;
  EXPECT_TRUE(r.stats.clean_end);
}

// A plain thread (format 2.0: park and unpark of fiber 0 in its own blocks)
// waits on "jobs": its wait is in the blocking profile, it is no fiber, and
// the channel it used counts as wakeable from outside, as the runtime's
// detector judges it; so fiber 2 blocked on "jobs" is no deadlock.
TEST(TraceAnalysis, PlainThreadWaitsAreProfiledButNoFiber) {
  const AnalysisResult r = analyze(testing::plain_thread_program().events);
  const ProfileEntry* plain = nullptr;
  for (const ProfileEntry& e : r.profile.by_site)
    if (e.site.line == 9) plain = &e;
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->reason, "chan send");
  EXPECT_EQ(plain->count, 2u);
  EXPECT_EQ(plain->total_ns, 5000 + 4000);  // the open wait counts up to the end
  EXPECT_EQ(plain->max_ns, 5000);
  for (const Finding& f : r.findings) {
    EXPECT_NE(f.kind, "deadlock") << f.text;
    for (const FiberInfo& fi : f.fibers) EXPECT_NE(fi.id, 0u) << f.text;
  }
  EXPECT_EQ(r.stats.fibers, 2u);  // 1 and 2: the plain thread is not one
  for (const graph::Fiber& f : r.graph.fibers) EXPECT_NE(f.id, 0u);
}

// Two threads' events with the same timestamp may come out with the wake-up
// first: the park it ends must not be taken for a wait that never ends.
TEST(TraceAnalysis, AnUnparkOrderedBeforeItsParkStillWakes) {
  TraceBuilder b;
  b.start();
  b.object(20, "chan", "reply", 1);
  b.fiber(2, 1, "server");
  b.tick().run(2, 2);
  b.tick();
  b.send(2, 2, 20);
  b.unpark(2, 1, 2);                           // recorded by thread 2 ...
  b.park(1, 1, WaitReason::chan_receive, 20);  // ... before thread 1's park, same time
  b.exit(2, 2);
  const AnalysisResult r = analyze(b.events);
  EXPECT_TRUE(of_kind(r, "deadlock").empty()) << r.findings.front().text;
}

TraceBuilder inversion(bool consistent, bool gated) {
  TraceBuilder b;
  b.start();
  b.site(1, "a_then_b", "/src/x.cpp", 10);
  b.site(2, "b_after_a", "/src/x.cpp", 11);
  b.site(3, "b_then_a", "/src/x.cpp", 20);
  b.site(4, "a_after_b", "/src/x.cpp", 21);
  b.site(5, "gate", "/src/x.cpp", 5);
  b.object(10, "mutex", "a", 1);
  b.object(11, "mutex", "b", 1);
  b.object(12, "mutex", "gate", 1);
  b.fiber(2, 1, "one");
  b.fiber(3, 1, "two");
  b.tick().run(2, 2);
  if (gated) b.lock(2, 2, 12, 5);
  b.lock(2, 2, 10, 1);
  b.tick().lock(2, 2, 11, 2);
  b.tick().unlock(2, 2, 11);
  b.unlock(2, 2, 10);
  if (gated) b.unlock(2, 2, 12);
  b.exit(2, 2);
  b.tick(1'000'000).run(2, 3);
  if (gated) b.lock(2, 3, 12, 5);
  if (consistent) {
    b.lock(2, 3, 10, 4);
    b.tick().lock(2, 3, 11, 3);
  } else {
    b.lock(2, 3, 11, 3);
    b.tick().lock(2, 3, 10, 4);
  }
  b.tick().unlock(2, 3, 10);
  b.unlock(2, 3, 11);
  if (gated) b.unlock(2, 3, 12);
  b.exit(2, 3);
  return b;
}

TEST(TraceAnalysis, LockOrderInversionWithBothSites) {
  const AnalysisResult r = analyze(inversion(false, false).events);
  EXPECT_TRUE(of_kind(r, "deadlock").empty());
  const auto inv = of_kind(r, "lock-order-inversion");
  ASSERT_EQ(inv.size(), 1u);
  const Finding& f = *inv[0];
  ASSERT_EQ(f.lock_edges.size(), 2u);
  EXPECT_EQ(f.lock_edges[0].held, 10u);
  EXPECT_EQ(f.lock_edges[0].acquired, 11u);
  EXPECT_EQ(f.lock_edges[0].held_site.line, 10);
  EXPECT_EQ(f.lock_edges[0].acquired_site.line, 11);
  EXPECT_EQ(f.lock_edges[0].fiber, 2u);
  EXPECT_EQ(f.lock_edges[1].held, 11u);
  EXPECT_EQ(f.lock_edges[1].acquired, 10u);
  EXPECT_EQ(f.lock_edges[1].held_site.line, 20);
  EXPECT_EQ(f.lock_edges[1].acquired_site.line, 21);
  EXPECT_EQ(f.lock_edges[1].fiber, 3u);
  EXPECT_NE(
      f.text.find("Cycle in lock order graph: mutex 10 \"a\" => mutex 11 \"b\" => mutex 10 \"a\""),
      std::string::npos)
      << f.text;
}

TEST(TraceAnalysis, ConsistentOrGatedLockOrdersAreSilent) {
  EXPECT_TRUE(analyze(inversion(true, false).events).findings.empty());
  EXPECT_TRUE(analyze(inversion(false, true).events).findings.empty());
}

TEST(TraceAnalysis, BlockingProfilePerReasonAndSite) {
  TraceBuilder b;
  b.start();
  b.site(7, "consume", "/src/q.cpp", 7);
  b.site(8, "lock", "/src/q.cpp", 8);
  b.object(20, "chan", "q", 1);
  b.object(10, "mutex", "m", 1);
  b.fiber(2, 1, "c");
  b.at(2'000'000).run(2, 2);
  b.park(2, 2, WaitReason::chan_receive, 20, 7);
  b.at(2'001'000).unpark(1, 2, 1);
  b.run(2, 2);
  b.park(2, 2, WaitReason::chan_receive, 20, 7);
  b.at(2'004'000).unpark(1, 2, 1);
  b.run(2, 2);
  b.park(2, 2, WaitReason::mutex_lock, 10, 8);
  b.at(2'006'000).unpark(1, 2, 1);
  b.run(2, 2);
  b.exit(2, 2);
  const AnalysisResult r = analyze(b.events);
  const ProfileEntry* chan = nullptr;
  for (const ProfileEntry& e : r.profile.by_site)
    if (e.site.line == 7) chan = &e;
  ASSERT_NE(chan, nullptr);
  EXPECT_EQ(chan->reason, "chan receive");
  EXPECT_EQ(chan->count, 2u);
  EXPECT_EQ(chan->total_ns, 4000);
  EXPECT_EQ(chan->max_ns, 3000);
  ASSERT_FALSE(r.profile.by_reason.empty());
  EXPECT_EQ(r.profile.by_reason[0].reason, "chan receive");  // largest total first
  bool mutex = false;
  for (const ProfileEntry& e : r.profile.by_reason)
    if (e.reason == "mutex lock") mutex = e.count == 1 && e.total_ns == 2000;
  EXPECT_TRUE(mutex);
}

TraceBuilder long_runner(bool others_waiting) {
  TraceBuilder b;
  b.start();
  b.thread(5, "gl", "locker");
  b.fiber(2, 1, "busy", 5);
  b.fiber(3, 1, "starved", others_waiting ? 5 : 0);
  b.tick().park(1, 1, WaitReason::join, 2);
  b.tick().run(5, 2);
  b.tick(2'000'000'000).park(5, 2, WaitReason::sleep, 0, 0, 0, true);
  b.tick().run(5, 3);
  b.exit(5, 3);
  return b;
}

// The longest occupancy of thread "gl" (occupancies come per thread, longest first).
const Occupancy* gl_occupancy(const AnalysisResult& r) {
  for (const Occupancy& o : r.occupancies)
    if (o.thread_name == "gl") return &o;
  return nullptr;
}

TEST(TraceAnalysis, OccupancyAndStallOfASharedThread) {
  AnalysisOptions o;
  o.stall_ns = 1'000'000'000;
  const AnalysisResult r = analyze(long_runner(true).events, o);
  const Occupancy* gl = gl_occupancy(r);
  ASSERT_NE(gl, nullptr);
  EXPECT_EQ(gl->fiber, 2u);
  EXPECT_EQ(gl->duration_ns, 2'000'000'000);
  EXPECT_EQ(gl->waiting, 1u);
  EXPECT_EQ(gl->what, "running without yielding");
  const auto stalls = of_kind(r, "stall");
  ASSERT_EQ(stalls.size(), 1u);
  EXPECT_EQ(ids(*stalls[0]), (std::vector<std::uint64_t>{2}));
}

TEST(TraceAnalysis, NoStallWithoutWaiters) {
  const AnalysisResult r = analyze(long_runner(false).events);
  EXPECT_TRUE(of_kind(r, "stall").empty());
  const Occupancy* gl = gl_occupancy(r);
  ASSERT_NE(gl, nullptr);
  EXPECT_EQ(gl->duration_ns, 2'000'000'000);
  EXPECT_EQ(gl->waiting, 0u);
}

TEST(TraceAnalysis, MisuseEventsAreFindings) {
  TraceBuilder b;
  b.start();
  b.site(3, "main", "/src/m.cpp", 12);
  b.tick().misuse(1, 1, "unlock of unlocked mutex 4", 3);
  const AnalysisResult r = analyze(b.events);
  const auto m = of_kind(r, "misuse");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]->message, "unlock of unlocked mutex 4");
  EXPECT_EQ(m[0]->location.line, 12);
}

TEST(TraceAnalysis, OnlineFindingsAreKept) {
  TraceBuilder b;
  b.start();
  Event& e = b.tick().add(EventType::finding);
  e.kind = "deadlock";
  e.text = "lock-cycle";
  e.fibers = {2, 3};
  const AnalysisResult r = analyze(b.events);
  ASSERT_EQ(r.online.size(), 1u);
  EXPECT_EQ(r.online[0].pattern, "lock-cycle");
  EXPECT_EQ(r.online[0].fibers.size(), 2u);
}

TEST(TraceAnalysis, OddInputDoesNotThrow) {
  TraceBuilder b;
  b.unpark(9, 77, 5);                         // unknown fiber, thread
  b.park(9, 77, WaitReason::chan_send, 999);  // unknown object
  b.unlock(9, 78, 1234);
  b.syscall_exit(4, 0);
  b.exit(3, 3);
  Event& e = b.add(EventType::park);
  e.reason = 250;  // out of range
  e.fiber = 5;
  EXPECT_NO_THROW(analyze(b.events));
  EXPECT_NO_THROW(analyze({}));
}

// Whatever bytes a trace's names hold, what comes out is valid UTF-8 (it is
// written to JSON and SARIF).
TEST(TraceAnalysis, NamesComeOutAsValidUtf8) {
  TraceBuilder b;
  b.start();
  b.stack(4, {Frame{std::string("f\xf0\x38\x7f", 4), "a\xc3\xa9.cpp", 3, 0}});
  b.object(20, "chan", std::string("q\xff\xf5\x80\x80\x80", 6), 1);
  b.fiber(2, 1, std::string("w\x01", 2));
  b.tick().run(2, 2);
  b.park(2, 2, WaitReason::chan_receive, 20, 0, 4);
  b.tick().park(1, 1, WaitReason::chan_send, 20);
  const AnalysisResult r = analyze(b.events);
  ASSERT_FALSE(r.profile.by_site.empty());
  bool seen = false;
  for (const ProfileEntry& e : r.profile.by_site) {
    if (e.frames.empty()) continue;
    seen = true;
    EXPECT_EQ(e.frames[0].function,
              "f\xEF\xBF\xBD"
              "8?");
    EXPECT_EQ(e.frames[0].file, "a\xc3\xa9.cpp");  // valid UTF-8 stays
  }
  EXPECT_TRUE(seen);
  const auto dl = of_kind(r, "deadlock");
  ASSERT_FALSE(dl.empty());
  bool object = false;
  for (const Finding* f : dl) {
    for (const ObjectInfo& o : f->objects) {
      if (o.id == 20) {
        object = true;
        EXPECT_EQ(o.name, "q\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
      }
    }
  }
  EXPECT_TRUE(object);
  for (const Finding* f : dl) {
    for (const FiberInfo& fi : f->fibers) {
      if (fi.id == 2) {
        EXPECT_EQ(fi.name, "w?");
      }
    }
  }
}

TEST(TraceAnalysis, ParseTime) {
  EXPECT_EQ(parse_time("1500000"), 1'500'000);
  EXPECT_EQ(parse_time("1.5s"), 1'500'000'000);
  EXPECT_EQ(parse_time("20ms"), 20'000'000);
  EXPECT_EQ(parse_time("3us"), 3'000);
  EXPECT_EQ(parse_time("250ns"), 250);
  EXPECT_EQ(parse_time(""), std::nullopt);
  EXPECT_EQ(parse_time("-1"), std::nullopt);
  EXPECT_EQ(parse_time("99999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_time("1.2.3s"), std::nullopt);
  EXPECT_EQ(parse_time("5 min"), std::nullopt);
  EXPECT_EQ(parse_time("1e99s"), std::nullopt);
}

}  // namespace
}  // namespace tether::trace
