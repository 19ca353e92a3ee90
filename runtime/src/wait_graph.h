// WaitGraph: a snapshot of the whole runtime as a wait-for graph (internal).
//
// Nodes are fibers, OS threads (pool and locker threads), sync objects and
// in-flight system calls; edges say who waits for what:
//   fiber  -waits_for-> chan/mutex/... (blocked on it), fiber (join), thread
//                       (runnable on, or moving to, a locked thread), fiber
//                       (a call() waiting for the fiber that runs it), syscall
//   mutex  -held_by->   fiber (rwmutex: its writer or each reader), or plain
//                       thread in call() ("plain:N"; a plain holder not in
//                       call() has no node and no edge)
//   fiber  -locked_to-> thread
//   syscall-occupies->  thread (a fiber in a blocking call holds its thread)
//   plain  -waits_for-> fiber (a plain thread blocked in call() waits for the
//                       fiber that runs its call; "plain:N", N its number)
// take_snapshot() reads every fiber's wait state (a sequence lock each) and
// asks every object to describe() itself; it is consistent per fiber and per
// object, not globally atomic, which is why the detector only believes a
// deadlock seen unchanged in two snapshots.
//
// The data part (these structs, index(), build_edges(), node ids) and the
// detector that reads it are built as `tether_wait_model`, a library with no
// runtime state: the offline trace analyzer fills a WaitGraph from a replayed
// trace and runs the same find_deadlocks(). take_snapshot() stays in libtether.
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <unordered_map>
#include <vector>

#include "sync_object.h"
#include "tether/wait_reason.h"

namespace tether::detail {

// A source position with std::source_location's interface that can also be
// built from parts, so a WaitGraph rebuilt offline carries sites too. It does
// not own its strings: the runtime's are static, the analyzer interns its own
// for as long as the graph lives.
class SiteRef {
 public:
  constexpr SiteRef() noexcept = default;
  SiteRef(const std::source_location& l) noexcept  // NOLINT: implicit on purpose
      : file_(l.file_name()), function_(l.function_name()), line_(l.line()), column_(l.column()) {}
  constexpr SiteRef(const char* file, const char* function, std::uint_least32_t line) noexcept
      : file_(file ? file : ""), function_(function ? function : ""), line_(line) {}
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return column_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0, column_ = 0;
};

struct StackFrame {
  std::string function;
  std::string file;
  int line = 0;
  std::uintptr_t pc = 0;
};

struct FiberNode {
  std::uint64_t id = 0;
  std::string name;
  WaitReason reason = WaitReason::runnable;
  std::uint64_t object_id = 0;
  std::string object_name;
  std::int64_t since_ns = 0;
  std::uint32_t version = 0;  // changes whenever the wait state is written
  bool timed = false;
  SiteRef site{};
  SiteRef created_at{};
  std::uint64_t parent = 0;
  std::uint64_t locked_to = 0;  // thread id, 0: pool
  std::uint64_t thread = 0;     // the thread it runs / last ran on, 0: none yet
  bool is_call = false;
  std::string syscall;  // while reason == syscall
  int fd = -1, peer_fd = -1;
  // For a tracked pipe/socketpair (peer_fd >= 0): who created it, the fiber
  // watermark then, and the fibers that used either end (0: a plain thread).
  std::uint64_t fd_creator = 0, fd_watermark = 0;
  std::vector<std::uint64_t> fd_users;
  std::vector<StackFrame> stack;  // innermost first; filled only when stacks were captured
};

struct ThreadNode {
  std::uint64_t id = 0;
  std::string name;
  std::string kind;  // "main", "locker", "pool"
  int tid = 0;
  std::uint64_t running = 0;  // fiber id, 0: idle
  bool in_syscall = false;
  std::size_t runnable = 0;   // fibers queued there
  std::uint64_t switches = 0;  // progress counter
};

// A plain thread (an OS thread not running a fiber) blocked in
// ThreadLocker::call(): it can act again only once `call_fiber` has finished,
// so as a user of an object it is no waker while that fiber is blocked.
// Plain threads that are not in call() have no node: the detector treats
// them as able to act (wakeable from outside).
struct PlainThreadNode {
  std::uint64_t id = 0;  // kPlainThreadTag | N, as among objects' users
  std::string name;      // "thread 4242" (its kernel thread id)
  int tid = 0;
  std::uint64_t call_fiber = 0;  // the fiber running its call
  std::uint64_t locker = 0;      // the thread it called into
  std::int64_t since_ns = 0;
  SiteRef site{};  // the call() site
};

struct ObjectNode {
  std::uint64_t id = 0;
  ObjectKind kind = ObjectKind::chan;
  std::string name;
  SiteRef created_at{};
  std::uint64_t creator = 0;
  std::uint64_t watermark = 0;
  ObjectState state;
};

enum class EdgeKind { waits_for, held_by, locked_to, occupies };
std::string_view to_string(EdgeKind k) noexcept;

struct Edge {
  std::string from, to;  // "fiber:7", "chan:12", "thread:3", "syscall:3" (by thread)
  EdgeKind kind;
  std::int64_t since_ns = 0;
};

struct Deadlock {
  std::string kind;  // global, lock-cycle, channel-cycle, shared-thread-syscall, self-request,
                     // call-self, stall, orphan-wait (docs/snapshot-format.md)
  std::vector<std::uint64_t> fibers;
  std::vector<std::string> nodes;  // the cycle (or chain), in order
  std::string explanation;
};

struct WaitGraph {
  std::int64_t time_ns = 0;
  int pid = 0;
  std::string program;
  std::vector<ThreadNode> threads;
  std::vector<FiberNode> fibers;  // sorted by id
  std::vector<ObjectNode> objects;
  std::vector<PlainThreadNode> plain_threads;  // those blocked in call(), sorted by id
  std::vector<Edge> edges;
  std::vector<Deadlock> deadlocks;

  const FiberNode* fiber(std::uint64_t id) const;
  const ObjectNode* object(std::uint64_t id) const;
  const ThreadNode* thread(std::uint64_t id) const;
  const PlainThreadNode* plain_thread(std::uint64_t id) const;  // by its tagged id
  void index();  // builds the lookup tables; take_snapshot() calls it

 private:
  std::unordered_map<std::uint64_t, std::size_t> fiber_ix_, object_ix_, thread_ix_, plain_ix_;
};

// "fiber:7", "chan:12" ...
std::string node_id(std::string_view kind, std::uint64_t id);
// "plain:N" for plain thread id kPlainThreadTag | N.
std::string plain_node_id(std::uint64_t plain_id);
std::string object_node_id(const ObjectNode& o);

WaitGraph take_snapshot();

// Fills g.edges (and each thread's `running`) from the fibers' wait states and
// the objects' queues and holders; g must be index()ed.
void build_edges(WaitGraph& g);

// Whether a fiber in this state waits on a sync object (a channel, a mutex...)
// named by its wait state's object id.
bool waits_on_object(WaitReason r) noexcept;

// The snapshot as JSON (docs/snapshot-format.md).
std::string to_json(const WaitGraph& g);
// Appends s as a JSON string literal (quoted, escaped).
void append_json_string(std::string& out, std::string_view s);

}  // namespace tether::detail
