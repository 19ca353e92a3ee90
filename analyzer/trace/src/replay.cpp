// State replay: trace events folded into fibers, threads, objects, fds.
#include "replay.h"

#include <algorithm>

namespace tether::trace::detail {

using tether::detail::ObjectKind;

// --- Tables ------------------------------------------------------------------

namespace {

// Names end up in JSON and SARIF: keep them valid UTF-8 whatever the trace
// holds (invalid sequences and control bytes become U+FFFD / '?').
std::string clean(const std::string& s) {
  bool plain = true;
  for (unsigned char c : s) plain = plain && c >= 0x20 && c < 0x7f;
  if (plain) return s;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += c >= 0x20 && c != 0x7f ? static_cast<char>(c) : '?';
      ++i;
      continue;
    }
    const std::size_t n = c >= 0xc2 && c < 0xe0   ? 2
                          : c >= 0xe0 && c < 0xf0 ? 3
                          : c >= 0xf0 && c < 0xf5 ? 4
                                                  : 0;
    bool ok = n != 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (ok && n == 3) {  // no overlong forms or surrogates
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    } else if (ok && n == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

Tables::Tables() {
  intern("");
}

std::uint32_t Tables::intern(const std::string& raw) {
  if (auto hit = string_ix_.find(raw); hit != string_ix_.end()) return hit->second;  // common
  const std::string s = clean(raw);
  auto it = string_ix_.find(s);
  if (it != string_ix_.end()) return it->second;
  const auto ix = static_cast<std::uint32_t>(strings_.size());
  strings_.push_back(s);
  string_ix_.emplace(s, ix);
  return ix;
}

void Tables::define_site(std::uint64_t id, const Event& e) {
  sites_[id] = SourceSite{clean(e.text), clean(e.file), e.line};
}

void Tables::define_stack(std::uint64_t id, std::vector<Frame> frames) {
  for (Frame& f : frames) {
    f.function = clean(f.function);
    f.file = clean(f.file);
  }
  stacks_[id] = std::move(frames);
}

const SourceSite& Tables::site(std::uint32_t id) const {
  auto it = id ? sites_.find(id) : sites_.end();
  return it == sites_.end() ? no_site_ : it->second;
}

const std::vector<Frame>& Tables::stack(std::uint32_t id) const {
  auto it = id ? stacks_.find(id) : stacks_.end();
  return it == stacks_.end() ? no_stack_ : it->second;
}

tether::detail::SiteRef Tables::site_ref(std::uint32_t id) const {
  const SourceSite& s = site(id);
  return tether::detail::SiteRef(s.file.c_str(), s.function.c_str(),
                                 static_cast<std::uint_least32_t>(std::max(0, s.line)));
}

std::uint32_t Tables::add_fiber_list(std::vector<std::uint64_t> fibers) {
  lists_.push_back(std::move(fibers));
  return static_cast<std::uint32_t>(lists_.size() - 1);
}

Rec compact(const Event& e, Tables& t, std::uint32_t seq) {
  Rec r;
  r.time = e.time_ns;
  r.fiber = e.fiber;
  r.object = e.object;
  r.other = e.other;
  r.a = e.a;
  r.b = e.b;
  r.thread = static_cast<std::uint32_t>(e.thread);
  r.site = e.site;
  r.stack = e.stack;
  r.type = e.type;
  r.reason = e.reason;
  r.seq = seq;
  if (!e.text.empty()) r.text = t.intern(e.text);
  if (!e.kind.empty()) r.kind = t.intern(e.kind);
  if (e.type == EventType::finding) r.other = t.add_fiber_list(e.fibers);
  return r;
}

// --- IdSet -------------------------------------------------------------------

void IdSet::add(std::uint64_t id) {
  if (std::find(ids.begin(), ids.end(), id) != ids.end()) return;
  if (ids.size() < 8) {  // the runtime's FiberIdSet::kMax
    ids.push_back(id);
  } else {
    overflowed = true;
  }
}

// --- State -------------------------------------------------------------------

namespace {

bool parse_object_kind(const std::string& s, ObjectKind& out) {
  static const std::pair<const char*, ObjectKind> kinds[] = {{"chan", ObjectKind::chan},
                                                             {"mutex", ObjectKind::mutex},
                                                             {"rwmutex", ObjectKind::rwmutex},
                                                             {"cond_var", ObjectKind::cond_var},
                                                             {"wait_group", ObjectKind::wait_group},
                                                             {"once", ObjectKind::once},
                                                             {"locker", ObjectKind::locker}};
  for (auto& [name, k] : kinds) {
    if (s == name) {
      out = k;
      return true;
    }
  }
  return false;
}

bool signal_like(ObjectKind k) {
  return k == ObjectKind::cond_var || k == ObjectKind::wait_group || k == ObjectKind::once;
}

// The thread a fiber is queued for (runnable on a locked thread, or moving to one), 0: none.
std::uint64_t queued_for(const FiberState& f) {
  if (f.exited) return 0;
  if (f.reason == WaitReason::runnable) return f.locked_to;
  if (f.reason == WaitReason::waiting_for_thread) return f.object;
  return 0;
}

}  // namespace

const FiberState* State::fiber(std::uint64_t id) const {
  auto it = fibers_.find(id);
  return it == fibers_.end() ? nullptr : &it->second;
}
const ThreadState* State::thread(std::uint64_t id) const {
  auto it = threads_.find(id);
  return it == threads_.end() ? nullptr : &it->second;
}
const ObjectState* State::object(std::uint64_t id) const {
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : &it->second;
}

std::size_t State::runnable_on(std::uint64_t t) const {
  auto it = runnable_on_.find(t);
  return it == runnable_on_.end() ? 0 : it->second;
}

FiberState& State::fiber_mut(std::uint64_t id, std::int64_t time) {
  auto [it, fresh] = fibers_.try_emplace(id);
  if (fresh) {  // first seen without a fiber_create (the main fiber, a truncated start)
    it->second.id = id;
    it->second.since = time;
    it->second.created = time;
    max_fiber_ = std::max(max_fiber_, id);
  }
  return it->second;
}

ThreadState& State::thread_mut(std::uint64_t id) {
  auto [it, fresh] = threads_.try_emplace(id);
  if (fresh) {
    it->second.id = id;
    it->second.kind = "pool";
  }
  return it->second;
}

ObjectState* State::object_mut(std::uint64_t id) {
  if (id == 0) return nullptr;
  auto [it, fresh] = objects_.try_emplace(id);
  if (fresh) it->second.id = id;  // used before (or without) its object_create
  return &it->second;
}

std::uint64_t State::user_of(const Rec& r) noexcept {
  if (r.fiber != 0 || r.thread == 0) return r.fiber;
  return tether::detail::kPlainThreadTag | r.thread;
}

void State::use(ObjectState& o, std::uint64_t fiber) {
  if (fiber == 0) o.plain = true;
  o.users.add(fiber);
}

void State::set_state(FiberState& f, WaitReason r, std::int64_t time) {
  f.reason = r;
  f.since = time;
  ++f.version;
}

void State::sync(FiberState& f) {
  const std::uint64_t q = queued_for(f);
  if (q == f.counted) return;
  if (f.counted) --runnable_on_[f.counted];
  if (q) ++runnable_on_[q];
  f.counted = q;
}

void State::stop_running(FiberState& f) {
  if (f.thread) {
    auto it = threads_.find(f.thread);
    if (it != threads_.end() && it->second.running == f.id) it->second.running = 0;
  }
}

void State::apply(const Rec& r) {
  switch (r.type) {
    case EventType::site:
    case EventType::stack:
      break;  // resolved into Tables when added
    case EventType::thread_start: {
      ThreadState& t = thread_mut(r.thread);
      t.name = r.text;
      t.kind = r.kind ? t_.str(r.kind) : "pool";
      t.tid = r.a;
      t.exited = false;
      break;
    }
    case EventType::thread_exit:
      thread_mut(r.thread).exited = true;
      break;
    case EventType::fiber_create: {
      FiberState& f = fiber_mut(r.fiber, r.time);
      f.parent = r.other;
      f.name = r.text;
      f.created_site = r.site;
      f.created = r.time;
      f.exited = false;
      f.locked_to = r.thread;
      set_state(f, WaitReason::runnable, r.time);
      break;
    }
    case EventType::fiber_exit: {
      FiberState& f = fiber_mut(r.fiber, r.time);
      stop_running(f);
      set_state(f, WaitReason::dead, r.time);
      f.exited = true;
      break;
    }
    case EventType::run: {
      ThreadState& t = thread_mut(r.thread);
      if (t.running && t.running != r.fiber) {
        // The previous fiber left without a park (a yield): runnable again.
        auto it = fibers_.find(t.running);
        if (it != fibers_.end() && it->second.reason == WaitReason::running) {
          set_state(it->second, WaitReason::runnable, r.time);
          sync(it->second);
        }
      }
      FiberState& f = fiber_mut(r.fiber, r.time);
      f.early_unpark = -1;
      f.thread = r.thread;
      set_state(f, WaitReason::running, r.time);
      t.running = f.id;
      ++t.switches;
      break;
    }
    case EventType::park: {
      if (r.fiber == 0) {  // a plain thread blocks
        ThreadState& t = thread_mut(r.thread);
        t.plain_wait.reason = r.reason <= static_cast<std::uint8_t>(WaitReason::dead)
                                  ? static_cast<WaitReason>(r.reason)
                                  : WaitReason::runnable;
        t.plain_wait.object = r.object;
        t.plain_wait.since = r.time;
        t.plain_wait.site = r.site;
        t.plain_wait.stack = r.stack;
        if (ObjectState* o = object_mut(r.object)) use(*o, user_of(r));
        break;
      }
      FiberState& f = fiber_mut(r.fiber, r.time);
      stop_running(f);
      // An unknown reason (a newer writer) is not judged: runnable.
      const auto reason = r.reason <= static_cast<std::uint8_t>(WaitReason::dead)
                              ? static_cast<WaitReason>(r.reason)
                              : WaitReason::runnable;
      f.object = r.object;
      f.site = r.site;
      f.stack = r.stack;
      f.timed = r.a != 0;
      if (f.early_unpark >= 0 && r.time - f.early_unpark <= kReorderWindowNs) {
        f.early_unpark = -1;
        set_state(f, WaitReason::runnable, r.time);
        break;
      }
      f.early_unpark = -1;
      set_state(f, reason, r.time);
      // ThreadLocker::lock: the fiber belongs to the locker from here on (the
      // runtime sets it before the switch; our thread_lock comes after it).
      if (reason == WaitReason::waiting_for_thread && r.object) f.locked_to = r.object;
      if (ObjectState* o = object_mut(r.object); o && tether::detail::waits_on_object(reason)) {
        use(*o, f.id);
        if (reason == WaitReason::chan_send) o->senders.add(f.id);
        if (reason == WaitReason::chan_receive) o->receivers.add(f.id);
      }
      break;
    }
    case EventType::unpark: {
      if (r.fiber == 0) {  // a plain thread resumed (recorded by itself)
        thread_mut(r.thread).plain_wait = ThreadState::PlainWait{};
        break;
      }
      FiberState& f = fiber_mut(r.fiber, r.time);
      if (f.reason == WaitReason::running || f.reason == WaitReason::runnable) {
        f.early_unpark = r.time;  // its park is still to come in our order
      } else if (f.reason != WaitReason::dead) {
        set_state(f, WaitReason::runnable, r.time);
      }
      break;
    }
    case EventType::thread_lock: {
      fiber_mut(r.fiber, r.time).locked_to = r.thread;
      break;
    }
    case EventType::thread_unlock: {
      fiber_mut(r.fiber, r.time).locked_to = 0;
      break;
    }
    case EventType::call_begin:
      if (r.fiber == 0 && r.thread) thread_mut(r.thread).call_fiber = r.other;  // a plain caller
      if (r.other) {
        FiberState& c = fiber_mut(r.other, r.time);
        c.is_call = true;
        if (!c.parent) c.parent = r.fiber;
      }
      break;
    case EventType::call_end:
      if (r.fiber == 0 && r.thread) thread_mut(r.thread).call_fiber = 0;
      if (r.other) fiber_mut(r.other, r.time).is_call = false;
      break;
    case EventType::object_create: {
      ObjectState* created = object_mut(r.object);
      if (!created) break;  // object id 0 names no object (a damaged trace)
      ObjectState& o = *created;
      o = ObjectState{};
      o.id = r.object;
      if (!parse_object_kind(r.kind ? t_.str(r.kind) : "", o.kind)) o.kind = ObjectKind::chan;
      o.name = r.text;
      o.site = r.site;
      o.creator = r.fiber;
      o.watermark = max_fiber_ + 1;  // fibers created after it may have been handed it
      o.capacity = r.a;
      break;
    }
    case EventType::object_destroy:
      if (ObjectState* o = object_mut(r.object)) o->destroyed = true;
      break;
    case EventType::lock_acquire:
      // A plain thread holds it by its own id, as the runtime records it:
      // the detector tells one blocked in call() apart.
      if (ObjectState* o = object_mut(r.object)) {
        const std::uint64_t u = user_of(r);
        use(*o, u);
        o->holders.push_back(u);
        if (o->kind == ObjectKind::rwmutex && r.a == 0) o->writer = u;
      }
      break;
    case EventType::lock_release:
      if (ObjectState* o = object_mut(r.object)) {
        auto it = std::find(o->holders.begin(), o->holders.end(), user_of(r));
        if (it != o->holders.end()) {
          o->holders.erase(it);
        } else if (o->kind == ObjectKind::mutex || r.a == 0) {
          o->holders.clear();  // unlocked by another fiber than its holder (allowed, as in Go)
        }
        if (r.a == 0) o->writer = 0;
      }
      break;
    case EventType::chan_send:
      if (ObjectState* o = object_mut(r.object)) {
        use(*o, user_of(r));
        o->senders.add(user_of(r));
        if (o->size < o->capacity) ++o->size;
      }
      break;
    case EventType::chan_recv:
      if (ObjectState* o = object_mut(r.object)) {
        use(*o, user_of(r));
        o->receivers.add(user_of(r));
        if (o->size > 0) --o->size;
      }
      break;
    case EventType::chan_close:
      if (ObjectState* o = object_mut(r.object)) {
        use(*o, r.fiber);
        o->closed = true;
      }
      break;
    case EventType::select_done:
      if (ObjectState* o = object_mut(r.object)) {
        use(*o, user_of(r));
        (r.b ? o->senders : o->receivers).add(user_of(r));
      }
      break;
    case EventType::wg_add:
      if (ObjectState* o = object_mut(r.object)) {
        use(*o, user_of(r));
        o->count = r.b;
      }
      break;
    case EventType::cond_signal:
      if (ObjectState* o = object_mut(r.object)) use(*o, user_of(r));
      break;
    case EventType::syscall_enter: {
      const int fd = static_cast<int>(r.a);
      if (fd >= 0) {
        auto it = fds_.find(fd);
        if (it != fds_.end()) it->second.users.insert(r.fiber);
      }
      if (r.fiber == 0) break;  // a plain thread: no fiber state
      FiberState& f = fiber_mut(r.fiber, r.time);
      f.thread = r.thread;
      f.syscall = r.text;
      f.fd = fd;
      f.peer_fd = static_cast<int>(r.b);
      f.site = r.site;
      f.stack = 0;
      f.object = 0;
      f.timed = false;
      set_state(f, WaitReason::syscall, r.time);
      thread_mut(r.thread).in_syscall = true;
      thread_mut(r.thread).running = f.id;
      break;
    }
    case EventType::syscall_exit: {
      thread_mut(r.thread).in_syscall = false;
      if (r.fiber == 0) break;
      FiberState& f = fiber_mut(r.fiber, r.time);
      if (f.reason == WaitReason::syscall) set_state(f, WaitReason::running, r.time);
      break;
    }
    case EventType::fd_pair: {
      const int a = static_cast<int>(r.a), b = static_cast<int>(r.b);
      fds_[a] = FdState{b, r.fiber, max_fiber_ + 1, {}};
      fds_[b] = FdState{a, r.fiber, max_fiber_ + 1, {}};
      break;
    }
    case EventType::misuse:
    case EventType::finding:
    case EventType::lost:
    case EventType::end:
      break;
  }
  if (r.fiber) {
    auto it = fibers_.find(r.fiber);
    if (it != fibers_.end()) sync(it->second);
  }
}

tether::detail::WaitGraph State::wait_graph(std::int64_t now) const {
  using namespace tether::detail;
  WaitGraph g;
  g.time_ns = now;
  for (const auto& [id, t] : threads_) {
    if (t.exited || t.kind == "plain") continue;
    ThreadNode n;
    n.id = id;
    n.name = t_.str(t.name);
    n.kind = t.kind == "main" || t.kind == "locker" ? t.kind : "pool";
    n.tid = static_cast<int>(t.tid);
    n.in_syscall = t.in_syscall;
    n.runnable = runnable_on(id);
    n.switches = t.switches;
    g.threads.push_back(std::move(n));
  }
  for (const auto& [id, f] : fibers_) {
    if (f.exited) continue;
    FiberNode n;
    n.id = id;
    n.name = t_.str(f.name);
    n.reason = f.reason;
    n.object_id = (f.reason == WaitReason::running || f.reason == WaitReason::runnable ||
                   f.reason == WaitReason::syscall || f.reason == WaitReason::sleep)
                      ? 0
                      : f.object;
    if (const ObjectState* o = object(n.object_id)) n.object_name = t_.str(o->name);
    n.since_ns = f.since;
    n.version = f.version;
    n.timed = f.timed && f.reason != WaitReason::running && f.reason != WaitReason::runnable;
    n.site = t_.site_ref(f.site);
    n.created_at = t_.site_ref(f.created_site);
    n.parent = f.parent;
    n.locked_to = f.locked_to;
    n.thread = f.thread;
    n.is_call = f.is_call;
    if (f.reason == WaitReason::syscall) {
      n.syscall = t_.str(f.syscall);
      n.fd = f.fd;
      auto a = f.fd >= 0 ? fds_.find(f.fd) : fds_.end();
      int peer = f.peer_fd;
      if (peer < 0 && a != fds_.end()) peer = a->second.peer;
      if (peer >= 0 && a != fds_.end()) {
        n.peer_fd = peer;
        n.fd_creator = a->second.creator;
        n.fd_watermark = a->second.watermark;
        n.fd_users.assign(a->second.users.begin(), a->second.users.end());
        auto b = fds_.find(peer);
        if (b != fds_.end())
          n.fd_users.insert(n.fd_users.end(), b->second.users.begin(), b->second.users.end());
      } else if (peer >= 0) {
        n.peer_fd = peer;  // a peer we never saw created: unknown users
        n.fd_users.push_back(0);
      }
    }
    for (const Frame& fr : t_.stack(f.stack))
      n.stack.push_back(
          StackFrame{fr.function, fr.file, fr.line, static_cast<std::uintptr_t>(fr.pc)});
    g.fibers.push_back(std::move(n));
  }
  // Plain threads blocked in call(): they wait for the call's fiber.
  for (const auto& [id, t] : threads_) {
    if (t.exited || t.kind != "plain" || t.plain_wait.reason != WaitReason::call || !t.call_fiber)
      continue;
    PlainThreadNode n;
    n.id = kPlainThreadTag | id;
    n.name = "thread " + std::to_string(t.tid);
    n.tid = static_cast<int>(t.tid);
    n.call_fiber = t.call_fiber;
    n.locker = t.plain_wait.object;
    n.since_ns = t.plain_wait.since;
    n.site = t_.site_ref(t.plain_wait.site);
    g.plain_threads.push_back(std::move(n));
  }
  for (const auto& [id, o] : objects_) {
    if (o.destroyed) continue;
    ObjectNode n;
    n.id = id;
    n.kind = o.kind;
    n.name = t_.str(o.name);
    n.created_at = t_.site_ref(o.site);
    n.creator = o.creator;
    n.watermark = o.watermark;
    n.state.holders = o.holders;
    std::sort(n.state.holders.begin(), n.state.holders.end());
    n.state.holders.erase(std::unique(n.state.holders.begin(), n.state.holders.end()),
                          n.state.holders.end());
    n.state.writer = o.writer;
    n.state.users = o.users.ids;
    if (o.kind == ObjectKind::chan) {
      n.state.senders = o.senders.ids;
      n.state.receivers = o.receivers.ids;
      n.state.capacity = static_cast<std::size_t>(std::max<std::int64_t>(0, o.capacity));
      n.state.size = static_cast<std::size_t>(std::max<std::int64_t>(0, o.size));
      n.state.closed = o.closed;
      n.state.used_by_plain_thread = o.plain || o.senders.overflowed || o.receivers.overflowed;
    } else if (signal_like(o.kind)) {
      n.state.used_by_plain_thread = o.plain || o.users.overflowed;
    }
    n.state.count = o.count;
    g.objects.push_back(std::move(n));
  }
  // Queues: the fibers blocked on each object now.
  g.index();
  for (const FiberNode& f : g.fibers) {
    if (!waits_on_object(f.reason) || !f.object_id) continue;
    if (const ObjectNode* o = g.object(f.object_id)) {
      const_cast<ObjectNode*>(o)->state.waiting.emplace_back(f.id,
                                                             f.reason == WaitReason::chan_send);
    }
  }
  build_edges(g);
  return g;
}

std::string waited_node(const State& s, const FiberState& f) {
  switch (f.reason) {
    case WaitReason::join:
      return f.object ? tether::detail::node_id("fiber", f.object) : std::string();
    case WaitReason::waiting_for_thread:
    case WaitReason::call:
      return f.object ? tether::detail::node_id("thread", f.object) : std::string();
    case WaitReason::runnable:
      return f.locked_to ? tether::detail::node_id("thread", f.locked_to) : std::string();
    case WaitReason::syscall:
      return f.thread ? tether::detail::node_id("syscall", f.thread) : std::string();
    default:
      break;
  }
  if (!tether::detail::waits_on_object(f.reason) || !f.object) return {};
  const ObjectState* o = s.object(f.object);
  if (!o) return tether::detail::node_id("object", f.object);
  if (o->kind == ObjectKind::locker) return tether::detail::node_id("thread", f.object);
  return tether::detail::node_id(tether::detail::to_string(o->kind), f.object);
}

}  // namespace tether::trace::detail
