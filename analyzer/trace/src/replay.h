// Replay: the program's state, folded from trace events in time order.
//
// Tables (strings, sites, stacks) hold what metadata events define; Rec is the
// compact copy of one event the Analyzer keeps (names and stacks interned);
// State applies Recs one at a time and can, at any point, build the runtime's
// own detail::WaitGraph of that moment, which the runtime's detector then
// analyses (tether_wait_model). The state mirrors what take_snapshot() reads
// in the live runtime: every fiber's wait state, each object's holders,
// users and queues, each thread's occupant, the pipe/socketpair table.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "tether/trace/analysis.h"
#include "tether/trace/event.h"
#include "tether/wait_reason.h"
#include "wait_graph.h"  // tether_wait_model

namespace tether::trace::detail {

// Names and stacks, interned. Strings never move once added (deque), so the
// WaitGraph's SiteRefs may point into them.
class Tables {
 public:
  Tables();
  std::uint32_t intern(const std::string& s);
  const std::string& str(std::uint32_t i) const { return strings_[i]; }
  void define_site(std::uint64_t id, const Event& e);
  void define_stack(std::uint64_t id, std::vector<Frame> frames);
  // Unknown ids give an empty site / stack.
  const SourceSite& site(std::uint32_t id) const;
  const std::vector<Frame>& stack(std::uint32_t id) const;
  tether::detail::SiteRef site_ref(std::uint32_t id) const;

  std::uint32_t add_fiber_list(std::vector<std::uint64_t> fibers);
  const std::vector<std::uint64_t>& fiber_list(std::uint32_t i) const { return lists_[i]; }

 private:
  std::deque<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> string_ix_;
  std::unordered_map<std::uint64_t, SourceSite> sites_;
  std::unordered_map<std::uint64_t, std::vector<Frame>> stacks_;
  std::vector<std::vector<std::uint64_t>> lists_;
  SourceSite no_site_;
  std::vector<Frame> no_stack_;
};

// One event, compact (names interned in Tables).
struct Rec {
  std::int64_t time = 0;
  std::uint64_t fiber = 0, object = 0, other = 0;
  std::int64_t a = 0, b = 0;
  std::uint32_t thread = 0;
  std::uint32_t site = 0, stack = 0;
  std::uint32_t text = 0, kind = 0;  // interned strings (0: "")
  std::uint32_t seq = 0;             // input order, breaks ties in time
  EventType type = EventType::end;
  std::uint8_t reason = 0;
};

Rec compact(const Event& e, Tables& t, std::uint32_t seq);

// A set of fiber ids remembered the way the runtime's FiberIdSet does: up to
// 8 distinct ids, then "overflowed" (the detector treats the object as
// wakeable from outside).
struct IdSet {
  std::vector<std::uint64_t> ids;
  bool overflowed = false;
  void add(std::uint64_t id);
};

struct FiberState {
  std::uint64_t id = 0;
  std::uint32_t name = 0;
  std::uint64_t parent = 0;
  std::uint32_t created_site = 0;
  std::int64_t created = 0;
  WaitReason reason = WaitReason::runnable;
  std::uint64_t object = 0;
  std::int64_t since = 0;
  std::uint32_t site = 0, stack = 0;
  bool timed = false;
  std::uint64_t locked_to = 0;
  std::uint64_t thread = 0;
  bool is_call = false;
  bool exited = false;
  std::uint32_t version = 0;
  // while reason == syscall
  std::uint32_t syscall = 0;
  int fd = -1, peer_fd = -1;
  // An unpark seen before the park it ends (two threads' events with close
  // timestamps): the next park within the window ends at once.
  std::int64_t early_unpark = -1;
  std::uint64_t counted = 0;  // the thread whose runnable count includes it
};

struct ThreadState {
  std::uint64_t id = 0;
  std::uint32_t name = 0;
  std::string kind;  // main, pool, locker, plain
  std::int64_t tid = 0;
  std::uint64_t running = 0;
  bool in_syscall = false;
  bool exited = false;
  std::uint64_t switches = 0;
  // A plain thread (kind "plain") blocked in a tether object: a park and an
  // unpark of fiber 0 in its own blocks (format 2.0). Its objects count as
  // wakeable from outside, unless it is blocked in ThreadLocker::call():
  // then it is a wait-for graph node (PlainThreadNode, as in the runtime)
  // waiting for `call_fiber`.
  struct PlainWait {
    WaitReason reason = WaitReason::running;  // running: not blocked
    std::uint64_t object = 0;
    std::int64_t since = 0;
    std::uint32_t site = 0, stack = 0;
  } plain_wait;
  std::uint64_t call_fiber = 0;  // a plain thread's call() in flight (call_begin .. call_end)
};

struct ObjectState {
  std::uint64_t id = 0;
  tether::detail::ObjectKind kind = tether::detail::ObjectKind::chan;
  std::uint32_t name = 0;
  std::uint32_t site = 0;
  std::uint64_t creator = 0, watermark = 0;
  std::vector<std::uint64_t> holders;  // a fiber once per hold (rwmutex readers may repeat)
  std::uint64_t writer = 0;
  IdSet users, senders, receivers;
  bool plain = false;  // a plain thread used it
  bool closed = false;
  std::int64_t capacity = 0, size = 0, count = 0;
  bool destroyed = false;
};

struct FdState {
  int peer = -1;
  std::uint64_t creator = 0, watermark = 0;
  std::set<std::uint64_t> users;
};

class State {
 public:
  explicit State(const Tables& t) : t_(t) {}
  void apply(const Rec& r);

  // The wait-for graph of this moment, index()ed, edges built.
  tether::detail::WaitGraph wait_graph(std::int64_t now) const;

  // Unordered (ids hash fast; wait_graph() sorts its nodes).
  const std::unordered_map<std::uint64_t, FiberState>& fibers() const { return fibers_; }
  const std::map<std::uint64_t, ThreadState>& threads() const { return threads_; }
  const std::unordered_map<std::uint64_t, ObjectState>& objects() const { return objects_; }
  const FiberState* fiber(std::uint64_t id) const;
  const ThreadState* thread(std::uint64_t id) const;
  const ObjectState* object(std::uint64_t id) const;
  // Fibers runnable on (or moving to) locked thread t right now.
  std::size_t runnable_on(std::uint64_t t) const;
  std::uint64_t max_fiber() const { return max_fiber_; }

  // How far an unpark may precede its park in the trace's time order.
  static constexpr std::int64_t kReorderWindowNs = 5'000'000;

 private:
  FiberState& fiber_mut(std::uint64_t id, std::int64_t time);
  ThreadState& thread_mut(std::uint64_t id);
  ObjectState* object_mut(std::uint64_t id);
  void set_state(FiberState& f, WaitReason r, std::int64_t time);
  void sync(FiberState& f);  // its place in runnable_on_ after a change
  void use(ObjectState& o, std::uint64_t fiber);
  // Who acts in r, as the runtime records users: the fiber, or a plain
  // thread by its own id (kPlainThreadTag | thread id).
  static std::uint64_t user_of(const Rec& r) noexcept;
  void stop_running(FiberState& f);

  const Tables& t_;
  std::unordered_map<std::uint64_t, FiberState> fibers_;
  std::map<std::uint64_t, ThreadState> threads_;
  std::unordered_map<std::uint64_t, ObjectState> objects_;
  std::unordered_map<int, FdState> fds_;
  std::unordered_map<std::uint64_t, std::size_t> runnable_on_;
  std::uint64_t max_fiber_ = 0;
};

// "chan:3", "fiber:7", "thread:2" for what the fiber waits on ("" if nothing).
std::string waited_node(const State& s, const FiberState& f);

}  // namespace tether::trace::detail
