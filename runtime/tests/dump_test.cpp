// Fiber dumps: content, consistency under load, the signal-driven stack of a
// running fiber, syscalls on a locked thread, SIGQUIT/SIGUSR1, crashes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fiber_dump.h"
#include "fiber_dump_reserve.h"
#include "stack_capture.h"
#include "tether/chan.h"
#include "tether/dump.h"
#include "tether/fiber.h"
#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/sys.h"
#include "tether/thread_locker.h"
#include "tether/timer.h"

#if defined(__SANITIZE_THREAD__)
// TSan intercepts signals and delivers them to a thread only at its own
// synchronization points, so stopping every worker with a signal (the
// capture's "stop the world") times out and crash signals are TSan's. The
// dumps are tested in the plain and ASan+UBSan builds.
TEST(Dump, NotTestedUnderThreadSanitizer) {
  GTEST_SKIP() << "signal-based stack capture is not testable under TSan";
}
#else

using namespace std::chrono_literals;

namespace {

// ---- a parser for the documented grammar (docs/dump-format.md) ----

struct ParsedFiber {
  std::uint64_t id = 0;            // a group's: its first id
  std::size_t count = 1;           // fibers in the block (a group: "(N fibers)")
  std::vector<std::uint64_t> ids;  // the ids its header lists
  std::string header;
  std::vector<std::string> functions;  // innermost first
  std::vector<std::string> locations;  // "file:line"
  std::string created_by;
  bool no_stack = false;
  bool not_started = false;
  bool elided = false;
};

struct ParsedDump {
  std::string first_line;
  std::vector<std::string> thread_lines;
  std::size_t fibers_announced = 0;
  std::size_t listed = 0;                       // fibers in all blocks
  std::map<std::uint64_t, ParsedFiber> fibers;  // blocks, by (first) id
  std::vector<std::string> errors;
};

ParsedDump parse_dump(const std::string& text) {
  ParsedDump d;
  std::istringstream in(text);
  std::string line;
  std::getline(in, d.first_line);
  ParsedFiber* cur = nullptr;
  bool expect_location = false;
  while (std::getline(in, line)) {
    if (line.rfind("  thread ", 0) == 0) {
      d.thread_lines.push_back(line);
    } else if (line.rfind("fibers: ", 0) == 0) {
      d.fibers_announced = std::stoul(line.substr(8));
    } else if (line.rfind("fiber ", 0) == 0) {
      const std::uint64_t id = std::stoull(line.substr(6));
      if (line.back() != ':' || line.find(" [") == std::string::npos) {
        d.errors.push_back("bad header: " + line);
      }
      cur = &d.fibers[id];
      cur->id = id;
      cur->ids = {id};
      cur->header = line;
      ++d.listed;
      expect_location = false;
    } else if (line.rfind("fibers ", 0) == 0) {
      // "fibers 12, 13, 15 ... (1000 fibers) [chan receive, 1-3 minutes]:"
      const auto open = line.find(" (");
      const auto close = line.find(" fibers)");
      if (open == std::string::npos || close == std::string::npos || line.back() != ':') {
        d.errors.push_back("bad group header: " + line);
        continue;
      }
      std::vector<std::uint64_t> ids;
      std::istringstream list(line.substr(7, open - 7));
      std::string tok;
      while (list >> tok) {
        if (tok != "...") ids.push_back(std::stoull(tok));
      }
      if (ids.empty()) {
        d.errors.push_back("group without ids: " + line);
        continue;
      }
      cur = &d.fibers[ids.front()];
      cur->id = ids.front();
      cur->ids = ids;
      cur->count = std::stoul(line.substr(open + 2, close - open - 2));
      cur->header = line;
      d.listed += cur->count;
      expect_location = false;
    } else if (!cur) {
      continue;
    } else if (line.empty()) {
      cur = nullptr;
    } else if (line[0] == '\t') {
      if (!expect_location) d.errors.push_back("location without function: " + line);
      cur->locations.push_back(line.substr(1, line.find(' ') - 1));
      expect_location = false;
    } else if (line.rfind("created by ", 0) == 0) {
      cur->created_by = line;
    } else if (line == "(no stack: not started)") {
      cur->not_started = true;
    } else if (line.rfind("(no stack: ", 0) == 0) {
      cur->no_stack = true;
    } else if (line.rfind("...", 0) == 0) {
      cur->elided = true;
    } else {
      if (expect_location) d.errors.push_back("function without location: " + line);
      cur->functions.push_back(line);
      expect_location = true;
    }
  }
  return d;
}

// The innermost frame that is neither tether's nor the standard library's.
std::string first_user_function(const ParsedFiber& f) {
  for (const std::string& fn : f.functions) {
    if (fn.rfind("(anonymous namespace)::", 0) == 0) return fn;
    const std::string name = fn.substr(0, fn.find('('));  // "void tether::sleep_for<...>"
    if (name.find("tether::") != std::string::npos || name.rfind("std::", 0) == 0 ||
        name.rfind("__", 0) == 0 || name == "read" || name == "??")
      continue;
    return fn;
  }
  return {};
}

// ---- user code with known names ----

std::atomic<int> g_sink{0};

[[gnu::noinline]] void blocked_sender(tether::Chan<int>& ch) {
  ch.send(42);
  g_sink.fetch_add(1);
}

[[gnu::noinline]] void blocked_receiver(tether::Chan<int>& ch) {
  auto v = ch.recv();
  g_sink.fetch_add(v ? *v : 0);
}

[[gnu::noinline]] void locked_mutex_waiter(tether::Mutex& m) {
  m.lock();
  m.unlock();
  g_sink.fetch_add(1);
}

[[gnu::noinline]] void sleeper() {
  tether::sleep_for(10s);
  g_sink.fetch_add(1);
}

[[gnu::noinline]] void blocked_reader(int fd) {
  char c;
  tether::sys::read(fd, &c, 1);
  g_sink.fetch_add(1);
}

[[gnu::noinline]] void spin_in_user_code(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    asm volatile("" ::: "memory");
  }
  g_sink.fetch_add(1);
}

[[gnu::noinline]] int recurse_forever(int depth) {
  volatile char pad[256];
  pad[0] = static_cast<char>(depth);
  if (g_sink.load(std::memory_order_relaxed) == -1)
    return 0;  // never: hides the recursion from -Winfinite-recursion
  return recurse_forever(depth + 1) + pad[0];
}

// Not null (UBSan would stop a null store before it faults), but unmapped.
volatile std::uintptr_t g_bad_address = 16;

[[gnu::noinline]] void crash_in_user_code() {
  *reinterpret_cast<int*>(g_bad_address) = 1;
  g_sink.fetch_add(1);
}

[[gnu::noinline]] void throw_in_user_code() {
  throw std::runtime_error("boom");
}

}  // namespace

TEST(Dump, SavedRegisterLayoutIsDerivedAtStartup) {
  tether::run([] {});
  EXPECT_TRUE(tether::detail::fcontext_layout_known());
}

TEST(Dump, ListsEveryFiberWithReasonUserFrameAndCreationSite) {
  std::string text;
  std::map<std::string, int> line_of;
  std::uint64_t main_id = 0;
  tether::run([&] {
    main_id = tether::this_fiber::id();
    tether::Chan<int> ch(0, "requests");
    tether::Chan<int> never(0, "never");
    tether::Mutex m;
    m.lock();
    // clang-format off
    line_of["send"] = __LINE__; auto a = tether::go([&] { blocked_sender(ch); }, {.name = "sender", .stack_size = 0});
    line_of["recv"] = __LINE__; auto b = tether::go([&] { blocked_receiver(never); });
    line_of["mutex"] = __LINE__; auto c = tether::go([&] { locked_mutex_waiter(m); });
    line_of["sleep"] = __LINE__; auto e = tether::go([&] { sleeper(); });
    // clang-format on
    tether::sleep_for(100ms);  // all of them park
    text = tether::dump_string();
    m.unlock();
    ch.recv();
    never.send(1);
    c.join();
    a.join();
    b.join();
    (void)e;  // left sleeping: abandoned when run() returns
  });
  const ParsedDump d = parse_dump(text);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front() << "\n" << text;
  EXPECT_NE(d.first_line.find("tether: fiber dump of process " + std::to_string(getpid())),
            std::string::npos)
      << text;
  EXPECT_EQ(d.fibers_announced, d.listed) << text;
  ASSERT_GE(d.fibers.size(), 5u) << text;

  struct Want {
    const char* key;
    const char* reason;
    const char* user_function;
  };
  const Want wants[] = {
      {"send", "[chan send", "blocked_sender"},
      {"recv", "[chan receive", "blocked_receiver"},
      {"mutex", "[mutex lock", "locked_mutex_waiter"},
      {"sleep", "[sleep", "sleeper"},
  };
  for (const Want& w : wants) {
    const ParsedFiber* found = nullptr;
    for (const auto& [id, f] : d.fibers) {
      if (first_user_function(f).find(std::string("(anonymous namespace)::") + w.user_function) ==
          0)
        found = &f;
    }
    ASSERT_NE(found, nullptr) << "no fiber in " << w.user_function << "\n" << text;
    EXPECT_NE(found->header.find(w.reason), std::string::npos) << found->header;
    EXPECT_EQ(found->created_by, "created by fiber " + std::to_string(main_id) + " at " +
                                     std::string(__FILE__) + ":" + std::to_string(line_of[w.key]))
        << text;
    // The first frame is the user's call into tether, not the runtime's insides.
    ASSERT_FALSE(found->functions.empty());
    EXPECT_EQ(found->functions.front().rfind("tether::detail::", 0), std::string::npos) << text;
    // The user frame's location is in this file.
    bool here = false;
    for (const std::string& loc : found->locations) here |= loc.rfind(__FILE__, 0) == 0;
    EXPECT_TRUE(here) << text;
  }
  // Names and objects.
  bool named = false, object = false;
  for (const auto& [id, f] : d.fibers) {
    named |= f.header.find("\"sender\" [chan send") != std::string::npos;
    object |= f.header.find("chan ") != std::string::npos &&
              f.header.find("\"requests\"") != std::string::npos;
  }
  EXPECT_TRUE(named) << text;
  EXPECT_TRUE(object) << text;
  // Fiber 1 is the caller: running, and its first frame is dump_string().
  const ParsedFiber& main = d.fibers.begin()->second;
  EXPECT_NE(main.header.find("[running"), std::string::npos) << text;
  ASSERT_FALSE(main.functions.empty());
  EXPECT_EQ(main.functions.front().rfind("tether::dump_string", 0), 0u) << text;
  EXPECT_TRUE(main.created_by.empty());
}

TEST(Dump, FiberBlockedInSyscallOnLockedThreadIsShownWhileTheThreadIsStuck) {
  std::string text;
  tether::run([&] {
    int fds[2];
    ASSERT_EQ(tether::sys::pipe(fds), 0);
    auto gl = tether::ThreadLocker::make("gl");
    auto r = gl.go([&] { blocked_reader(fds[0]); });
    tether::sleep_for(100ms);
    text = tether::dump_string();
    char c = 'x';
    ASSERT_EQ(::write(fds[1], &c, 1), 1);
    r.join();
    tether::sys::close(fds[0]);
    tether::sys::close(fds[1]);
  });
  const ParsedDump d = parse_dump(text);
  ASSERT_TRUE(d.errors.empty()) << text;
  const ParsedFiber* reader = nullptr;
  for (const auto& [id, f] : d.fibers) {
    if (first_user_function(f).find("blocked_reader") != std::string::npos) reader = &f;
  }
  ASSERT_NE(reader, nullptr) << text;
  EXPECT_NE(reader->header.find("[syscall"), std::string::npos) << text;
  EXPECT_NE(reader->header.find("in syscall read(fd "), std::string::npos) << text;
  EXPECT_NE(reader->header.find("locked to thread \"gl\""), std::string::npos) << text;
  bool thread_line = false;
  for (const std::string& t : d.thread_lines) {
    thread_line |= t.find("thread \"gl\"") != std::string::npos &&
                   t.find("in syscall, fiber " + std::to_string(reader->id)) != std::string::npos;
  }
  EXPECT_TRUE(thread_line) << text;
}

TEST(Dump, RunningFiberIsUnwoundThroughTheSignalPath) {
  std::string text;
  tether::run([&] {
    std::atomic<bool> stop{false};
    auto gl = tether::ThreadLocker::make("spinner");
    auto s = gl.go([&] { spin_in_user_code(stop); });
    tether::sleep_for(50ms);
    text = tether::dump_string();
    stop = true;
    s.join();
  });
  const ParsedDump d = parse_dump(text);
  ASSERT_TRUE(d.errors.empty()) << text;
  const ParsedFiber* spinner = nullptr;
  for (const auto& [id, f] : d.fibers) {
    if (f.header.find("locked to thread \"spinner\"") != std::string::npos) spinner = &f;
  }
  ASSERT_NE(spinner, nullptr) << text;
  EXPECT_NE(spinner->header.find("[running"), std::string::npos) << text;
  ASSERT_FALSE(spinner->functions.empty()) << text;
  // The signal may land inside library code inlined into the loop (the
  // atomic load, itself one or two inlined std:: frames deep depending on the
  // optimisation level): the first frame outside std:: must be the loop.
  const auto user = std::find_if(spinner->functions.begin(), spinner->functions.end(),
                                 [](const std::string& fn) { return !fn.starts_with("std::"); });
  ASSERT_NE(user, spinner->functions.end()) << text;
  EXPECT_NE(user->find("spin_in_user_code"), std::string::npos) << text;
}

TEST(Dump, ManyDumpsOfABusyProgramAreCompleteAndHarmless) {
  constexpr int kDumps = 200;
  std::vector<std::string> bad;
  int dumps = 0;
  tether::run([&] {
    std::atomic<bool> stop{false};
    tether::Chan<int> ping(0), pong(0);
    tether::Mutex m;
    std::vector<tether::FiberRef> fs;
    fs.push_back(tether::go([&] {
      while (auto v = ping.recv()) pong.send(*v + 1);
    }));
    fs.push_back(tether::go([&] {
      for (int i = 0; !stop; ++i) {
        ping.send(i);
        pong.recv();
      }
      ping.close();
    }));
    for (int i = 0; i < 4; ++i) {
      fs.push_back(tether::go([&] {
        while (!stop) {
          m.lock();
          m.unlock();
          tether::this_fiber::yield();
          tether::sleep_for(100us);
        }
      }));
    }
    auto gl = tether::ThreadLocker::make("busy");
    fs.push_back(gl.go([&] {
      while (!stop) tether::this_fiber::yield();
    }));
    // Two plain threads dump at once, besides the fibers' own activity.
    auto dumper = [&] {
      for (int i = 0; i < kDumps / 2; ++i) {
        const std::string text = tether::dump_string();
        const ParsedDump d = parse_dump(text);
        bool ok = d.errors.empty() && d.fibers_announced == d.listed && d.listed >= fs.size();
        // Every fiber has its stack, or has not run yet.
        for (const auto& [id, f] : d.fibers) {
          ok = ok && (f.not_started || (!f.no_stack && !f.functions.empty()));
        }
        static std::mutex mu;
        std::lock_guard lk(mu);
        ++dumps;
        if (!ok && bad.size() < 3) bad.push_back(text);
      }
    };
    std::thread t1(dumper), t2(dumper);
    t1.join();
    t2.join();
    stop = true;
    for (auto& f : fs) f.join();
  });
  EXPECT_EQ(dumps, kDumps);
  EXPECT_TRUE(bad.empty()) << bad.front();
}

TEST(Dump, CaptureOfChosenFibersFormatsUnderAGivenHeader) {
  std::string text;
  std::uint64_t id = 0;
  tether::run([&] {
    tether::Chan<int> ch(0);
    auto f = tether::go([&] { blocked_receiver(ch); });
    id = f.id();
    tether::sleep_for(50ms);
    const auto cap = tether::detail::capture_fibers({id});
    ASSERT_EQ(cap.fibers.size(), 1u);
    const auto st = tether::detail::symbolize_stack(cap.fibers[0].stack);
    bool found = false;
    for (const auto& fr : st.frames) {
      found |= fr.function.find("blocked_receiver") != std::string::npos && fr.line > 0 &&
               fr.file == __FILE__;
    }
    EXPECT_TRUE(found);
    text = tether::detail::format_fibers(cap, "fatal error: all fibers are asleep - deadlock!");
    ch.send(1);
    f.join();
  });
  EXPECT_EQ(text.rfind("fatal error: all fibers are asleep - deadlock!\n\nfiber " +
                           std::to_string(id) + " [chan receive",
                       0),
            0u)
      << text;
}

TEST(Dump, UserSignalPrintsWritesTheFileAndGoesOn) {
  const std::string path = "/tmp/tether-" + std::to_string(getpid()) + ".dump";
  ::unlink(path.c_str());
  std::string text;
  tether::run([&] {
    tether::Chan<int> ch(0);
    auto f = tether::go([&] { blocked_receiver(ch); });
    tether::sleep_for(20ms);
    ASSERT_EQ(tether::detail::dump_signal(), SIGUSR1);
    ::kill(getpid(), SIGUSR1);
    struct stat st;
    for (int i = 0; i < 500 && ::stat(path.c_str(), &st) != 0; ++i) tether::sleep_for(10ms);
    std::ifstream in(path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ch.send(1);
    f.join();
  });
  ::unlink(path.c_str());
  EXPECT_NE(text.find("(SIGUSR1)"), std::string::npos) << text;
  EXPECT_NE(text.find("blocked_receiver"), std::string::npos) << text;
}

TEST(Dump, IdenticalFibersPrintOnceAsAGroupUnlessGroupingIsOff) {
  constexpr std::size_t kSame = 30;
  tether::detail::Capture cap;
  std::uint64_t main_id = 0;
  int line = 0;
  tether::run([&] {
    main_id = tether::this_fiber::id();
    tether::Chan<int> gate(0, "gate");
    tether::Chan<int> other(0);
    std::vector<tether::FiberRef> fs;
    for (std::size_t i = 0; i < kSame; ++i) {
      // clang-format off
      line = __LINE__; fs.push_back(tether::go([&] { blocked_receiver(gate); }));
      // clang-format on
    }
    fs.push_back(tether::go([&] { blocked_sender(other); }));
    tether::sleep_for(100ms);
    cap = tether::detail::capture_fibers();
    gate.close();
    other.recv();
    for (auto& f : fs) f.join();
  });
  const std::string grouped = tether::detail::format_dump(cap, "test", {.group = true});
  const std::string flat = tether::detail::format_dump(cap, "test", {.group = false});
  const ParsedDump g = parse_dump(grouped);
  const ParsedDump f = parse_dump(flat);
  ASSERT_TRUE(g.errors.empty()) << g.errors.front() << "\n" << grouped;
  ASSERT_TRUE(f.errors.empty()) << f.errors.front() << "\n" << flat;
  EXPECT_EQ(g.listed, g.fibers_announced) << grouped;
  EXPECT_EQ(f.listed, f.fibers_announced) << flat;
  EXPECT_EQ(f.fibers.size(), f.listed) << flat;  // ungrouped: a block per fiber
  const ParsedFiber* group = nullptr;
  for (const auto& [id, b] : g.fibers) {
    if (b.count > 1) {
      EXPECT_EQ(group, nullptr) << "a second group: " << b.header << "\n" << grouped;
      group = &b;
    }
  }
  ASSERT_NE(group, nullptr) << grouped;
  EXPECT_EQ(group->count, kSame) << grouped;
  EXPECT_EQ(group->ids.size(), tether::detail::kGroupIdsShown) << group->header;
  EXPECT_NE(group->header.find(" ... (30 fibers) [chan receive, chan "), std::string::npos)
      << group->header;
  EXPECT_NE(group->header.find("\"gate\"]:"), std::string::npos) << group->header;
  EXPECT_EQ(first_user_function(*group).rfind("(anonymous namespace)::blocked_receiver", 0), 0u)
      << grouped;
  EXPECT_EQ(group->created_by, "created by fiber " + std::to_string(main_id) + " at " +
                                   std::string(__FILE__) + ":" + std::to_string(line))
      << grouped;
  // The ids listed are the lowest of the group, in order, and no other block has them.
  for (std::size_t i = 1; i < group->ids.size(); ++i) EXPECT_LT(group->ids[i - 1], group->ids[i]);
  EXPECT_EQ(g.fibers.size(), f.fibers.size() - kSame + 1) << grouped;
  // Ungrouped, the same fibers each have their own block with the same frames.
  std::size_t same = 0;
  for (const auto& [id, b] : f.fibers) {
    if (b.header.find("[chan receive") != std::string::npos && b.functions == group->functions &&
        b.created_by == group->created_by) {
      ++same;
    }
  }
  EXPECT_EQ(same, kSame) << flat;
}

TEST(Dump, GroupHeaderSummarizesWaitTimesObjectsAndParents) {
  using tether::WaitReason;
  using tether::detail::FiberSnapshot;
  constexpr std::int64_t kSecond = 1'000'000'000;
  const std::source_location site = std::source_location::current();
  tether::detail::Capture cap;
  cap.taken_at_ns = 1000 * kSecond;
  auto add = [&](std::uint64_t id, WaitReason r, std::int64_t waited_ns, std::string object,
                 std::uint64_t parent, std::string name) {
    FiberSnapshot f;
    f.id = id;
    f.name = std::move(name);
    f.parent = parent;
    f.created_at = site;
    f.reason = r;
    f.since_ns = cap.taken_at_ns - waited_ns;
    f.object = std::move(object);
    f.stack.status = tether::detail::StackStatus::not_started;
    cap.fibers.push_back(std::move(f));
  };
  add(11, WaitReason::chan_receive, 65 * kSecond, "chan 4", 1, "w");
  add(12, WaitReason::chan_receive, 130 * kSecond, "chan 5", 2, "w");
  add(13, WaitReason::chan_receive, 200 * kSecond, "chan 6", 2, "w");
  add(14, WaitReason::mutex_lock, kSecond * 5 / 2, "mutex 7", 1, "a");
  add(15, WaitReason::mutex_lock, 40 * kSecond, "mutex 7", 1, "b");
  add(16, WaitReason::sleep, kSecond / 2, "", 1, "");
  add(17, WaitReason::sleep, kSecond / 3, "", 1, "");
  add(18, WaitReason::running, 0, "", 1, "");
  add(19, WaitReason::running, 0, "", 1, "");
  const std::string text = tether::detail::format_dump(cap, "test", {.group = true});
  const std::string at = std::string(site.file_name()) + ":" + std::to_string(site.line());
  EXPECT_NE(text.find("\nfibers 11, 12, 13 (3 fibers) \"w\" [chan receive, 1-3 minutes, "
                      "chan (3 objects)]:\n(no stack: not started)\ncreated by 2 fibers at " +
                      at + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nfibers 14, 15 (2 fibers) [mutex lock, 2-40 seconds, mutex 7]:\n"
                      "(no stack: not started)\ncreated by fiber 1 at " +
                      at + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nfibers 16, 17 (2 fibers) [sleep]:\n"), std::string::npos) << text;
  // Running fibers are never grouped.
  EXPECT_NE(text.find("\nfiber 18 [running]:\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nfiber 19 [running]:\n"), std::string::npos) << text;
  const ParsedDump d = parse_dump(text);
  EXPECT_TRUE(d.errors.empty()) << text;
  EXPECT_EQ(d.listed, 9u) << text;
  EXPECT_EQ(d.fibers.size(), 5u) << text;
}

TEST(Dump, UnsymbolizedFramesNameTheModuleOffsetAndPc) {
  tether::detail::Capture cap;
  std::uint64_t id = 0;
  tether::run([&] {
    tether::Chan<int> ch(0);
    auto f = tether::go([&] { blocked_receiver(ch); });
    id = f.id();
    tether::sleep_for(50ms);
    cap = tether::detail::capture_fibers();
    ch.send(1);
    f.join();
  });
  const std::string text =
      tether::detail::format_dump(cap, "test", {.group = true, .symbolize = false});
  const ParsedDump d = parse_dump(text);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front() << "\n" << text;
  ASSERT_EQ(d.fibers.count(id), 1u) << text;
  const ParsedFiber& f = d.fibers.at(id);
  ASSERT_GE(f.locations.size(), 3u) << text;
  // Every frame: MODULE+0xOFF (the parser keeps the text before " pc=0x...").
  bool in_test_binary = false;
  for (const std::string& loc : f.locations) {
    EXPECT_NE(loc.find("+0x"), std::string::npos) << loc;
    in_test_binary |= loc.rfind("dump_test+0x", 0) == 0;
  }
  EXPECT_TRUE(in_test_binary) << text;
  EXPECT_NE(text.find(" pc=0x"), std::string::npos) << text;
  for (const std::string& loc : f.locations) EXPECT_EQ(loc.find(".cpp:"), std::string::npos) << loc;
}

TEST(Dump, EmergencyReserveIsMappedAtStartAndGivenBackOnce) {
  tether::run([] {});
  ASSERT_TRUE(tether::detail::release_dump_memory());
  EXPECT_FALSE(tether::detail::release_dump_memory());
  tether::detail::reserve_dump_memory();
  EXPECT_TRUE(tether::detail::release_dump_memory());
  tether::detail::reserve_dump_memory();  // as the next dump expects it
}

TEST(Dump, TenThousandParkedFibers) {
  constexpr int kFibers = 10000;
  double best_ms = 1e9, cold_ms = 0, capture_ms = 1e9, flat_ms = 1e9;
  std::size_t listed = 0, biggest_group = 0, flat_blocks = 0;
  // The deadlock watchdog snapshots the same 10k fibers every 100 ms and
  // competes for the 2 CPUs: measure the dump alone.
  setenv("TETHER_DETECT_MS", "0", 1);
  tether::run([&] {
    tether::Chan<int> gate(0);
    std::vector<tether::FiberRef> fs;
    for (int i = 0; i < kFibers; ++i) {
      fs.push_back(
          tether::go([&] { blocked_receiver(gate); }, {.name = {}, .stack_size = 16 * 1024}));
    }
    tether::sleep_for(200ms);
    auto since = [](auto t0) {
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
          .count();
    };
    auto t0 = std::chrono::steady_clock::now();
    const std::string cold = tether::dump_string();  // the symbolizer reads debug info once
    cold_ms = since(t0);
    const ParsedDump parsed = parse_dump(cold);
    listed = parsed.listed;
    for (const auto& [id, f] : parsed.fibers) biggest_group = std::max(biggest_group, f.count);
    // The machine is shared: the best of three.
    for (int i = 0; i < 3; ++i) {
      t0 = std::chrono::steady_clock::now();
      const std::string text = tether::dump_string();
      best_ms = std::min(best_ms, since(t0));
      t0 = std::chrono::steady_clock::now();
      const auto cap = tether::detail::capture_fibers();
      const double one_capture = since(t0);
      capture_ms = std::min(capture_ms, one_capture);
      // TETHER_DUMP_GROUP=0: every fiber on its own.
      t0 = std::chrono::steady_clock::now();
      const std::string flat =
          tether::detail::format_dump(cap, "requested", {.group = false, .symbolize = true});
      flat_ms = std::min(flat_ms, one_capture + since(t0));
      if (i == 0) flat_blocks = parse_dump(flat).fibers.size();
    }
    gate.close();
    for (auto& f : fs) f.join();
  });
  unsetenv("TETHER_DETECT_MS");
  std::printf(
      "dump of %d parked fibers: %.1f ms grouped, %.1f ms ungrouped (best of 3; the "
      "process's first dump %.1f ms; capture alone %.1f ms)\n",
      kFibers, best_ms, flat_ms, cold_ms, capture_ms);
  RecordProperty("dump_10k_ms", static_cast<int>(best_ms));
  RecordProperty("dump_10k_ungrouped_ms", static_cast<int>(flat_ms));
  RecordProperty("capture_10k_ms", static_cast<int>(capture_ms));
  EXPECT_GE(listed, static_cast<std::size_t>(kFibers));
  // The 10k identical fibers print as one group; ungrouped, one block each.
  // (A few may not have run yet on a busy machine: those group apart.)
  EXPECT_GE(biggest_group, static_cast<std::size_t>(kFibers) * 9 / 10);
  EXPECT_GE(flat_blocks, static_cast<std::size_t>(kFibers));
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // The goal is 1 s (0.4-0.6 s measured on an idle 2-vCPU machine); the bound
  // leaves room for a machine busy with other builds.
  EXPECT_LT(best_ms, 2000.0);
  EXPECT_LT(flat_ms, 2000.0);
#endif
}

// ---- death tests: each runs in a fresh child process ----

// Killed by sig, as without sanitizers; under ASan its own handler (which
// ours chains to) reports the fault and exits with status 1 instead.
auto DiedOf(int sig) {
  return [sig](int status) {
    if (WIFSIGNALED(status)) return WTERMSIG(status) == sig;
#if defined(__SANITIZE_ADDRESS__)
    return sig == SIGSEGV && WIFEXITED(status) && WEXITSTATUS(status) == 1;
#else
    return false;
#endif
  };
}

#if defined(__SANITIZE_ADDRESS__)
constexpr const char* kNoTetherOutput = "^AddressSanitizer:DEADLYSIGNAL";  // ASan's report only
#else
constexpr const char* kNoTetherOutput = "^$";
#endif

class DumpDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(DumpDeathTest, SigquitPrintsTheDumpAndExitsWithStatus2) {
  EXPECT_EXIT(tether::run([] {
                tether::Chan<int> ch(0);
                auto f = tether::go([&] { blocked_receiver(ch); });
                tether::sleep_for(20ms);
                ::kill(getpid(), SIGQUIT);
                tether::sleep_for(10s);
              }),
              ::testing::ExitedWithCode(2),
              "\\(SIGQUIT\\)(.|\n)*fiber [0-9]+ \\[chan receive[^]]*\\]:\n(.|\n)*"
              "\\(anonymous namespace\\)::blocked_receiver");
}

TEST_F(DumpDeathTest, SigquitGroupsIdenticalFibersByDefault) {
  EXPECT_EXIT(tether::run([] {
                tether::Chan<int> ch(0);
                std::vector<tether::FiberRef> fs;
                for (int i = 0; i < 3; ++i) fs.push_back(tether::go([&] { blocked_receiver(ch); }));
                tether::sleep_for(50ms);
                ::kill(getpid(), SIGQUIT);
                tether::sleep_for(10s);
              }),
              ::testing::ExitedWithCode(2),
              "\nfibers [0-9]+, [0-9]+, [0-9]+ \\(3 fibers\\) \\[chan receive, chan [0-9]+\\]:\n"
              "([^\n]*tether[^\n]*\n\t[^\n]*\n)*\\(anonymous namespace\\)::blocked_receiver");
}

TEST_F(DumpDeathTest, GroupingCanBeTurnedOff) {
  EXPECT_EXIT(
      {
        setenv("TETHER_DUMP_GROUP", "0", 1);
        tether::run([] {
          tether::Chan<int> ch(0);
          std::vector<tether::FiberRef> fs;
          for (int i = 0; i < 3; ++i) fs.push_back(tether::go([&] { blocked_receiver(ch); }));
          tether::sleep_for(50ms);
          ::kill(getpid(), SIGQUIT);
          tether::sleep_for(10s);
        });
      },
      ::testing::ExitedWithCode(2),
      "fibers: 4\n(\nfiber [0-9]+ (\"[^\"]*\" )?\\[[^\n]*\n([^\n]+\n)+){4}");
}

TEST_F(DumpDeathTest, SegfaultInAFiberPrintsFatalErrorAndTheDump) {
  EXPECT_EXIT(tether::run([] {
                auto f = tether::go([] { crash_in_user_code(); });
                f.join();
              }),
              DiedOf(SIGSEGV),
              "fatal error: SIGSEGV: segmentation violation addr=0x10 pc=0x[0-9a-f]+ in fiber "
              "[0-9]+ on thread \"pool-[0-9]+\"\n(.|\n)*\\(crashed\\)(.|\n)*"
              "\\[running\\]:\n\\(anonymous namespace\\)::crash_in_user_code\\(\\)");
}

TEST_F(DumpDeathTest, StackOverflowNamesTheFiberAndItsStackSize) {
  EXPECT_EXIT(tether::run([] {
                auto f = tether::go([] { recurse_forever(0); }, {.name = "deep", .stack_size = 0});
                f.join();
              }),
              DiedOf(SIGSEGV),
              "fatal error: stack overflow in fiber [0-9]+ \"deep\" \\(stack size 64 KiB\\)(.|\n)*"
              "fiber [0-9]+ \"deep\" \\[running\\]:\n(.|\n)*recurse_forever(.|\n)*"
              "frames elided(.|\n)*recurse_forever");
}

TEST_F(DumpDeathTest, UncaughtExceptionInAFiberPrintsFatalErrorAndTheDump) {
  EXPECT_EXIT(tether::run([] {
                auto f = tether::go([] { throw_in_user_code(); });
                f.join();
              }),
              DiedOf(SIGABRT),
              "fatal error: uncaught exception in fiber [0-9]+: std::runtime_error: boom\n"
              "tether: fiber dump(.|\n)*\\[running\\]:");
}

TEST_F(DumpDeathTest, AbortPrintsTheDump) {
  EXPECT_EXIT(tether::run([] {
                auto gl = tether::ThreadLocker::make("gl");
                auto f = gl.go([] { std::abort(); });
                f.join();
              }),
              DiedOf(SIGABRT),
              "fatal error: SIGABRT: abort pc=0x[0-9a-f]+ in fiber [0-9]+ on thread "
              "\"gl\"(.|\n)*locked to thread \"gl\"");
}

TEST_F(DumpDeathTest, CrashHandlersCanBeTurnedOff) {
  EXPECT_EXIT(
      {
        setenv("TETHER_DUMP_ON_CRASH", "0", 1);
        tether::run([] {
          auto f = tether::go([] { crash_in_user_code(); });
          f.join();
        });
      },
      DiedOf(SIGSEGV), kNoTetherOutput);
}

#endif  // !__SANITIZE_THREAD__
