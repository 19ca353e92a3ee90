// FlowWalker: calls (channel operations, fiber entries, lock operations) and
// variable declarations (RAII guards, channels, lockers).
#include <fmt/format.h>

#include "lint/flow_walker.h"

namespace tether::lint {
namespace {

std::string method_of(const std::string& q) {
  const auto p = q.rfind("::");
  return p == std::string::npos ? q : q.substr(p + 2);
}

CXCursor find_call(CXCursor c) {
  for (int i = 0; i < 6; ++i) {
    c = strip(c);
    if (clang_getCursorKind(c) == CXCursor_CallExpr) return c;
    std::vector<CXCursor> kids = children(c);
    if (kids.size() != 1) break;
    c = kids.front();
  }
  return clang_getNullCursor();
}

bool is_ref_kind(CXCursorKind k) {
  return k >= CXCursor_FirstRef && k <= CXCursor_LastRef;
}

}  // namespace

States FlowWalker::call(CXCursor c, States in) {
  CXCursor decl = clang_getCursorReferenced(c);
  const std::string q = qualified_name(decl);
  const std::string m = method_of(q);
  const int nargs = std::max(0, clang_Cursor_getNumArguments(c));
  CXCursor base = member_call_base(c);
  const std::string base_type = is_null(base) ? "" : record_name(clang_getCursorType(base));
  const SourceLoc loc = location_of(c);
  auto walk_args = [&](int from) {
    for (int i = from; i < nargs; ++i) in = expr(clang_Cursor_getArgument(c, i), std::move(in));
  };

  // Channels: the receiver object is the channel, not an escape.
  if (base_type == "tether::Chan") {
    walk_args(0);
    const std::string key = object_key(base);
    if (m == "send")
      chan_op(ChanOpKind::send, key, c);
    else if (m == "recv")
      chan_op(ChanOpKind::recv, key, c);
    else if (m == "try_send" || m == "try_recv")
      chan_op(ChanOpKind::nonblocking, key, c);
    else if (m == "close")
      chan_op(ChanOpKind::close, key, c);
    return in;
  }
  bool select_case = false;
  if ((q == "tether::recv" || q == "tether::send") && nargs >= 1) {
    CXCursor ch = clang_Cursor_getArgument(c, 0);
    if (record_name(clang_getCursorType(ch)) == "tether::Chan") {
      chan_op(ChanOpKind::select_case, object_key(ch), c);
      select_case = true;
    }
  }
  // unique_lock / shared_lock re-locking and unlocking through the guard.
  if (base_type == "std::unique_lock" || base_type == "std::shared_lock") {
    const std::string gkey = object_key(base);
    auto it = guard_mutex_.find(gkey);
    if (it != guard_mutex_.end() && (m == "unlock" || m == "release")) {
      return release(std::move(in), it->second.lock.key, it->second.lock.display, it->second.kind,
                     loc, gkey);
    }
    if (it != guard_mutex_.end() && m == "lock") {
      HeldLock l = it->second.lock;
      l.acquired = loc;
      return acquire(std::move(in), l, it->second.order_key, it->second.kind, true, gkey);
    }
  }

  if (!is_null(base) && base_type != "tether::ThreadLocker") in = expr(base, std::move(in));
  walk_args(select_case ? 1 : 0);

  // Fiber and thread entry points.
  auto arg = [&](int i) { return clang_Cursor_getArgument(c, i); };
  std::string locker_key = is_null(base) ? std::string() : object_key(base);
  if (locker_key.empty() && base_type == "tether::ThreadLocker") {
    // A locker that is not a variable (ThreadLocker::make("x").go(...)): a
    // thread of its own, named after the expression and where it appears.
    const SourceLoc at = location_of(base);
    locker_key = "expr:" + at.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  }
  const std::string locker_display = is_null(base) ? std::string() : ctx_.text.spelling(base);
  if (q == "tether::go" && nargs >= 1) {
    spawn(EntryKind::pool_fiber, c, arg(0), {}, {});
  } else if (q == "tether::ThreadLocker::go" && nargs >= 1 && !locker_key.empty()) {
    spawn(EntryKind::locker_fiber, c, arg(0), locker_key, locker_display);
  } else if (q == "tether::ThreadLocker::call" && nargs >= 1 && !locker_key.empty()) {
    spawn(EntryKind::locker_call, c, arg(0), locker_key, locker_display);
  } else if (q == "tether::run" && nargs >= 1) {
    spawn(EntryKind::run_main, c, arg(0), "call:tether::ThreadLocker::main",
          "ThreadLocker::main()");
  } else if ((q == "std::thread::thread" || q == "std::jthread::jthread" || q == "std::async") &&
             nargs >= 1) {
    for (int i = 0; i < nargs; ++i) {
      if (callable_body(arg(i)) >= 0) {
        spawn(EntryKind::plain_thread, c, arg(i), {}, {});
        break;
      }
    }
  } else if (clang_getCursorKind(decl) != CXCursor_Constructor) {
    // A callable given to a constructor (tether::Task, std::function) is
    // stored, not run. Callables handed to other functions (std::for_each, a select case's
    // handler, a helper taking a callback) are assumed to run right there.
    for (int i = 0; i < nargs; ++i) {
      const int target = callable_body(arg(i));
      if (target < 0) continue;
      CallSite edge;
      edge.loc = location_of(arg(i));
      edge.callee = "lambda";
      edge.target = target;
      record_call(std::move(edge), in);
    }
    if (m == "operator()") {  // f() on a lambda variable, or [&]{...}()
      for (CXCursor k : children(c)) {
        const int target = callable_body(k);
        if (target < 0 || target == body_) continue;
        CallSite edge;
        edge.loc = loc;
        edge.callee = "lambda";
        edge.target = target;
        record_call(std::move(edge), in);
        break;
      }
    }
  }
  if (q == "tether::lock_os_thread") ctx_.body_calls_lock_os_thread[body_] = true;

  // The call itself (recorded with the locks held before it takes effect).
  CallSite cs;
  cs.loc = loc;
  cs.callee = q;
  cs.target_usr = to_string(clang_getCursorUSR(decl));
  if (auto it = ctx_.usr_index.find(cs.target_usr); it != ctx_.usr_index.end())
    cs.target = it->second;
  cs.blocking = ctx_.blocking_reason(q, decl);
  if (!q.empty()) record_call(std::move(cs), in);

  // Lock operations.
  if (q == "std::lock") {
    for (int i = 0; i < nargs; ++i) {
      CXCursor a = arg(i);
      const std::string key = object_key(a);
      if (key.empty()) continue;
      in = acquire(std::move(in), HeldLock{key, ctx_.text.spelling(a), loc}, key, LockKind::mutex,
                   false, {}, i == 0);
    }
    return in;
  }
  const LockOp op = classify_lock(c, q);
  if (op.op == LockOp::none) return in;
  const std::string order_key =
      op.kind == LockKind::read ? op.key.substr(0, op.key.size() - 2) : op.key;
  switch (op.op) {
    case LockOp::acquire:
      return acquire(std::move(in), HeldLock{op.key, op.display, loc}, order_key, op.kind, false,
                     {});
    case LockOp::release:
      return release(std::move(in), op.key, op.display, op.kind, loc);
    case LockOp::try_acquire:
      // Handled by if_stmt() when it is the condition; elsewhere the outcome
      // is unknown, so this body's use of the lock is not judged.
      if (!clang_equalCursors(c, if_cond_call_)) untracked_keys_.insert(op.key);
      return in;
    default:
      return in;
  }
}

States FlowWalker::var_decl(CXCursor c, States in) {
  const std::string type = record_name(clang_getCursorType(c));
  const std::string key = to_string(clang_getCursorUSR(c));
  std::vector<CXCursor> inits;
  for (CXCursor k : children(c))
    if (!is_ref_kind(clang_getCursorKind(k)) && clang_getCursorKind(k) != CXCursor_AnnotateAttr)
      inits.push_back(k);

  const bool guard = type == "std::lock_guard" || type == "std::scoped_lock" ||
                     type == "std::unique_lock" || type == "std::shared_lock";
  if (!guard) {
    for (CXCursor k : inits) in = expr(k, std::move(in));
    if (type == "tether::Chan" || type == "tether::ThreadLocker") {
      const bool is_static = clang_Cursor_getStorageClass(c) == CX_SC_Static;
      ctx_.register_object(c, key, is_static ? -1 : body_);
    }
    return in;
  }
  CXCursor ctor = inits.empty() ? clang_getNullCursor() : find_call(inits.back());
  if (is_null(ctor)) return in;
  const int nargs = std::max(0, clang_Cursor_getNumArguments(ctor));
  if (nargs == 0) return in;
  const SourceLoc loc = location_of(c);
  std::string tag;  // defer_lock / try_to_lock / adopt_lock
  if (nargs >= 2) {
    const std::string t =
        record_name(clang_getCursorType(clang_Cursor_getArgument(ctor, nargs - 1)));
    if (t == "std::defer_lock_t" || t == "std::try_to_lock_t" || t == "std::adopt_lock_t") tag = t;
  }
  const int mutexes = type == "std::scoped_lock" ? nargs - (tag.empty() ? 0 : 1) : 1;
  for (int i = 0; i < mutexes; ++i) {
    CXCursor a = clang_Cursor_getArgument(ctor, i);
    const std::string mtype = record_name(clang_getCursorType(a));
    std::string mkey = object_key(a);
    if (mkey.empty()) continue;
    const bool read = type == "std::shared_lock";
    LockKind kind = read ? LockKind::read : LockKind::mutex;
    if (mtype == "std::recursive_mutex" || mtype == "std::recursive_timed_mutex")
      kind = LockKind::recursive;
    const std::string order_key = mkey;
    if (read) mkey += "#r";
    HeldLock l{mkey, ctx_.text.spelling(a), loc};
    guard_mutex_[key] = GuardInfo{l, order_key, kind};
    if (tag == "std::defer_lock_t") continue;
    if (tag == "std::try_to_lock_t") {
      untracked_keys_.insert(mkey);
      continue;
    }
    if (tag == "std::adopt_lock_t") {  // ownership moves from a manual lock() to the guard
      for (FlowState& s : in)
        for (Held& h : s.held)
          if (h.lock.key == mkey && !h.raii) {
            h.raii = true;
            h.scope = scope_;
            h.guard = key;
          }
      continue;
    }
    if (mtype.starts_with("std::")) {
      CallSite cs;
      cs.loc = loc;
      cs.callee = type;
      cs.blocking =
          fmt::format("{} locks {} '{}', which blocks the OS thread", type, mtype, l.display);
      record_call(std::move(cs), in);
    }
    in = acquire(std::move(in), l, order_key, kind, true, key, i == 0);
  }
  return in;
}

}  // namespace tether::lint
