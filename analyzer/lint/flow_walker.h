// lint/flow_walker.h — the path-sensitive walk of one function or lambda body
// (internal).
//
// libclang has no CFG in its C API, so the walker interprets the structured
// statements itself: it carries a small set of abstract states (which locks
// and lockers are held, in which order, and which lockers were released)
// through sequences, if/else, loops (zero, one and two iterations, so a lock
// taken in a loop body without release shows up as taken twice), switch,
// break/continue, return, throw and try/catch. RAII guards (lock_guard,
// unique_lock, scoped_lock, shared_lock) release at the end of their scope,
// including on return and throw.
//
// Along the way it records into the model: every call (with the locks and
// lockers held there), every channel operation, fiber/thread entry points,
// lock-order pairs, and tether-lock-misuse findings. Branch conditions are
// not correlated, so `if (c) m.lock(); ... if (c) m.unlock();` looks like a
// leak; docs/lint-rules.md lists this limit.
#pragma once

#include <clang-c/Index.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lint/build_context.h"

namespace tether::lint {

enum class LockKind { locker, mutex, read, recursive };

struct Held {
  HeldLock lock;
  std::string order_key;  // the lock object (a read and a write lock of one RWMutex share it)
  LockKind kind = LockKind::mutex;
  bool raii = false;
  int scope = 0;
  std::string guard;  // key of the guard variable holding it, if any
  friend bool operator==(const Held& a, const Held& b) {
    return a.lock.key == b.lock.key && a.raii == b.raii && a.scope == b.scope &&
           a.guard == b.guard && a.lock.acquired == b.lock.acquired;
  }
};

struct FlowState {
  std::vector<Held> held;
  std::set<std::string> released;  // lockers unlocked on this path
  friend bool operator==(const FlowState&, const FlowState&) = default;
};
using States = std::vector<FlowState>;

class FlowWalker {
 public:
  FlowWalker(BuildContext& ctx, int body);
  // `cursor` is the function declaration or the LambdaExpr.
  void run(CXCursor cursor);

 private:
  struct Loop {
    States breaks, continues;
    int scope;
  };
  struct PendingMisuse {
    std::string key;
    bool needs_acquire;  // unlock-without-lock: only if the body also locks it
    bool needs_release;  // leak: only if the body also unlocks it
    Diagnostic diag;
  };
  struct LockOp {
    enum { none, acquire, release, try_acquire } op = none;
    LockKind kind = LockKind::mutex;
    std::string key, display;
    bool std_mutex = false;
  };

  States stmt(CXCursor c, States in);
  States compound(CXCursor c, States in);
  States if_stmt(CXCursor c, States in);
  States loop(const std::vector<CXCursor>& header, CXCursor body, States in, bool infinite,
              bool body_first);
  States switch_stmt(CXCursor c, States in);
  States try_stmt(CXCursor c, States in);
  States range_for(CXCursor c, States in);
  States expr(CXCursor c, States in);
  States call(CXCursor c, States in);
  States var_decl(CXCursor c, States in);

  LockOp classify_lock(CXCursor call, const std::string& q) const;
  States acquire(States in, const HeldLock& l, const std::string& order_key, LockKind kind,
                 bool raii, const std::string& guard, bool order_pairs = true);
  States release(States in, const std::string& key, const std::string& display, LockKind kind,
                 const SourceLoc& at, const std::string& guard = {});
  void record_call(CallSite cs, const States& at);
  void chan_op(ChanOpKind kind, const std::string& key, CXCursor at);
  void spawn(EntryKind kind, CXCursor call, CXCursor callable, const std::string& locker_key,
             const std::string& locker_display);
  // Body index (or -1) of a callable argument: a lambda, a lambda variable,
  // or a function name; `usr` gets a function's USR.
  int callable_body(CXCursor arg) const;
  void misuse(const std::string& key, const SourceLoc& at, std::string message,
              std::vector<Note> notes, bool needs_acquire, bool needs_release);
  void drop_scope(States& s, int scope) const;
  void finish(const States& normal_exit, const SourceLoc& end);
  static void merge(States& into, const States& from);

  BuildContext& ctx_;
  int body_;
  int scope_ = 0;
  int loop_depth_ = 0;
  unsigned order_ = 0;
  std::vector<Loop*> loops_;
  std::vector<States*> switch_entries_;
  std::vector<States*> try_throws_;
  std::vector<std::pair<SourceLoc, States>> exits_;  // returns and uncaught throws
  std::set<std::string> acquired_keys_, released_keys_, untracked_keys_;
  std::vector<PendingMisuse> pending_;
  std::string entry_locker_;             // the locker a locker fiber starts on
  std::set<std::string> double_locked_;  // reported once; its leak follows from it
  struct GuardInfo {
    HeldLock lock;
    std::string order_key;
    LockKind kind;
  };
  std::map<std::string, GuardInfo> guard_mutex_;   // guard variable -> the lock it manages
  CXCursor if_cond_call_ = clang_getNullCursor();  // a try_lock() that is an if condition
};

}  // namespace tether::lint
