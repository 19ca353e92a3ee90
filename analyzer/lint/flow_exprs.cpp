// FlowWalker: expressions, calls, declarations and the lock model.
#include <algorithm>

#include <fmt/format.h>

#include "lint/flow_walker.h"

namespace tether::lint {
namespace {

std::string method_of(const std::string& q) {
  const auto p = q.rfind("::");
  return p == std::string::npos ? q : q.substr(p + 2);
}

// The lockable kind of a type name; nullopt-like `false` when not a lock.
bool lock_kind_of(const std::string& t, LockKind& kind, bool& is_std) {
  is_std = t.starts_with("std::");
  if (t == "tether::Mutex" || t == "tether::RWMutex" || t == "std::mutex" ||
      t == "std::timed_mutex" || t == "std::shared_mutex" || t == "std::shared_timed_mutex") {
    kind = LockKind::mutex;
    return true;
  }
  if (t == "std::recursive_mutex" || t == "std::recursive_timed_mutex") {
    kind = LockKind::recursive;
    return true;
  }
  return false;
}

}  // namespace

States FlowWalker::expr(CXCursor c, States in) {
  switch (clang_getCursorKind(c)) {
    case CXCursor_LambdaExpr:
      return in;  // a body of its own; its role is decided where it is passed
    case CXCursor_CallExpr:
      return call(c, std::move(in));
    case CXCursor_CXXThrowExpr: {
      for (CXCursor k : children(c)) in = expr(k, std::move(in));
      if (!try_throws_.empty()) {
        merge(*try_throws_.back(), in);
      } else {
        drop_scope(in, 0);
        exits_.emplace_back(location_of(c), in);
      }
      return {};
    }
    case CXCursor_DeclRefExpr:
    case CXCursor_MemberRefExpr:
      if (record_name(clang_getCursorType(c)) == "tether::Chan") {
        // A channel used as a value (copied, passed on): others may use it.
        chan_op(ChanOpKind::escape, object_key(c), c);
        return in;
      }
      break;
    default:
      if (clang_getCursorKind(c) >= CXCursor_FirstStmt &&
          clang_getCursorKind(c) <= CXCursor_LastStmt)
        return stmt(c, std::move(in));
      break;
  }
  for (CXCursor k : children(c)) in = expr(k, std::move(in));
  return in;
}

FlowWalker::LockOp FlowWalker::classify_lock(CXCursor call, const std::string& q) const {
  LockOp op;
  CXCursor base = member_call_base(call);
  if (is_null(base)) return op;
  const std::string type = record_name(clang_getCursorType(base));
  const std::string m = method_of(q);
  op.key = object_key(base);
  op.display = ctx_.text.spelling(base);
  if (op.key.empty()) return op;
  if (type == "tether::ThreadLocker") {
    op.kind = LockKind::locker;
    if (m == "lock") op.op = LockOp::acquire;
    if (m == "unlock") op.op = LockOp::release;
    return op;
  }
  bool is_std = false;
  if (!lock_kind_of(type, op.kind, is_std)) return op;
  op.std_mutex = is_std;
  if (m == "lock")
    op.op = LockOp::acquire;
  else if (m == "unlock")
    op.op = LockOp::release;
  else if (m == "try_lock" || m == "try_lock_for" || m == "try_lock_until")
    op.op = LockOp::try_acquire;
  else if (m == "rlock" || m == "lock_shared")
    op.op = LockOp::acquire, op.kind = LockKind::read;
  else if (m == "runlock" || m == "unlock_shared")
    op.op = LockOp::release, op.kind = LockKind::read;
  else if (m == "try_rlock" || m.starts_with("try_lock_shared"))
    op.op = LockOp::try_acquire, op.kind = LockKind::read;
  if (op.kind == LockKind::read) op.key += "#r";
  return op;
}

int FlowWalker::callable_body(CXCursor arg) const {
  CXCursor c = strip(arg);
  for (int depth = 0; depth < 8; ++depth) {
    switch (clang_getCursorKind(c)) {
      case CXCursor_LambdaExpr:
        return ctx_.lambda_body(c);
      case CXCursor_DeclRefExpr: {
        CXCursor d = clang_getCursorReferenced(c);
        const CXCursorKind dk = clang_getCursorKind(d);
        if (dk == CXCursor_FunctionDecl || dk == CXCursor_CXXMethod) {
          auto it = ctx_.usr_index.find(to_string(clang_getCursorUSR(d)));
          return it == ctx_.usr_index.end() ? -1 : it->second;
        }
        if (dk != CXCursor_VarDecl) return -1;
        // A lambda stored in a variable: follow it to the initializer.
        std::vector<CXCursor> kids = children(d);
        if (kids.empty()) return -1;
        c = strip(kids.back());
        if (clang_getCursorKind(c) != CXCursor_LambdaExpr) return -1;
        continue;
      }
      case CXCursor_UnaryOperator:
      case CXCursor_UnexposedExpr:
      case CXCursor_CallExpr: {  // &f, Task(lambda), std::function(lambda)
        std::vector<CXCursor> kids = children(c);
        if (kids.size() != 1) return -1;
        c = strip(kids.front());
        continue;
      }
      default:
        return -1;
    }
  }
  return -1;
}

void FlowWalker::spawn(EntryKind kind, CXCursor call, CXCursor callable,
                       const std::string& locker_key, const std::string& locker_display) {
  Entry e;
  e.kind = kind;
  e.body = callable_body(callable);
  e.spawner = body_;
  e.site = location_of(call);
  e.locker_key = locker_key;
  e.locker_display = locker_display;
  e.multi = loop_depth_ > 0;
  if (!locker_key.empty()) {
    Locker& l = ctx_.model.lockers[locker_key];
    if (l.display.empty()) l.display = locker_display;
    if (kind == EntryKind::locker_call) {
      ++l.call_sites;
    } else if (kind == EntryKind::run_main) {
      l.fiber1 = true;
    } else {
      l.go_sites += e.multi ? 2 : 1;
    }
    l.sites.emplace_back(kind == EntryKind::locker_call ? "call()"
                         : kind == EntryKind::run_main  ? "fiber 1"
                         : e.multi                      ? "go (in a loop)"
                                                        : "go",
                         e.site);
  }
  if (e.body >= 0) ctx_.model.entries.push_back(e);
}

void FlowWalker::chan_op(ChanOpKind kind, const std::string& key, CXCursor at) {
  if (key.empty()) return;
  // Loops are walked more than once; keep the first (source-order) record.
  const SourceLoc loc = location_of(at);
  auto& ops = ctx_.model.bodies[body_].chan_ops;
  for (const ChanOp& op : ops)
    if (op.loc == loc && op.kind == kind && op.key == key) return;
  ops.push_back(ChanOp{kind, key, loc, order_++});
}

void FlowWalker::record_call(CallSite cs, const States& at) {
  auto add = [](std::vector<HeldLock>& v, const HeldLock& h) {
    for (const HeldLock& x : v)
      if (x.key == h.key) return;
    v.push_back(h);
  };
  for (const FlowState& s : at)
    for (const Held& h : s.held)
      add(h.kind == LockKind::locker ? cs.lockers_held : cs.locks_held, h.lock);
  cs.in_loop = loop_depth_ > 0;
  if (!at.empty()) {
    for (const std::string& r : at.front().released) {
      if (std::all_of(at.begin(), at.end(),
                      [&](const FlowState& s) { return s.released.count(r); }))
        cs.lockers_released.push_back(r);
    }
  }
  // Loops are walked more than once: merge repeated visits of one call.
  for (CallSite& old : ctx_.model.bodies[body_].calls) {
    if (old.loc != cs.loc || old.callee != cs.callee || old.target != cs.target) continue;
    for (const HeldLock& h : cs.lockers_held) add(old.lockers_held, h);
    for (const HeldLock& h : cs.locks_held) add(old.locks_held, h);
    std::erase_if(old.lockers_released, [&](const std::string& r) {
      return std::find(cs.lockers_released.begin(), cs.lockers_released.end(), r) ==
             cs.lockers_released.end();
    });
    return;
  }
  ctx_.model.bodies[body_].calls.push_back(std::move(cs));
}

States FlowWalker::acquire(States in, const HeldLock& l, const std::string& order_key,
                           LockKind kind, bool raii, const std::string& guard, bool order_pairs) {
  acquired_keys_.insert(l.key);
  Body& body = ctx_.model.bodies[body_];
  if (kind == LockKind::locker) {
    Locker& lk = ctx_.model.lockers[l.key];
    if (lk.display.empty()) lk.display = l.display;
    ++lk.lock_sites;
    lk.sites.emplace_back("lock()", l.acquired);
  } else {
    HeldLock ol{order_key, l.display, l.acquired};
    if (std::none_of(body.acquires.begin(), body.acquires.end(),
                     [&](const Acquire& a) { return a.lock.key == order_key; }))
      body.acquires.push_back(Acquire{ol});
  }
  for (FlowState& s : in) {
    if (kind == LockKind::locker) {
      for (const Held& h : s.held) {
        if (h.kind != LockKind::locker) continue;
        misuse(l.key, l.acquired,
               fmt::format("ThreadLocker::lock() on '{}' while this fiber is already locked to "
                           "'{}' (tether raises misuse_error)",
                           l.display, h.lock.display),
               {Note{h.lock.acquired,
                     h.raii ? fmt::format("the fiber starts locked to '{}' here", h.lock.display)
                            : fmt::format("'{}' locked here", h.lock.display)}},
               false, false);
        break;
      }
      s.released.erase(l.key);
    } else if (kind == LockKind::mutex) {
      for (const Held& h : s.held) {
        if (h.lock.key != l.key) continue;
        const bool same = h.lock.acquired == l.acquired;
        misuse(l.key, l.acquired,
               same ? fmt::format("'{}' is locked again by the next loop iteration while still "
                                  "held; a non-recursive lock waits for itself",
                                  l.display)
                    : fmt::format("'{}' is locked twice on this path; a non-recursive lock "
                                  "waits for itself",
                                  l.display),
               same ? std::vector<Note>{}
                    : std::vector<Note>{Note{h.lock.acquired, "first locked here"}},
               false, false);
        double_locked_.insert(l.key);
        break;
      }
    }
    if (order_pairs && kind != LockKind::locker) {
      for (const Held& h : s.held) {
        if (h.kind == LockKind::locker || h.order_key == order_key) continue;
        HeldLock first{h.order_key, h.lock.display, h.lock.acquired};
        HeldLock second{order_key, l.display, l.acquired};
        bool dup = false;
        for (const auto& [a, b] : body.order_pairs)
          dup = dup || (a.key == first.key && b.key == second.key && b.acquired == second.acquired);
        if (!dup) body.order_pairs.emplace_back(first, second);
      }
    }
    Held h;
    h.lock = l;
    h.order_key = order_key;
    h.kind = kind;
    h.raii = raii;
    h.scope = scope_;
    h.guard = guard;
    s.held.push_back(std::move(h));
  }
  return in;
}

States FlowWalker::release(States in, const std::string& key, const std::string& display,
                           LockKind kind, const SourceLoc& at, const std::string& guard) {
  if (guard.empty()) released_keys_.insert(key);
  for (FlowState& s : in) {
    auto it = std::find_if(s.held.rbegin(), s.held.rend(), [&](const Held& h) {
      return guard.empty() ? h.lock.key == key : h.guard == guard;
    });
    if (it != s.held.rend()) {
      s.held.erase(std::next(it).base());
      if (kind == LockKind::locker) s.released.insert(key);
      continue;
    }
    if (!guard.empty()) continue;  // unique_lock::unlock() of a deferred lock: not ours to judge
    if (kind == LockKind::locker) s.released.insert(key);
    misuse(key, at,
           fmt::format("'{}' is {} here but is not held on this path", display,
                       kind == LockKind::locker ? "unlocked" : "released"),
           {}, true, false);
  }
  return in;
}

}  // namespace tether::lint
