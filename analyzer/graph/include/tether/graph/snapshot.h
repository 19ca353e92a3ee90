// tether/graph/snapshot.h — the wait-for graph of one moment of a program.
//
// A Snapshot is the in-memory form of the JSON document specified in
// docs/snapshot-format.md: every OS thread, fiber and sync object of a
// running tether program, the wait-for edges between them, and the deadlocks
// the runtime's detector found. The runtime writes it, `tether viz` draws it,
// and the offline analyzer builds the same structure from a trace.
//
// Guarantees once a Snapshot comes out of read_snapshot()/parse_snapshot()
// (snapshot_reader.h): ids are unique per table (threads, fibers, objects);
// every NodeId used by an edge, a deadlock, a fiber's `object` or a thread's
// `running`/`syscall.fiber` names a node that exists; every `locked_to` and
// `thread` names an existing thread. Fields that only record history
// (a fiber's `parent`, a channel's `senders`, a mutex's `holder`) may name
// fibers that have already exited, as in Go's "created by" lines.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::graph {

// The kinds of node in a wait-for graph. The order is the drawing order.
enum class NodeKind : std::uint8_t {
  thread,
  syscall,
  fiber,
  chan,
  mutex,
  rwmutex,
  cond_var,
  wait_group,
  once,
};

// "fiber", "chan", "cond_var", ... as written in node ids and `kind` fields.
std::string_view to_string(NodeKind k) noexcept;
std::optional<NodeKind> node_kind_from_string(std::string_view s) noexcept;

// A node's identity: "KIND:ID" in JSON ("fiber:7", "chan:12", "syscall:3").
// A syscall node's id is the id of the thread the call runs on (a thread has
// at most one call in flight).
struct NodeId {
  NodeKind kind = NodeKind::fiber;
  std::uint64_t id = 0;

  friend auto operator<=>(const NodeId&, const NodeId&) = default;
  std::string str() const;  // "fiber:7"
};

// Parses "KIND:ID" (ID a decimal without sign or leading zeros); nullopt if malformed.
std::optional<NodeId> parse_node_id(std::string_view s) noexcept;

// A place in the program. `file` is empty when unknown.
struct SourceLoc {
  std::string file;
  std::uint32_t line = 0;
  std::string function;
};

enum class ThreadKind : std::uint8_t { main, locker, pool };
std::string_view to_string(ThreadKind k) noexcept;

// A blocking system call in flight on a thread (tether::sys or the preload).
struct Syscall {
  std::uint64_t fiber = 0;              // the fiber that made the call
  std::string call;                     // "read", "accept", ...
  std::optional<std::int64_t> fd;       // the descriptor it blocks on
  std::optional<std::int64_t> peer_fd;  // the other end (pipe, socketpair), if known
  std::int64_t since_ns = 0;
};

struct Thread {
  std::uint64_t id = 0;  // tether object id (ThreadLocker::id())
  std::string name;
  ThreadKind kind = ThreadKind::pool;
  std::optional<std::int64_t> tid;       // kernel thread id, if started
  std::optional<std::uint64_t> running;  // fiber currently executing on it
  std::optional<Syscall> syscall;
};

struct Fiber {
  std::uint64_t id = 0;
  std::string name;
  std::string state;                     // a WaitReason name: "chan receive", "running", ...
  std::optional<NodeId> object;          // what it waits on, if anything
  std::optional<std::int64_t> since_ns;  // when it entered `state`
  SourceLoc site;                        // where it waits (or runs)
  SourceLoc created_at;
  std::optional<std::uint64_t> parent;
  std::optional<std::uint64_t> locked_to;  // thread it is locked to
  std::optional<std::uint64_t> thread;     // thread it is on now (running / in syscall)
  std::vector<SourceLoc> stack;            // innermost frame first
};

struct Object {
  std::uint64_t id = 0;
  NodeKind kind = NodeKind::chan;  // one of chan, mutex, rwmutex, cond_var, wait_group, once
  std::string name;
  SourceLoc created_at;
  // chan
  std::int64_t capacity = 0;
  std::int64_t size = 0;
  bool closed = false;
  std::vector<std::uint64_t> senders;    // every fiber that ever sent
  std::vector<std::uint64_t> receivers;  // every fiber that ever received
  std::vector<std::uint64_t> plain_senders, plain_receivers;  // plain thread numbers (optional)
  // mutex
  std::optional<std::uint64_t> holder;
  // rwmutex
  std::optional<std::uint64_t> writer;
  std::vector<std::uint64_t> readers;
  // wait_group
  std::int64_t count = 0;

  NodeId node() const { return NodeId{kind, id}; }
};

enum class EdgeKind : std::uint8_t { waits_for, held_by, locked_to, occupies };
std::string_view to_string(EdgeKind k) noexcept;  // "waits_for", ...

struct Edge {
  NodeId from;
  NodeId to;
  EdgeKind kind = EdgeKind::waits_for;
  std::optional<std::int64_t> since_ns;
};

// The patterns of DESIGN "What is detected" that a snapshot can carry; the
// same words as a report's `pattern` (docs/report-format.md).
inline constexpr std::string_view kDeadlockKinds[] = {
    "global",       "lock-cycle", "channel-cycle", "orphan-wait",           "shared-thread-syscall",
    "self-request", "call-self",  "stall",         "rwmutex-reader-writer",
};
bool is_deadlock_kind(std::string_view s) noexcept;

struct Deadlock {
  std::string kind;           // one of kDeadlockKinds
  std::vector<NodeId> nodes;  // the cycle (or blocked set), in order
  std::string explanation;    // why nothing else can break it
};

// The WaitReason names (runtime/include/tether/wait_reason.h) a fiber's
// `state` may hold.
inline constexpr std::string_view kFiberStates[] = {
    "running",        "runnable",
    "chan send",      "chan receive",
    "select",         "select (no cases)",
    "mutex lock",     "rwmutex rlock",
    "rwmutex lock",   "cond wait",
    "waitgroup wait", "once wait",
    "join",           "sleep",
    "syscall",        "waiting for thread",
    "call",           "dead",
};
bool is_fiber_state(std::string_view s) noexcept;

// A plain thread (not a fiber) blocked in ThreadLocker::call(): it can act
// only once the fiber running its call has finished. Optional in the format
// (`plain_threads`); not a node of `edges` or `deadlocks` in version 1.
struct PlainThread {
  std::uint64_t id = 0;  // its number; a space of its own
  std::string name;
  std::optional<std::int64_t> tid;
  std::string state;                  // "call"
  std::optional<std::uint64_t> waits_for;  // the call's fiber id
  std::optional<std::uint64_t> thread;     // the locker's thread id
  std::optional<std::int64_t> since_ns;
  SourceLoc site;
};

struct Snapshot {
  int version = 1;
  std::int64_t pid = 0;
  std::string program;
  std::int64_t time_ns = 0;  // CLOCK_MONOTONIC when the snapshot was taken
  std::vector<Thread> threads;
  std::vector<Fiber> fibers;
  std::vector<Object> objects;
  std::vector<Edge> edges;
  std::vector<Deadlock> deadlocks;
  std::vector<PlainThread> plain_threads;
};

}  // namespace tether::graph
