// tether_trace_gen: writes a valid synthetic trace of about N events
// (docs/trace-format.md, through the test-side encoder), for scale tests,
// benchmarks and the fuzz corpus.
//
//   tether_trace_gen -o big.tt -n 10000000 [--fibers 2000] [--pool 8] [--lockers 4]
//                    [--channels 500] [--mutexes 200] [--sites 60] [--stacks 30]
//                    [--deadlock] [--all-types] [--seed 1] [--block-bytes 65536]
//
// The program it describes is well-behaved: fibers on pool threads and on
// locker threads take mutexes in one global order, hand values over channels
// (the receiver parks first and is woken by the sender), sleep, make system
// calls and call into lockers; every wait ends, and at the end every fiber
// exits and an `end` record closes the trace. With --deadlock the trace
// instead ends in a lock cycle (two fibers each holding the mutex the other
// waits for), the online detector's `finding`, and no `end` (as after
// `tether run --timeout`). Events are emitted in global time order, so each
// thread's events are monotonic, as the format requires.
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "trace_encoder.h"

namespace {

using tether::trace::Event;
using tether::trace::EventType;
using tether::trace::testing::EncoderOptions;
using tether::trace::testing::TraceEncoder;

struct Options {
  std::string output;
  std::uint64_t events = 100000;
  std::uint32_t fibers = 2000, pool = 8, lockers = 4, channels = 500, mutexes = 200;
  std::uint32_t sites = 60, stacks = 30;
  bool deadlock = false;
  bool all_types = false;  // also one of every rarer event type (fuzz seeds)
  std::uint64_t seed = 1;
  std::size_t block_bytes = 64 * 1024;
};

// WaitReason values (runtime/include/tether/wait_reason.h).
enum Reason : std::uint8_t {
  kChanReceive = 3,
  kMutexLock = 6,
  kSleep = 13,
  kCall = 16,
};

class Generator {
 public:
  Generator(std::ostream& out, const Options& o) : o_(o), rng_(o.seed), enc_(out, encoder(o)) {}

  std::uint64_t run() {
    setup();
    const std::uint64_t budget = o_.events > 200 ? o_.events - 100 : o_.events;
    while (emitted_ < budget) episode();
    finish();
    enc_.flush_all();
    return emitted_;
  }

 private:
  static EncoderOptions encoder(const Options& o) {
    EncoderOptions e;
    e.block_bytes = o.block_bytes;
    e.program = "/usr/bin/tether_trace_gen";
    return e;
  }

  struct Fiber {
    std::uint64_t id = 0;
    std::uint64_t locked_to = 0;  // 0: pool
  };

  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  void tick() { t_ += 50 + static_cast<std::int64_t>(pick(400)); }

  Event& ev(EventType type, std::uint64_t thread, std::uint64_t fiber = 0) {
    e_ = Event{};
    e_.type = type;
    e_.time_ns = t_;
    e_.thread = thread;
    e_.fiber = fiber;
    return e_;
  }
  void emit(std::uint64_t block_thread) {
    enc_.add(block_thread, e_);
    ++emitted_;
    tick();
  }
  std::uint32_t site() { return 1 + static_cast<std::uint32_t>(pick(o_.sites)); }
  std::uint32_t stack() { return 1 + static_cast<std::uint32_t>(pick(o_.stacks)); }
  // The thread a fiber runs on now: its locker, or any pool thread.
  std::uint64_t thread_of(const Fiber& f) { return f.locked_to ? f.locked_to : pool_[pick(pool_.size())]; }

  void setup() {
    for (std::uint32_t i = 1; i <= o_.sites; ++i) {
      Event& s = ev(EventType::site, 0);
      s.id = i, s.line = static_cast<int>(10 + i * 7);
      s.file = fmt::format("/src/app/module{}.cpp", i % 17);
      s.text = fmt::format("app::handler{}(Request const&)", i);
      emit(0);
    }
    for (std::uint32_t i = 1; i <= o_.stacks; ++i) {
      Event& s = ev(EventType::stack, 0);
      s.id = i;
      for (int k = 0; k < 6; ++k)
        s.frames.push_back({fmt::format("app::layer{}(int)", (i + k) % 11),
                            fmt::format("/src/app/layer{}.cpp", k), 20 + k * 3,
                            0x400000u + i * 0x100u + static_cast<unsigned>(k)});
      emit(0);
    }
    std::uint64_t next_id = 1;
    auto thread_start = [&](std::uint64_t id, const char* kind, std::uint64_t locker, std::string name) {
      Event& e = ev(EventType::thread_start, id);
      e.kind = kind, e.object = locker, e.a = static_cast<std::int64_t>(4000 + id), e.text = std::move(name);
      emit(id);
    };
    main_thread_ = next_id++;
    thread_start(main_thread_, "main", 0, "main");
    for (std::uint32_t i = 0; i < o_.pool; ++i) {
      pool_.push_back(next_id++);
      thread_start(pool_.back(), "pool", 0, fmt::format("pool-{}", i));
    }
    for (std::uint32_t i = 0; i < o_.lockers; ++i) {
      lockers_.push_back(next_id++);
      thread_start(lockers_.back(), "locker", lockers_.back(), fmt::format("locker-{}", i));
    }
    auto object = [&](const char* kind, std::int64_t cap, std::string name) {
      const std::uint64_t id = next_id++;
      Event& e = ev(EventType::object_create, main_thread_, 1);
      e.object = id, e.kind = kind, e.a = cap, e.site = site(), e.text = std::move(name);
      emit(main_thread_);
      return id;
    };
    for (std::uint32_t i = 0; i < o_.channels; ++i)
      chans_.push_back(object("chan", 0, fmt::format("requests-{}", i)));
    for (std::uint32_t i = 0; i < std::max<std::uint32_t>(o_.mutexes, 2); ++i)
      mutexes_.push_back(object("mutex", 0, fmt::format("state-{}", i)));
    // Fiber 1 is main; the others alternate between the pool and the lockers.
    fibers_.push_back({1, main_thread_});
    ev(EventType::run, main_thread_, 1);
    emit(main_thread_);
    for (std::uint64_t id = 2; id < 2 + o_.fibers; ++id) {
      Fiber f{id, 0};
      if (!lockers_.empty() && id % 4 == 0) f.locked_to = lockers_[id / 4 % lockers_.size()];
      Event& e = ev(EventType::fiber_create, f.locked_to, 1);
      e.fiber = id, e.other = 1, e.site = site(), e.text = fmt::format("worker-{}", id);
      emit(main_thread_);
      fibers_.push_back(f);
    }
    if (o_.all_types) rare_events();
  }

  // One of each type the episodes do not produce (misuse makes the analyses
  // report a finding).
  void rare_events() {
    const std::uint64_t th = main_thread_;
    auto one = [&](EventType t, std::uint64_t object, std::int64_t a, std::int64_t b) {
      Event& e = ev(t, th, 1);
      e.object = object, e.a = a, e.b = b;
      emit(th);
    };
    one(EventType::select_done, chans_[0], 1, 0);
    one(EventType::wg_add, 0, 2, 2);
    one(EventType::cond_signal, 0, 1, 0);
    one(EventType::fd_pair, 0, 5, 6);
    one(EventType::chan_close, chans_[0], 0, 0);
    if (!lockers_.empty()) {
      Event& l = ev(EventType::thread_lock, lockers_[0], 1);
      l.object = lockers_[0];
      emit(th);
      Event& u = ev(EventType::thread_unlock, lockers_[0], 1);
      u.object = lockers_[0];
      emit(th);
    }
    Event& m = ev(EventType::misuse, th, 1);
    m.site = site(), m.text = "unlock_os_thread: the fiber is not locked";
    emit(th);
    Event& l = ev(EventType::lost, th);
    l.a = 3;
    emit(th);
    // A plain thread (format 2.0) blocks on a channel and resumes.
    const std::uint64_t plain = 1'000'000'000;
    Event& ps = ev(EventType::thread_start, plain);
    ps.kind = "plain", ps.a = 4999, ps.text = "thread 4999";
    emit(plain);
    Event& pp = ev(EventType::park, plain, 0);
    pp.reason = kChanReceive, pp.object = chans_[0], pp.site = site(), pp.stack = stack();
    emit(plain);
    ev(EventType::unpark, plain, 0);
    emit(plain);
    Event& d = ev(EventType::object_destroy, th);
    d.object = chans_[0];
    emit(th);
  }

  const Fiber& any_fiber() { return fibers_[1 + pick(fibers_.size() - 1)]; }

  void episode() {
    const Fiber& f = any_fiber();
    const std::uint64_t th = thread_of(f);
    ev(EventType::run, th, f.id);
    emit(th);
    switch (pick(5)) {
      case 0: {  // two mutexes in the global order
        std::uint64_t i = pick(mutexes_.size()), j = pick(mutexes_.size());
        if (i > j) std::swap(i, j);
        auto acquire = [&](std::uint64_t m) {
          Event& e = ev(EventType::lock_acquire, th, f.id);
          e.object = m, e.site = site(), e.stack = stack();
          emit(th);
        };
        acquire(mutexes_[i]);
        if (i != j) acquire(mutexes_[j]);
        if (i != j) {
          ev(EventType::lock_release, th, f.id).object = mutexes_[j];
          emit(th);
        }
        ev(EventType::lock_release, th, f.id).object = mutexes_[i];
        emit(th);
        break;
      }
      case 1: {  // a receiver parks; f sends and wakes it
        const Fiber& g = any_fiber();
        if (g.id == f.id) break;
        const std::uint64_t c = chans_[pick(chans_.size())];
        const std::uint64_t gth = thread_of(g);
        ev(EventType::run, gth, g.id);
        emit(gth);
        Event& p = ev(EventType::park, gth, g.id);
        p.reason = kChanReceive, p.object = c, p.site = site(), p.stack = stack();
        // Format 3.0, as the runtime writes it: on one thread, the park names
        // f, the fiber switched to (next); f's run is implied.
        if (gth == th) p.other = f.id;
        emit(gth);
        if (gth != th) {
          ev(EventType::run, th, f.id);  // f again
          emit(th);
        }
        // Format 2.0, as the runtime writes it: the send names g (woke) and
        // g's receive as done; g's unpark and receive are implied.
        Event& s = ev(EventType::chan_send, th, f.id);
        s.object = c, s.other = g.id, s.b = 1;
        emit(th);
        ev(EventType::run, gth, g.id);
        emit(gth);
        break;
      }
      case 2: {  // a short sleep
        Event& p = ev(EventType::park, th, f.id);
        p.reason = kSleep, p.site = site(), p.stack = stack(), p.a = 1;
        emit(th);
        ev(EventType::unpark, th, f.id);
        emit(th);
        ev(EventType::run, th, f.id);
        emit(th);
        break;
      }
      case 3: {  // a system call
        Event& s = ev(EventType::syscall_enter, th, f.id);
        s.a = 3 + static_cast<std::int64_t>(pick(20)), s.b = -1, s.site = site(), s.text = "read";
        emit(th);
        Event& x = ev(EventType::syscall_exit, th, f.id);
        x.a = 64;
        emit(th);
        break;
      }
      default: {  // a pool fiber calls into a locker, served by a fiber locked there
        if (f.locked_to || lockers_.empty()) break;
        const std::uint64_t l = lockers_[pick(lockers_.size())];
        std::uint64_t server = 0;
        for (const Fiber& g : fibers_)
          if (g.locked_to == l) {
            server = g.id;
            break;
          }
        if (!server) break;
        Event& b = ev(EventType::call_begin, th, f.id);
        b.object = l, b.other = server;
        emit(th);
        Event& p = ev(EventType::park, th, f.id);
        p.reason = kCall, p.object = l, p.site = site(), p.stack = stack();
        emit(th);
        ev(EventType::run, l, server);
        emit(l);
        ev(EventType::unpark, l, f.id).other = server;
        emit(l);
        ev(EventType::run, th, f.id);
        emit(th);
        Event& en = ev(EventType::call_end, th, f.id);
        en.object = l, en.other = server;
        emit(th);
        break;
      }
    }
  }

  void finish() {
    if (o_.deadlock) {
      // Fibers 2 and 3 (both on the pool) each take one mutex, then want the other's.
      const std::uint64_t m1 = mutexes_[0], m2 = mutexes_[1];
      const std::uint64_t t2 = pool_[0], t3 = pool_[pool_.size() > 1 ? 1 : 0];
      auto take = [&](std::uint64_t th, std::uint64_t fiber, std::uint64_t m) {
        ev(EventType::run, th, fiber);
        emit(th);
        Event& e = ev(EventType::lock_acquire, th, fiber);
        e.object = m, e.site = 1, e.stack = 1;
        emit(th);
      };
      auto want = [&](std::uint64_t th, std::uint64_t fiber, std::uint64_t m) {
        ev(EventType::run, th, fiber);
        emit(th);
        Event& p = ev(EventType::park, th, fiber);
        p.reason = kMutexLock, p.object = m, p.site = 2, p.stack = 2;
        emit(th);
      };
      take(t2, 2, m1);
      take(t3, 3, m2);
      want(t2, 2, m2);
      want(t3, 3, m1);
      // Every other fiber exits; main waits for 2 and 3 (join) forever.
      for (const Fiber& f : fibers_)
        if (f.id > 3) {
          const std::uint64_t th = thread_of(f);
          ev(EventType::fiber_exit, th, f.id);
          emit(th);
        }
      Event& j = ev(EventType::park, main_thread_, 1);
      j.reason = 12, j.site = 3, j.stack = 3;  // join
      emit(main_thread_);
      Event& fd = ev(EventType::finding, pool_[0]);
      fd.kind = "deadlock", fd.text = "lock-cycle", fd.fibers = {2, 3};
      emit(pool_[0]);
      return;  // killed: no end record
    }
    for (const Fiber& f : fibers_)
      if (f.id != 1) {
        const std::uint64_t th = thread_of(f);
        ev(EventType::fiber_exit, th, f.id);
        emit(th);
      }
    ev(EventType::fiber_exit, main_thread_, 1);
    emit(main_thread_);
    for (std::uint64_t l : lockers_) {
      ev(EventType::thread_exit, l);
      emit(l);
    }
    ev(EventType::end, main_thread_).a = 0;
    emit(main_thread_);
  }

  const Options& o_;
  std::mt19937_64 rng_;
  TraceEncoder enc_;
  Event e_;
  std::int64_t t_ = 1000;
  std::uint64_t emitted_ = 0;
  std::uint64_t main_thread_ = 0;
  std::vector<std::uint64_t> pool_, lockers_, chans_, mutexes_;
  std::vector<Fiber> fibers_;
};

int usage(const char* why) {
  std::cerr << "tether_trace_gen: " << why
            << "\nusage: tether_trace_gen -o FILE [-n EVENTS] [--fibers N] [--pool N] "
               "[--lockers N] [--channels N] [--mutexes N] [--sites N>=3] [--stacks N>=3] "
               "[--deadlock] [--all-types] [--seed S] [--block-bytes N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto number = [&](auto& out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || argv[i][0] == '-') return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
      return true;
    };
    bool ok = true;
    if (a == "-o" && i + 1 < argc) {
      o.output = argv[++i];
    } else if (a == "-n") {
      ok = number(o.events);
    } else if (a == "--fibers") {
      ok = number(o.fibers);
    } else if (a == "--pool") {
      ok = number(o.pool) && o.pool > 0;
    } else if (a == "--lockers") {
      ok = number(o.lockers);
    } else if (a == "--channels") {
      ok = number(o.channels) && o.channels > 0;
    } else if (a == "--mutexes") {
      ok = number(o.mutexes);
    } else if (a == "--sites") {
      ok = number(o.sites) && o.sites >= 3;
    } else if (a == "--stacks") {
      ok = number(o.stacks) && o.stacks >= 3;
    } else if (a == "--seed") {
      ok = number(o.seed);
    } else if (a == "--block-bytes") {
      ok = number(o.block_bytes) && o.block_bytes > 0 && o.block_bytes < (16u << 20) - 65536;
    } else if (a == "--all-types") {
      o.all_types = true;
    } else if (a == "--deadlock") {
      o.deadlock = true;
    } else {
      return usage(("unknown argument '" + a + "'").c_str());
    }
    if (!ok) return usage(("bad value for " + a).c_str());
  }
  if (o.output.empty()) return usage("-o FILE is required");
  if (o.fibers < 3) o.fibers = 3;
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "tether_trace_gen: " << o.output << ": cannot write: " << std::strerror(errno)
              << "\n";
    return 2;
  }
  Generator gen(out, o);
  const std::uint64_t n = gen.run();
  out.flush();
  if (!out) {
    std::cerr << "tether_trace_gen: " << o.output << ": write error\n";
    return 2;
  }
  std::cerr << fmt::format("tether_trace_gen: wrote {} events to {}\n", n, o.output);
  return 0;
}
