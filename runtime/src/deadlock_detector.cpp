#include "deadlock_detector.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

namespace tether::detail {
namespace {

// One analysis of one graph: node indices are fibers [0, F), then plain
// threads blocked in call() [F, F + P) (g.plain_threads), then waker groups
// [F + P, F + P + G) (an object's or a pipe's possible wakers).
class Analysis {
 public:
  explicit Analysis(const WaitGraph& g)
      : g_(g), nf_(g.fibers.size()), gb_(nf_ + g.plain_threads.size()) {}

  DeadlockFinding run();

 private:
  struct Group {
    std::vector<std::size_t> members;  // fiber and plain thread indices
    bool external = false;             // a plain thread (or the outside) can act
  };
  struct Blame {                       // why fiber i waits for fiber j
    std::string via;                   // the node in between ("chan:3"), may be empty
    std::size_t next;
    std::string plain = {};            // after via: a plain thread in call() for next ("plain:1")
  };

  std::size_t fiber_ix(std::uint64_t id) const {
    const FiberNode* f = g_.fiber(id);
    return f ? static_cast<std::size_t>(f - g_.fibers.data()) : npos;
  }
  // The node index of plain thread `id` blocked in call() for a fiber that is
  // still there, else npos (not in call(), or acting again next).
  std::size_t plain_in_call(std::uint64_t id) const {
    const PlainThreadNode* p = g_.plain_thread(id);
    const std::size_t k = p ? static_cast<std::size_t>(p - g_.plain_threads.data()) : npos;
    return k == npos || plain_call_[k] == npos ? npos : nf_ + k;
  }
  std::size_t group_for_object(const ObjectNode& o);
  std::size_t group_for_fds(const FiberNode& f);
  std::size_t make_group(std::vector<std::uint64_t> base, std::uint64_t watermark,
                         bool external);
  std::size_t occupant(std::uint64_t thread) const;
  void add_dependencies(std::size_t i);
  void propagate();
  std::vector<std::size_t> object_waits(std::size_t i) const;  // objects fiber i is queued on
  std::vector<std::size_t> writers_waiting(const ObjectNode& o) const;
  static bool counterpart_is_self(const FiberNode& f, const ObjectNode& chan);
  bool plain_waker(const ObjectNode& o) const;  // a plain thread in call() among its wakers
  void build_blame();
  Deadlock classify(const std::vector<std::size_t>& component);

  static constexpr std::size_t npos = ~std::size_t{0};
  const WaitGraph& g_;
  const std::size_t nf_;
  const std::size_t gb_;  // the first group's node index
  std::vector<Group> groups_;
  std::unordered_map<std::uint64_t, std::size_t> object_group_;
  std::vector<bool> always_;
  std::vector<std::vector<std::size_t>> deps_;  // per fiber: fibers or gb_+group
  std::vector<bool> live_;                      // fibers, plain threads, groups
  std::vector<std::size_t> plain_call_;         // per plain thread: its call fiber (npos: gone)
  std::vector<std::vector<Blame>> blame_;
  std::vector<std::vector<std::size_t>> queued_on_;          // per fiber: object indices
  std::unordered_map<std::uint64_t, std::size_t> occupant_;  // thread id -> fiber index
};

std::size_t Analysis::make_group(std::vector<std::uint64_t> base, std::uint64_t watermark,
                                 bool external) {
  Group grp;
  grp.external = external;
  std::set<std::uint64_t> members;
  std::set<std::size_t> plain;  // node indices
  for (std::uint64_t id : base) {
    if (id == 0) {
      grp.external = true;  // a plain thread we cannot tell apart used it
    } else if (is_plain_thread_id(id)) {
      // A plain thread can wake it unless it is blocked in call(): then
      // only once its call fiber finishes (a plain thread node that is live
      // exactly when that fiber is). Blocked in anything else, or running,
      // it may act: from outside.
      const std::size_t k = plain_in_call(id);
      if (k == npos) {
        grp.external = true;
      } else {
        plain.insert(k);
      }
    } else {
      members.insert(id);
    }
  }
  // Fibers started after the object by a member (or by someone we cannot
  // see any more) may have been handed it. Parents have smaller ids.
  for (const FiberNode& f : g_.fibers) {
    if (f.id < watermark || members.count(f.id)) continue;
    if (f.parent == 0 || members.count(f.parent) || !g_.fiber(f.parent)) members.insert(f.id);
  }
  for (std::uint64_t id : members) {
    const std::size_t ix = fiber_ix(id);
    if (ix != npos) grp.members.push_back(ix);
  }
  grp.members.insert(grp.members.end(), plain.begin(), plain.end());
  groups_.push_back(std::move(grp));
  return groups_.size() - 1;
}

std::size_t Analysis::group_for_object(const ObjectNode& o) {
  auto it = object_group_.find(o.id);
  if (it != object_group_.end()) return it->second;
  std::vector<std::uint64_t> base = o.state.users;
  base.insert(base.end(), o.state.senders.begin(), o.state.senders.end());
  base.insert(base.end(), o.state.receivers.begin(), o.state.receivers.end());
  base.insert(base.end(), o.state.holders.begin(), o.state.holders.end());
  if (o.creator) base.push_back(o.creator);
  const std::size_t gi = make_group(std::move(base), o.watermark, o.state.used_by_plain_thread);
  object_group_[o.id] = gi;
  return gi;
}

std::size_t Analysis::group_for_fds(const FiberNode& f) {
  std::vector<std::uint64_t> base = f.fd_users;
  if (f.fd_creator) base.push_back(f.fd_creator);
  return make_group(std::move(base), f.fd_watermark, false);
}

// The fiber occupying locked thread `thread` with a system call, if any.
std::size_t Analysis::occupant(std::uint64_t thread) const {
  auto it = occupant_.find(thread);
  return it == occupant_.end() ? npos : it->second;
}

std::vector<std::size_t> Analysis::object_waits(std::size_t i) const {
  std::vector<std::size_t> out = queued_on_[i];
  const FiberNode& f = g_.fibers[i];
  if (out.empty() && f.object_id) {
    if (const ObjectNode* o = g_.object(f.object_id))
      out.push_back(static_cast<std::size_t>(o - g_.objects.data()));
  }
  return out;
}

std::vector<std::size_t> Analysis::writers_waiting(const ObjectNode& o) const {
  std::vector<std::size_t> out;
  for (auto [fid, side] : o.state.waiting) {
    (void)side;
    const std::size_t w = fiber_ix(fid);
    if (w != npos && g_.fibers[w].reason == WaitReason::rwmutex_lock) out.push_back(w);
  }
  return out;
}

bool Analysis::counterpart_is_self(const FiberNode& f, const ObjectNode& c) {
  const bool sending = f.reason == WaitReason::chan_send;
  if (!sending && f.reason != WaitReason::chan_receive) return false;
  const auto& other = sending ? c.state.receivers : c.state.senders;
  return !other.empty() &&
         std::all_of(other.begin(), other.end(), [&](std::uint64_t x) { return x == f.id; });
}

bool Analysis::plain_waker(const ObjectNode& o) const {
  auto it = object_group_.find(o.id);
  if (it == object_group_.end()) return false;
  const auto& m = groups_[it->second].members;
  return std::any_of(m.begin(), m.end(), [&](std::size_t x) { return x >= nf_; });
}

void Analysis::add_dependencies(std::size_t i) {
  const FiberNode& f = g_.fibers[i];
  auto& deps = deps_[i];
  auto on_thread = [&](std::uint64_t thread) {
    const std::size_t s = occupant(thread);
    if (s == npos || s == i) {
      always_[i] = true;
    } else {
      deps.push_back(s);
    }
  };
  if (f.timed) {
    always_[i] = true;
    return;
  }
  switch (f.reason) {
    case WaitReason::running:
    case WaitReason::sleep:
      always_[i] = true;
      break;
    case WaitReason::runnable:
      if (f.locked_to) {
        on_thread(f.locked_to);
      } else {
        always_[i] = true;
      }
      break;
    case WaitReason::waiting_for_thread:
      if (f.object_id) {
        on_thread(f.object_id);
      } else {
        always_[i] = true;  // moving back to the pool
      }
      break;
    case WaitReason::syscall:
      if (f.peer_fd < 0 && f.fd_users.empty()) {
        always_[i] = true;  // the outside world can complete it
      } else {
        const std::size_t gi = group_for_fds(f);
        if (groups_[gi].external) {
          always_[i] = true;
        } else {
          deps.push_back(gb_ + gi);
        }
      }
      break;
    case WaitReason::join: {
      const std::size_t t = fiber_ix(f.object_id);
      if (t == npos) {
        always_[i] = true;
      } else {
        deps.push_back(t);
      }
      break;
    }
    case WaitReason::call: {
      bool any = false;
      for (std::size_t j = 0; j < nf_; ++j) {
        if (g_.fibers[j].is_call && g_.fibers[j].parent == f.id) {
          deps.push_back(j);
          any = true;
        }
      }
      if (!any) always_[i] = true;
      break;
    }
    case WaitReason::mutex_lock:
    case WaitReason::rwmutex_rlock:
    case WaitReason::rwmutex_lock: {
      bool any = false;
      for (std::size_t k : object_waits(i)) {
        const ObjectNode& o = g_.objects[k];
        if (o.state.used_by_plain_thread) {
          always_[i] = true;
          return;
        }
        // A reader queued behind a waiting writer goes after it (writers
        // never starve): it waits for that writer too.
        if (f.reason == WaitReason::rwmutex_rlock) {
          for (std::size_t w : writers_waiting(o)) {
            deps.push_back(w);
            any = true;
          }
        }
        for (std::uint64_t h : o.state.holders) {
          // A plain thread holding it can release it once it acts again: at
          // once unless it is blocked in call(), then when its call fiber can.
          const std::size_t hi = is_plain_thread_id(h) ? plain_in_call(h) : h ? fiber_ix(h) : npos;
          if (hi == npos) {
            always_[i] = true;  // a plain thread (or a finished fiber) holds it
            return;
          }
          deps.push_back(hi);
          any = true;
        }
      }
      if (!any) always_[i] = true;  // free now: the lock is being handed over
      break;
    }
    case WaitReason::chan_send:
    case WaitReason::chan_receive:
    case WaitReason::select:
    case WaitReason::cond_wait:
    case WaitReason::waitgroup_wait:
    case WaitReason::once_wait: {
      const auto objs = object_waits(i);
      if (objs.empty()) {
        always_[i] = true;
        return;
      }
      for (std::size_t k : objs) {
        const std::size_t gi = group_for_object(g_.objects[k]);
        if (groups_[gi].external) {
          always_[i] = true;
          return;
        }
        deps.push_back(gb_ + gi);
      }
      break;
    }
    case WaitReason::select_no_cases:
      break;  // never wakes
    case WaitReason::dead:
      always_[i] = true;  // not part of any deadlock
      break;
  }
}

void Analysis::propagate() {
  const std::size_t n = gb_ + groups_.size();
  std::vector<std::vector<std::size_t>> rev(n);
  for (std::size_t i = 0; i < nf_; ++i)
    for (std::size_t d : deps_[i]) rev[d].push_back(i);
  // A plain thread in call() can act once its call fiber can finish.
  for (std::size_t k = 0; k < plain_call_.size(); ++k)
    if (plain_call_[k] != npos) rev[plain_call_[k]].push_back(nf_ + k);
  for (std::size_t gi = 0; gi < groups_.size(); ++gi)
    for (std::size_t m : groups_[gi].members) rev[m].push_back(gb_ + gi);
  live_.assign(n, false);
  std::deque<std::size_t> q;
  for (std::size_t i = 0; i < nf_; ++i) {
    if (always_[i]) {
      live_[i] = true;
      q.push_back(i);
    }
  }
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    if (groups_[gi].external) {
      live_[gb_ + gi] = true;
      q.push_back(gb_ + gi);
    }
  }
  while (!q.empty()) {
    const std::size_t x = q.front();
    q.pop_front();
    for (std::size_t y : rev[x]) {
      if (!live_[y]) {
        live_[y] = true;
        q.push_back(y);
      }
    }
  }
}

void Analysis::build_blame() {
  blame_.assign(nf_, {});
  for (std::size_t i = 0; i < nf_; ++i) {
    if (live_[i]) continue;
    const FiberNode& f = g_.fibers[i];
    auto& out = blame_[i];
    auto add_group = [&](const std::string& via, std::size_t gi) {
      // Plain threads in call() first: through one, the cycle names it.
      for (std::size_t m : groups_[gi].members) {
        if (m < nf_) continue;
        const std::size_t c = plain_call_[m - nf_];
        if (c != npos && !live_[c])
          out.push_back({via, c, plain_node_id(g_.plain_threads[m - nf_].id)});
      }
      for (std::size_t m : groups_[gi].members)
        if (m < nf_ && m != i && !live_[m]) out.push_back({via, m});
    };
    switch (f.reason) {
      case WaitReason::runnable:
      case WaitReason::waiting_for_thread: {
        const std::uint64_t t = f.reason == WaitReason::runnable ? f.locked_to : f.object_id;
        const std::size_t s = occupant(t);
        if (s != npos) out.push_back({node_id("thread", t), s});
        break;
      }
      case WaitReason::syscall:
        for (std::size_t d : deps_[i])
          if (d >= gb_) add_group(node_id("syscall", f.thread), d - gb_);
        break;
      case WaitReason::join:
      case WaitReason::call:
        for (std::size_t d : deps_[i]) out.push_back({"", d});
        break;
      case WaitReason::mutex_lock:
      case WaitReason::rwmutex_rlock:
      case WaitReason::rwmutex_lock:
        for (std::size_t k : object_waits(i)) {
          const ObjectNode& o = g_.objects[k];
          if (f.reason == WaitReason::rwmutex_rlock) {
            for (std::size_t w : writers_waiting(o)) out.push_back({object_node_id(o), w});
          }
          for (std::uint64_t h : o.state.holders) {
            if (is_plain_thread_id(h)) {
              // Held by a plain thread in call(): the cycle runs through it
              // to its call fiber.
              const std::size_t k = plain_in_call(h);
              const std::size_t c = k == npos ? npos : plain_call_[k - nf_];
              if (c != npos && !live_[c]) out.push_back({object_node_id(o), c, plain_node_id(h)});
              continue;
            }
            const std::size_t hi = fiber_ix(h);
            if (hi != npos) out.push_back({object_node_id(o), hi});
          }
        }
        break;
      default:
        for (std::size_t k : object_waits(i)) {
          const ObjectNode& o = g_.objects[k];
          // Blocked on a channel whose other side only this fiber ever used:
          // it waits for itself (a server sending to its own request queue).
          // Not when a plain thread in call() used it too: the cycle runs
          // through that thread.
          if (o.kind == ObjectKind::chan && counterpart_is_self(f, o) && !plain_waker(o))
            out.push_back({object_node_id(o), i});
          auto it = object_group_.find(o.id);
          if (it != object_group_.end()) add_group(object_node_id(o), it->second);
        }
        break;
    }
  }
}

bool is_lock(const std::string& node) {
  return node.rfind("mutex:", 0) == 0 || node.rfind("rwmutex:", 0) == 0;
}
bool is_chan(const std::string& node) { return node.rfind("chan:", 0) == 0; }

Deadlock Analysis::classify(const std::vector<std::size_t>& comp) {
  Deadlock d;
  for (std::size_t i : comp) d.fibers.push_back(g_.fibers[i].id);
  std::sort(d.fibers.begin(), d.fibers.end());
  const std::set<std::size_t> in(comp.begin(), comp.end());

  // Find a cycle by walking blame edges (DFS with colours), else a chain.
  std::vector<int> colour(nf_, 0);
  std::vector<std::pair<std::size_t, const Blame*>> stack;  // fiber, its edge to next
  std::vector<std::string> cycle;
  auto dfs = [&](auto&& self, std::size_t u) -> bool {
    colour[u] = 1;
    for (const Blame& b : blame_[u]) {
      if (!in.count(b.next)) continue;
      stack.push_back({u, &b});
      if (colour[b.next] == 1) {
        // Found: from b.next's position on the stack to here.
        std::size_t start = 0;
        while (stack[start].first != b.next) ++start;
        for (std::size_t k = start; k < stack.size(); ++k) {
          cycle.push_back(node_id("fiber", g_.fibers[stack[k].first].id));
          if (!stack[k].second->via.empty()) cycle.push_back(stack[k].second->via);
          if (!stack[k].second->plain.empty()) cycle.push_back(stack[k].second->plain);
        }
        cycle.push_back(node_id("fiber", g_.fibers[b.next].id));
        return true;
      }
      if (colour[b.next] == 0 && self(self, b.next)) return true;
      stack.pop_back();
    }
    colour[u] = 2;
    return false;
  };
  for (std::size_t i : comp) {
    if (colour[i] == 0 && dfs(dfs, i)) break;
  }
  bool has_cycle = !cycle.empty();
  if (!has_cycle) {
    // A chain from the fiber that waits longest.
    std::size_t u = *std::min_element(comp.begin(), comp.end(), [&](auto a, auto b) {
      return g_.fibers[a].since_ns < g_.fibers[b].since_ns;
    });
    std::set<std::size_t> seen;
    while (u != npos && seen.insert(u).second) {
      cycle.push_back(node_id("fiber", g_.fibers[u].id));
      std::size_t next = npos;
      for (const Blame& b : blame_[u]) {
        if (!b.via.empty()) cycle.push_back(b.via);
        if (!b.plain.empty()) cycle.push_back(b.plain);
        next = b.next;
        break;
      }
      if (next == npos) {
        // The end of the chain: what it waits on.
        const FiberNode& f = g_.fibers[u];
        if (f.object_id && f.reason != WaitReason::join) {
          if (const ObjectNode* o = g_.object(f.object_id)) cycle.push_back(object_node_id(*o));
        }
      }
      u = next;
    }
  }
  d.nodes = cycle;

  // Kind.
  auto chan_of = [&](std::size_t i) -> const ObjectNode* {
    const FiberNode& f = g_.fibers[i];
    if (f.reason != WaitReason::chan_send && f.reason != WaitReason::chan_receive) return nullptr;
    const ObjectNode* o = g_.object(f.object_id);
    return o && o->kind == ObjectKind::chan ? o : nullptr;
  };
  bool syscall_on_shared = false, call_wait = false, self_request = false, reader_writer = false;
  for (std::size_t i : comp) {
    const FiberNode& f = g_.fibers[i];
    if (f.reason == WaitReason::syscall && f.thread) {
      // "call self": the system call waits for a fiber that itself waits in
      // call() (its call queued behind the blocked thread). Fibers merely
      // queued behind the thread in call(), which the system call does not
      // wait for, are its victims, not the cause: "shared-thread-syscall".
      for (const Blame& b : blame_[i])
        if (in.count(b.next) && g_.fibers[b.next].reason == WaitReason::call) call_wait = true;
      for (std::size_t j : comp) {
        const FiberNode& o = g_.fibers[j];
        if ((o.reason == WaitReason::runnable && o.locked_to == f.thread) ||
            (o.reason == WaitReason::waiting_for_thread && o.object_id == f.thread))
          syscall_on_shared = true;
      }
    }
    if (const ObjectNode* c = chan_of(i)) {
      if (counterpart_is_self(f, *c) && !plain_waker(*c)) self_request = true;
    }
    if (f.reason == WaitReason::rwmutex_rlock) {
      for (const Blame& b : blame_[i])
        if (in.count(b.next) && g_.fibers[b.next].reason == WaitReason::rwmutex_lock)
          reader_writer = true;
    }
  }
  const bool cycle_locks =
      has_cycle && std::all_of(cycle.begin(), cycle.end(), [](const std::string& n) {
        return n.rfind("fiber:", 0) == 0 || n.rfind("plain:", 0) == 0 || is_lock(n);
      });
  const bool cycle_chans =
      has_cycle && std::any_of(cycle.begin(), cycle.end(), [](auto& n) { return is_chan(n); });
  if (syscall_on_shared) {
    d.kind = call_wait ? "call-self" : "shared-thread-syscall";
  } else if (reader_writer) {
    d.kind = "rwmutex-reader-writer";
  } else if (cycle_locks) {
    d.kind = "lock-cycle";
  } else if (self_request) {
    d.kind = "self-request";
  } else if (cycle_chans) {
    d.kind = "channel-cycle";
  } else {
    d.kind = "orphan-wait";
  }

  // Why nothing outside the set can break it.
  std::string why;
  for (std::size_t i : comp) {
    const FiberNode& f = g_.fibers[i];
    std::vector<std::string> parts;
    for (const Blame& b : blame_[i]) {
      const std::string next = describe_node(g_, node_id("fiber", g_.fibers[b.next].id));
      if (b.plain.empty()) {
        parts.push_back(next);
        continue;
      }
      // Why the plain thread cannot: it waits in call() for `next`.
      std::string into;
      const PlainThreadNode* p = nullptr;
      for (const PlainThreadNode& x : g_.plain_threads)
        if (plain_node_id(x.id) == b.plain) p = &x;
      if (p && g_.thread(p->locker)) into = " into " + describe_node(g_, node_id("thread", p->locker));
      // Through a lock, the thread is its holder (through a channel, a user).
      const std::string holding = is_lock(b.via) ? "holding " + describe_node(g_, b.via) + ", " : "";
      parts.push_back(fmt::format("{} ({}waiting in call(){} for {})", describe_node(g_, b.plain),
                                  holding, into, next));
    }
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
    std::string line = fmt::format("fiber {} ({}) can only be woken by ", f.id, to_string(f.reason));
    if (parts.empty()) {
      line += "no fiber that exists";
    } else {
      for (std::size_t k = 0; k < parts.size(); ++k) line += (k ? ", " : "") + parts[k];
      line += parts.size() == 1 ? ", which is blocked here too" : ", all blocked here too";
    }
    if (!why.empty()) why += "; ";
    why += line;
  }
  d.explanation = why;
  return d;
}

DeadlockFinding Analysis::run() {
  plain_call_.clear();
  for (const PlainThreadNode& p : g_.plain_threads) plain_call_.push_back(fiber_ix(p.call_fiber));
  queued_on_.assign(nf_, {});
  for (std::size_t k = 0; k < g_.objects.size(); ++k) {
    for (auto [fid, send] : g_.objects[k].state.waiting) {
      (void)send;
      const std::size_t i = fiber_ix(fid);
      if (i != npos && (queued_on_[i].empty() || queued_on_[i].back() != k)) queued_on_[i].push_back(k);
    }
  }
  for (std::size_t j = 0; j < nf_; ++j) {
    const FiberNode& f = g_.fibers[j];
    if (f.reason != WaitReason::syscall || !f.thread) continue;
    const ThreadNode* t = g_.thread(f.thread);
    if (t && t->kind != "pool") occupant_[f.thread] = j;  // a pool thread hands its fibers over
  }
  always_.assign(nf_, false);
  deps_.assign(nf_, {});
  for (std::size_t i = 0; i < nf_; ++i) add_dependencies(i);
  propagate();
  build_blame();

  DeadlockFinding out;
  std::vector<std::size_t> dead;
  for (std::size_t i = 0; i < nf_; ++i)
    if (!live_[i]) dead.push_back(i);
  if (dead.empty()) return out;
  out.global = dead.size() == nf_;
  for (std::size_t i : dead) out.deadlocked.push_back(g_.fibers[i].id);

  // Components over blame edges (undirected).
  std::vector<std::size_t> parent(nf_);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (std::size_t i : dead)
    for (const Blame& b : blame_[i])
      if (!live_[b.next]) parent[find(i)] = find(b.next);
  std::map<std::size_t, std::vector<std::size_t>> comps;
  for (std::size_t i : dead) comps[find(i)].push_back(i);
  for (auto& [root, comp] : comps) {
    (void)root;
    out.deadlocks.push_back(classify(comp));
  }
  return out;
}

}  // namespace

DeadlockFinding find_deadlocks(const WaitGraph& g) { return Analysis(g).run(); }

std::string describe_node(const WaitGraph& g, const std::string& node) {
  const auto colon = node.find(':');
  if (colon == std::string::npos) return node;
  const std::string kind = node.substr(0, colon);
  const std::uint64_t id = std::stoull(node.substr(colon + 1));
  if (kind == "fiber") {
    const FiberNode* f = g.fiber(id);
    if (f && !f->name.empty()) return fmt::format("fiber {} \"{}\"", id, f->name);
    return fmt::format("fiber {}", id);
  }
  if (kind == "plain") {
    const PlainThreadNode* p = g.plain_thread(kPlainThreadTag | id);
    return p ? fmt::format("{} (not a fiber)", p->name) : fmt::format("plain thread {}", id);
  }
  if (kind == "thread") {
    const ThreadNode* t = g.thread(id);
    return t ? fmt::format("thread \"{}\"", t->name) : fmt::format("thread {}", id);
  }
  if (kind == "syscall") {  // named after the occupied thread
    const FiberNode* f = nullptr;
    for (const FiberNode& x : g.fibers)
      if (x.reason == WaitReason::syscall && x.thread == id) f = &x;
    if (!f) return "a system call";
    if (f->fd < 0) return fmt::format("{}()", f->syscall);
    return fmt::format("{}(fd {}{})", f->syscall, f->fd,
                       f->peer_fd >= 0 ? fmt::format(", other end fd {}", f->peer_fd) : "");
  }
  const ObjectNode* o = g.object(id);
  if (o && !o->name.empty()) return fmt::format("{} {} \"{}\"", kind, id, o->name);
  return fmt::format("{} {}", kind, id);
}

std::string describe_deadlock(const WaitGraph& g, const Deadlock& d) {
  std::string out;
  std::string kind = d.kind;
  std::replace(kind.begin(), kind.end(), '-', ' ');
  out += fmt::format("deadlock ({}): fiber{} ", kind, d.fibers.size() > 1 ? "s" : "");
  for (std::size_t k = 0; k < d.fibers.size(); ++k) out += (k ? ", " : "") + std::to_string(d.fibers[k]);
  out += d.fibers.size() > 1 ? " can never proceed" : " can never proceed";
  if (!d.nodes.empty()) {
    out += "\n  ";
    out += d.nodes.front() == d.nodes.back() && d.nodes.size() > 1 ? "cycle: " : "chain: ";
    for (std::size_t k = 0; k < d.nodes.size(); ++k)
      out += (k ? " -> " : "") + describe_node(g, d.nodes[k]);
  }
  for (std::uint64_t id : d.fibers) {
    const FiberNode* f = g.fiber(id);
    if (!f) continue;
    std::string what;
    if (f->reason == WaitReason::syscall) {
      what = describe_node(g, node_id("syscall", f->thread));
    } else if (f->reason == WaitReason::join) {
      what = describe_node(g, node_id("fiber", f->object_id));
    } else if ((f->reason == WaitReason::waiting_for_thread || f->reason == WaitReason::call) &&
               f->object_id) {
      what = describe_node(g, node_id("thread", f->object_id));
    } else if (f->reason == WaitReason::runnable && f->locked_to) {
      what = describe_node(g, node_id("thread", f->locked_to));
    } else if (f->object_id) {
      if (const ObjectNode* o = g.object(f->object_id)) what = describe_node(g, object_node_id(*o));
    }
    out += fmt::format("\n  {} [{}{}]", describe_node(g, node_id("fiber", id)), to_string(f->reason),
                       f->locked_to ? ", locked to " + describe_node(g, node_id("thread", f->locked_to))
                                    : std::string());
    if (!what.empty()) out += " waits for " + what;
    if (f->site.line()) out += fmt::format(" at {}:{}", f->site.file_name(), f->site.line());
  }
  std::set<std::string> plain_seen;
  for (const std::string& n : d.nodes) {
    if (n.rfind("plain:", 0) != 0 || !plain_seen.insert(n).second) continue;
    const PlainThreadNode* p = g.plain_thread(kPlainThreadTag | std::stoull(n.substr(6)));
    if (!p) continue;
    out += fmt::format("\n  {} [call] waits for {}", describe_node(g, n),
                       describe_node(g, node_id("fiber", p->call_fiber)));
    if (g.thread(p->locker)) out += " in call() into " + describe_node(g, node_id("thread", p->locker));
    if (p->site.line()) out += fmt::format(" at {}:{}", p->site.file_name(), p->site.line());
  }
  if (!d.explanation.empty()) out += "\n  why: " + d.explanation;
  return out;
}

}  // namespace tether::detail
