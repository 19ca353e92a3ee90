#include "lint/flow_walker.h"

#include <algorithm>

#include <fmt/format.h>

#include "lint/rules.h"

namespace tether::lint {
namespace {

constexpr std::size_t kMaxStates = 32;

bool starts_with_else(const std::string& text, std::size_t pos) {
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';') {
      ++pos;
    } else if (text.compare(pos, 2, "//") == 0) {
      pos = text.find('\n', pos);
      if (pos == std::string::npos) return false;
    } else if (text.compare(pos, 2, "/*") == 0) {
      pos = text.find("*/", pos);
      if (pos == std::string::npos) return false;
      pos += 2;
    } else {
      return text.compare(pos, 4, "else") == 0 &&
             (pos + 4 >= text.size() ||
              !(std::isalnum(static_cast<unsigned char>(text[pos + 4])) || text[pos + 4] == '_'));
    }
  }
  return false;
}

bool is_true_literal(CXCursor c) {
  c = strip(c);
  const CXCursorKind k = clang_getCursorKind(c);
  if (k != CXCursor_CXXBoolLiteralExpr && k != CXCursor_IntegerLiteral) return false;
  CXEvalResult r = clang_Cursor_Evaluate(c);
  if (!r) return false;
  const bool yes =
      clang_EvalResult_getKind(r) == CXEval_Int && clang_EvalResult_getAsLongLong(r) != 0;
  clang_EvalResult_dispose(r);
  return yes;
}

bool is_stmt_kind(CXCursorKind k) {
  return k >= CXCursor_FirstStmt && k <= CXCursor_LastStmt;
}

std::string describe(const Held& h) {
  return fmt::format("'{}'", h.lock.display);
}

}  // namespace

FlowWalker::FlowWalker(BuildContext& ctx, int body) : ctx_(ctx), body_(body) {}

void FlowWalker::merge(States& into, const States& from) {
  for (const FlowState& s : from) {
    if (std::find(into.begin(), into.end(), s) == into.end() && into.size() < kMaxStates)
      into.push_back(s);
  }
}

void FlowWalker::drop_scope(States& states, int scope) const {
  for (FlowState& s : states)
    std::erase_if(s.held, [&](const Held& h) { return h.raii && h.scope >= scope; });
}

void FlowWalker::run(CXCursor cursor) {
  CXCursor body = clang_getNullCursor();
  for (CXCursor k : children(cursor))
    if (clang_getCursorKind(k) == CXCursor_CompoundStmt) body = k;
  if (is_null(body)) return;
  // A fiber started by locker.go() (or tether::run's fiber 1) starts locked to
  // its locker; model that as a lock held by the caller (never reported as a
  // leak, but a second lock() is).
  FlowState init;
  for (const Entry& e : ctx_.model.entries) {
    if (e.body != body_ || e.locker_key.empty() || e.kind == EntryKind::locker_call) continue;
    Held h;
    h.lock = HeldLock{e.locker_key, e.locker_display, e.site};
    h.order_key = e.locker_key;
    h.kind = LockKind::locker;
    h.raii = true;
    h.scope = 0;
    init.held.push_back(std::move(h));
    entry_locker_ = e.locker_key;
    break;
  }
  States out = stmt(body, States{init});
  const SourceLoc end = location_of(clang_getRangeEnd(clang_getCursorExtent(body)));
  finish(out, end);
}

void FlowWalker::finish(const States& normal_exit, const SourceLoc& end) {
  std::vector<std::pair<SourceLoc, States>> exits = exits_;
  exits.emplace_back(end, normal_exit);
  std::set<SourceLoc> reported;
  const std::string& fn = ctx_.model.bodies[body_].name;
  for (const auto& [where, states] : exits) {
    for (const FlowState& s : states) {
      for (const Held& h : s.held) {
        // A locker fiber that ends locked to its own locker is as it started.
        if (h.raii || reported.count(h.lock.acquired) || h.lock.key == entry_locker_ ||
            double_locked_.count(h.lock.key))
          continue;
        reported.insert(h.lock.acquired);
        const bool is_return = !(where == end);
        misuse(h.lock.key, h.lock.acquired,
               fmt::format("{} is {} here but not released on {} path out of '{}'", describe(h),
                           h.kind == LockKind::locker ? "locked" : "acquired",
                           is_return ? "a" : "the fall-through", fn),
               {Note{where, is_return ? "the path leaves the function here with the lock held"
                                      : "the function ends here with the lock held"}},
               false, true);
      }
    }
  }
  // Emit the findings whose conditions hold for the whole body.
  std::set<std::pair<SourceLoc, std::string>> seen;
  for (PendingMisuse& p : pending_) {
    if (untracked_keys_.count(p.key)) continue;
    if (p.needs_acquire && !acquired_keys_.count(p.key)) continue;
    if (p.needs_release && !released_keys_.count(p.key)) continue;
    if (!seen.insert({p.diag.loc, p.diag.message}).second) continue;
    ctx_.model.diagnostics.push_back(std::move(p.diag));
  }
}

void FlowWalker::misuse(const std::string& key, const SourceLoc& at, std::string message,
                        std::vector<Note> notes, bool needs_acquire, bool needs_release) {
  Diagnostic d;
  d.rule = std::string(kLockMisuse);
  d.loc = at;
  d.message = std::move(message);
  d.notes = std::move(notes);
  pending_.push_back(PendingMisuse{key, needs_acquire, needs_release, std::move(d)});
}

States FlowWalker::stmt(CXCursor c, States in) {
  switch (clang_getCursorKind(c)) {
    case CXCursor_CompoundStmt:
      return compound(c, std::move(in));
    case CXCursor_IfStmt:
      return if_stmt(c, std::move(in));
    case CXCursor_WhileStmt: {
      std::vector<CXCursor> k = children(c);
      if (k.empty()) return in;
      std::vector<CXCursor> header(k.begin(), k.end() - 1);
      const bool infinite = header.size() == 1 && is_true_literal(header.back());
      return loop(header, k.back(), std::move(in), infinite, false);
    }
    case CXCursor_DoStmt: {
      std::vector<CXCursor> k = children(c);
      if (k.empty()) return in;
      std::vector<CXCursor> header(k.begin() + 1, k.end());
      const bool infinite = header.size() == 1 && is_true_literal(header.back());
      return loop(header, k.front(), std::move(in), infinite, true);
    }
    case CXCursor_ForStmt: {
      std::vector<CXCursor> k = children(c);
      if (k.empty()) return in;
      std::vector<CXCursor> header(k.begin(), k.end() - 1);
      return loop(header, k.back(), std::move(in), header.empty(), false);
    }
    case CXCursor_CXXForRangeStmt:
      return range_for(c, std::move(in));
    case CXCursor_SwitchStmt:
      return switch_stmt(c, std::move(in));
    case CXCursor_CaseStmt:
    case CXCursor_DefaultStmt: {
      if (!switch_entries_.empty()) merge(in, *switch_entries_.back());
      std::vector<CXCursor> k = children(c);
      for (CXCursor child : k) {
        const CXCursorKind ck = clang_getCursorKind(child);
        if (clang_getCursorKind(c) == CXCursor_CaseStmt && child.data[0] == k.front().data[0] &&
            !is_stmt_kind(ck))
          continue;  // the case value
        in = stmt(child, std::move(in));
      }
      return in;
    }
    case CXCursor_BreakStmt:
      if (!loops_.empty()) {
        drop_scope(in, loops_.back()->scope + 1);
        merge(loops_.back()->breaks, in);
      }
      return {};
    case CXCursor_ContinueStmt:
      if (!loops_.empty()) {
        drop_scope(in, loops_.back()->scope + 1);
        merge(loops_.back()->continues, in);
      }
      return {};
    case CXCursor_ReturnStmt: {
      for (CXCursor k : children(c)) in = expr(k, std::move(in));
      drop_scope(in, 0);
      exits_.emplace_back(location_of(c), in);
      return {};
    }
    case CXCursor_CXXTryStmt:
      return try_stmt(c, std::move(in));
    case CXCursor_DeclStmt:
      for (CXCursor k : children(c))
        if (clang_getCursorKind(k) == CXCursor_VarDecl) in = var_decl(k, std::move(in));
      return in;
    case CXCursor_LabelStmt:
      for (CXCursor k : children(c)) in = stmt(k, std::move(in));
      return in;
    case CXCursor_NullStmt:
    case CXCursor_GotoStmt:
      return in;
    default:
      if (is_stmt_kind(clang_getCursorKind(c))) {  // other statements: their parts in order
        for (CXCursor k : children(c)) in = stmt(k, std::move(in));
        return in;
      }
      return expr(c, std::move(in));
  }
}

States FlowWalker::compound(CXCursor c, States in) {
  ++scope_;
  for (CXCursor k : children(c)) in = stmt(k, std::move(in));
  drop_scope(in, scope_);
  --scope_;
  return in;
}

States FlowWalker::if_stmt(CXCursor c, States in) {
  std::vector<CXCursor> k = children(c);
  if (k.size() < 2) return in;
  bool has_else = false;
  if (k.size() >= 3) {
    CXSourceRange r = clang_getCursorExtent(k[k.size() - 2]);
    const SourceLoc l = location_of(clang_getRangeEnd(r));
    has_else =
        starts_with_else(ctx_.text.file(l.file), SourceText::offset_of(clang_getRangeEnd(r)));
  }
  const std::size_t then_i = has_else ? k.size() - 2 : k.size() - 1;
  ++scope_;  // the condition's variables live in the if's own scope
  CXCursor cond = strip(k[then_i - 1]);
  bool negated = false;
  if (clang_getCursorKind(cond) == CXCursor_UnaryOperator) {
    std::vector<CXCursor> ck = children(cond);
    if (ck.size() == 1 && ctx_.text.spelling(cond).starts_with("!")) {
      negated = true;
      cond = strip(ck.front());
    }
  }
  const CXCursor saved_cond = if_cond_call_;
  if_cond_call_ = cond;
  for (std::size_t i = 0; i < then_i; ++i) {
    if (clang_getCursorKind(k[i]) == CXCursor_DeclStmt ||
        clang_getCursorKind(k[i]) == CXCursor_VarDecl)
      in = clang_getCursorKind(k[i]) == CXCursor_VarDecl ? var_decl(k[i], std::move(in))
                                                         : stmt(k[i], std::move(in));
    else
      in = expr(k[i], std::move(in));
  }
  // `if (m.try_lock())` / `if (!m.try_lock())`: the lock is held in one branch only.
  if_cond_call_ = saved_cond;
  States then_in = in, else_in = in;
  if (clang_getCursorKind(cond) == CXCursor_CallExpr) {
    const std::string q = qualified_name(clang_getCursorReferenced(cond));
    LockOp op = classify_lock(cond, q);
    if (op.op == LockOp::try_acquire && !op.key.empty()) {
      HeldLock l{op.key, op.display, location_of(cond)};
      States& held_branch = negated ? else_in : then_in;
      held_branch = acquire(std::move(held_branch), l, op.key, op.kind, false, {});
    }
  }
  States out = stmt(k[then_i], std::move(then_in));
  if (has_else) {
    merge(out, stmt(k.back(), std::move(else_in)));
  } else {
    merge(out, else_in);
  }
  drop_scope(out, scope_);
  --scope_;
  return out;
}

States FlowWalker::loop(const std::vector<CXCursor>& header, CXCursor body, States in,
                        bool infinite, bool body_first) {
  auto walk_header = [&](States s) {
    for (CXCursor h : header) s = stmt(h, std::move(s));
    return s;
  };
  ++scope_;
  Loop l{{}, {}, scope_};
  loops_.push_back(&l);
  ++loop_depth_;
  States cur = body_first ? std::move(in) : walk_header(std::move(in));
  States exit;
  if (!infinite && !body_first) merge(exit, cur);
  for (int iter = 0; iter < 2 && !cur.empty(); ++iter) {
    cur = stmt(body, std::move(cur));
    merge(cur, l.continues);
    l.continues.clear();
    if (body_first || iter > 0 || !header.empty()) cur = walk_header(std::move(cur));
    if (!infinite) merge(exit, cur);
  }
  --loop_depth_;
  loops_.pop_back();
  merge(exit, l.breaks);
  drop_scope(exit, scope_);
  --scope_;
  return exit;
}

States FlowWalker::range_for(CXCursor c, States in) {
  std::vector<CXCursor> k = children(c);
  if (k.size() < 2) return in;
  CXCursor range = k[k.size() - 2];
  if (record_name(clang_getCursorType(range)) == "tether::Chan") {
    chan_op(ChanOpKind::recv, object_key(range), range);
  } else {
    in = expr(range, std::move(in));
  }
  return loop({}, k.back(), std::move(in), false, false);
}

States FlowWalker::switch_stmt(CXCursor c, States in) {
  std::vector<CXCursor> k = children(c);
  if (k.empty()) return in;
  ++scope_;
  for (std::size_t i = 0; i + 1 < k.size(); ++i) in = stmt(k[i], std::move(in));
  Loop l{{}, {}, scope_};
  loops_.push_back(&l);  // `break` leaves the switch; `continue` goes to the enclosing loop
  Loop* outer = loops_.size() >= 2 ? loops_[loops_.size() - 2] : nullptr;
  States entry = in;
  switch_entries_.push_back(&entry);
  States out = stmt(k.back(), States{});
  switch_entries_.pop_back();
  loops_.pop_back();
  if (outer) merge(outer->continues, l.continues);
  merge(out, l.breaks);
  merge(out, in);  // no case matched (conservative when there is a default)
  drop_scope(out, scope_);
  --scope_;
  return out;
}

States FlowWalker::try_stmt(CXCursor c, States in) {
  std::vector<CXCursor> k = children(c);
  if (k.empty()) return in;
  States throws;
  try_throws_.push_back(&throws);
  States out = stmt(k.front(), in);
  try_throws_.pop_back();
  States handler_in = in;
  merge(handler_in, throws);
  for (std::size_t i = 1; i < k.size(); ++i) {
    States h = handler_in;
    for (CXCursor part : children(k[i])) {
      if (clang_getCursorKind(part) == CXCursor_CompoundStmt) h = stmt(part, std::move(h));
    }
    merge(out, h);
  }
  return out;
}

}  // namespace tether::lint
