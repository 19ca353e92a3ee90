// tether-self-request and tether-unbuffered-self-deadlock.
//
// self-request: a channel with one receiving fiber F (a server) and other
// senders (its clients); F itself sends on it, and either the channel is
// unbuffered or F then waits on a receive. unbuffered-self-deadlock: an
// unbuffered channel that only one fiber uses, for both sending and
// receiving.
//
// Both need to know which fiber runs a piece of code. A "context" is one
// entry point (a callable passed to tether::go, ThreadLocker::go/call,
// tether::run, std::thread, or main()); a body belongs to every context that
// reaches it through calls in this TU. A channel is judged only when all of
// its uses are known: it never escapes (copied, passed to a function, stored)
// and every use is in code with a known context; otherwise another fiber we
// cannot see may use it, and the checks stay silent.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "lint/checks.h"
#include "lint/rules.h"

namespace tether::lint {
namespace {

struct Use {
  int body;
  const ChanOp* op;
};

std::string entry_description(const Entry& e) {
  switch (e.kind) {
    case EntryKind::pool_fiber:
      return e.os_locked ? "fiber started here (locks its own OS thread with lock_os_thread)"
                         : "fiber started here";
    case EntryKind::locker_fiber:
      return fmt::format("fiber started on locker '{}' here", e.locker_display);
    case EntryKind::locker_call:
      return fmt::format("code run on locker '{}' through call() here", e.locker_display);
    case EntryKind::run_main:
      return "fiber 1 (tether::run) starts here";
    case EntryKind::plain_thread:
      return "thread started here";
    case EntryKind::main_function:
      return "main() starts here";
  }
  return "entry";
}

bool blocking(ChanOpKind k) {
  return k == ChanOpKind::send || k == ChanOpKind::recv;
}

}  // namespace

void check_channels(const TuModel& m, std::vector<Diagnostic>& out) {
  // Which contexts reach each body.
  std::vector<std::set<int>> ctx(m.bodies.size());
  std::vector<Reach> reach;
  for (int i = 0; i < static_cast<int>(m.entries.size()); ++i) {
    reach.push_back(reach_from(m, m.entries[i].body));
    for (const auto& [b, step] : reach.back().parent) ctx[b].insert(i);
  }
  std::map<std::string, std::vector<Use>> uses;
  for (int b = 0; b < static_cast<int>(m.bodies.size()); ++b)
    for (const ChanOp& op : m.bodies[b].chan_ops) uses[op.key].push_back(Use{b, &op});

  for (const auto& [key, list] : uses) {
    auto ch = m.channels.find(key);
    if (ch == m.channels.end()) continue;  // not a channel we saw declared
    const Channel& chan = ch->second;
    if (std::any_of(list.begin(), list.end(),
                    [](const Use& u) { return u.op->kind == ChanOpKind::escape; }))
      continue;
    bool flagged = false;

    // --- self-request: the only receiver sends to itself and waits.
    std::set<int> receivers;
    bool unknown = false;
    const ChanOp* first_recv = nullptr;
    for (const Use& u : list) {
      if (u.op->kind != ChanOpKind::recv && u.op->kind != ChanOpKind::select_case &&
          u.op->kind != ChanOpKind::nonblocking)
        continue;
      if (ctx[u.body].empty()) unknown = true;
      receivers.insert(ctx[u.body].begin(), ctx[u.body].end());
      if (u.op->kind == ChanOpKind::recv && !first_recv) first_recv = u.op;
    }
    // A request queue: some other fiber or thread sends on it too (without
    // clients it is the unbuffered rule's case, or a fiber's private buffer).
    bool has_clients = false;
    if (!unknown && receivers.size() == 1) {
      for (const Use& u : list) {
        if (u.op->kind != ChanOpKind::send) continue;
        for (int c : ctx[u.body]) has_clients = has_clients || c != *receivers.begin();
      }
    }
    if (!unknown && receivers.size() == 1 && first_recv && has_clients) {
      const int f = *receivers.begin();
      const Entry& e = m.entries[f];
      if (!e.multi) {
        for (const Use& u : list) {
          if (u.op->kind != ChanOpKind::send || !ctx[u.body].count(f)) continue;
          const ChanOp* reply = nullptr;
          for (const ChanOp& later : m.bodies[u.body].chan_ops)
            if (later.order > u.op->order && later.kind == ChanOpKind::recv && !reply)
              reply = &later;
          if (chan.capacity != 0 && !reply) continue;  // buffered and no wait: a self-queued job
          Diagnostic d;
          d.rule = std::string(kSelfRequest);
          d.loc = u.op->loc;
          d.message = fmt::format(
              "this fiber is the only receiver of channel '{}' and sends a request to it{}: "
              "nobody else will take it, so the fiber waits for itself",
              chan.display,
              chan.capacity == 0 ? " (unbuffered: the send itself never completes)"
                                 : ", then waits for the reply");
          d.notes.push_back(Note{e.site, entry_description(e)});
          for (Note& n : path_notes(m, reach[f], u.body)) d.notes.push_back(std::move(n));
          d.notes.push_back(
              Note{first_recv->loc,
                   fmt::format("the same fiber receives from '{}' here", chan.display)});
          if (reply && chan.capacity != 0)
            d.notes.push_back(Note{reply->loc, "and waits for the reply here"});
          out.push_back(std::move(d));
          flagged = true;
        }
      }
    }
    if (flagged || chan.capacity != 0) continue;

    // --- unbuffered channel used by one fiber only.
    if (std::any_of(list.begin(), list.end(), [](const Use& u) {
          return u.op->kind == ChanOpKind::select_case || u.op->kind == ChanOpKind::nonblocking;
        }))
      continue;
    const bool has_send = std::any_of(list.begin(), list.end(),
                                      [](const Use& u) { return u.op->kind == ChanOpKind::send; });
    const bool has_recv = std::any_of(list.begin(), list.end(),
                                      [](const Use& u) { return u.op->kind == ChanOpKind::recv; });
    if (!has_send || !has_recv) continue;
    bool single = chan.local_body >= 0 && std::all_of(list.begin(), list.end(), [&](const Use& u) {
                    return u.body == chan.local_body;
                  });
    std::string who = "only this function uses it";
    if (!single) {
      std::set<int> all;
      bool unknown_ctx = false;
      for (const Use& u : list) {
        if (ctx[u.body].empty()) unknown_ctx = true;
        all.insert(ctx[u.body].begin(), ctx[u.body].end());
      }
      single = !unknown_ctx && all.size() == 1 && !m.entries[*all.begin()].multi;
      if (single) who = "no other fiber or thread uses it";
    }
    if (!single) continue;
    const Use* first = nullptr;
    for (const Use& u : list) {
      if (!blocking(u.op->kind)) continue;
      if (!first ||
          (u.body == first->body ? u.op->order < first->op->order : u.op->loc < first->op->loc))
        first = &u;
    }
    Diagnostic d;
    d.rule = std::string(kUnbufferedSelfDeadlock);
    d.loc = first->op->loc;
    const bool is_send = first->op->kind == ChanOpKind::send;
    d.message = fmt::format("channel '{}' is unbuffered and {}: this {} waits forever for a {}",
                            chan.display, who, is_send ? "send" : "receive",
                            is_send ? "receiver" : "sender");
    d.notes.push_back(
        Note{chan.decl, fmt::format("'{}' declared here with capacity 0", chan.display)});
    for (const Use& u : list) {
      if (&u == first || !blocking(u.op->kind) || u.op->kind == first->op->kind) continue;
      d.notes.push_back(Note{u.op->loc, fmt::format("the same fiber {} it here",
                                                    is_send ? "receives from" : "sends on")});
      break;
    }
    out.push_back(std::move(d));
  }
}

}  // namespace tether::lint
