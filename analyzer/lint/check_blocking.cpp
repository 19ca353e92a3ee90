// tether-blocking-call-on-shared-thread, and the reachability helpers the
// checks share.
#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "lint/checks.h"
#include "lint/rules.h"

namespace tether::lint {

std::string short_loc(const SourceLoc& l) {
  return fmt::format("{}:{}", std::filesystem::path(l.file).filename().string(), l.line);
}

Reach reach_from(const TuModel& m, int start, const std::function<bool(const CallSite&)>& follow) {
  Reach r;
  r.parent[start] = {};
  std::deque<int> work{start};
  while (!work.empty()) {
    const int b = work.front();
    work.pop_front();
    const Body& body = m.bodies[b];
    for (int i = 0; i < static_cast<int>(body.calls.size()); ++i) {
      const CallSite& cs = body.calls[i];
      if (cs.target < 0 || r.parent.count(cs.target)) continue;
      if (follow && !follow(cs)) continue;
      r.parent[cs.target] = {b, i};
      work.push_back(cs.target);
    }
  }
  return r;
}

std::vector<Note> path_notes(const TuModel& m, const Reach& r, int body) {
  std::vector<Note> notes;
  for (int b = body;;) {
    auto it = r.parent.find(b);
    if (it == r.parent.end() || it->second.from_body < 0) break;
    const CallSite& cs = m.bodies[it->second.from_body].calls[it->second.call];
    const std::string what =
        cs.callee == "lambda" ? std::string("runs a lambda") : fmt::format("calls '{}'", cs.callee);
    notes.push_back(Note{cs.loc, fmt::format("{} here", what)});
    b = it->second.from_body;
  }
  std::reverse(notes.begin(), notes.end());
  return notes;
}

namespace {

std::string sharing(const Locker& l) {
  std::vector<std::string> sites;
  for (const auto& [kind, loc] : l.sites) {
    if (sites.size() == 4) {
      sites.push_back("...");
      break;
    }
    sites.push_back(fmt::format("{} at {}", kind, short_loc(loc)));
  }
  return fmt::format("{}", fmt::join(sites, ", "));
}

class BlockingCheck {
 public:
  BlockingCheck(const TuModel& m, std::vector<Diagnostic>& out) : m_(m), out_(out) {}

  void run() {
    for (const Entry& e : m_.entries) {
      if (e.locker_key.empty()) continue;
      auto lk = m_.lockers.find(e.locker_key);
      if (lk == m_.lockers.end() || !lk->second.shared()) continue;
      std::string how;
      switch (e.kind) {
        case EntryKind::locker_fiber:
          how = fmt::format("fiber started on locker '{}' here", lk->second.display);
          break;
        case EntryKind::locker_call:
          how = fmt::format("runs on the thread of locker '{}' through call() here",
                            lk->second.display);
          break;
        case EntryKind::run_main:
          how =
              "fiber 1 (tether::run) runs on the main thread, shared with fibers started on "
              "ThreadLocker::main()";
          break;
        default:
          continue;
      }
      search(e.body, e.locker_key, {Note{e.site, how}});
    }
    // Code after locker.lock() in the same fiber, and what it calls.
    for (const Body& b : m_.bodies) {
      for (const CallSite& cs : b.calls) {
        for (const HeldLock& h : cs.lockers_held) {
          auto lk = m_.lockers.find(h.key);
          if (lk == m_.lockers.end() || !lk->second.shared()) continue;
          std::vector<Note> notes{Note{h.acquired, fmt::format("'{}' moves this fiber onto the "
                                                               "locker's thread here",
                                                               h.display + ".lock()")}};
          if (!cs.blocking.empty()) report(cs, h.key, notes);
          if (cs.target >= 0) {
            notes.push_back(Note{cs.loc, cs.callee == "lambda"
                                             ? std::string("runs a lambda here")
                                             : fmt::format("calls '{}' here", cs.callee)});
            search(cs.target, h.key, notes);
          }
        }
      }
    }
  }

 private:
  void search(int start, const std::string& locker, const std::vector<Note>& prefix) {
    auto on_thread = [&](const CallSite& cs) {
      return std::find(cs.lockers_released.begin(), cs.lockers_released.end(), locker) ==
             cs.lockers_released.end();
    };
    Reach r = reach_from(m_, start, on_thread);
    for (const auto& [b, step] : r.parent) {
      for (const CallSite& cs : m_.bodies[b].calls) {
        if (cs.blocking.empty() || !on_thread(cs)) continue;
        std::vector<Note> notes = prefix;
        for (Note& n : path_notes(m_, r, b)) notes.push_back(std::move(n));
        report(cs, locker, notes);
      }
    }
  }

  void report(const CallSite& cs, const std::string& locker, std::vector<Note> notes) {
    if (!seen_.insert({cs.loc, locker}).second) return;
    const Locker& l = m_.lockers.at(locker);
    Diagnostic d;
    d.rule = std::string(kBlockingOnSharedThread);
    d.loc = cs.loc;
    d.message = fmt::format(
        "{}, on the thread of locker '{}', which it shares with other fibers ({}); while it "
        "blocks, none of them can run",
        cs.blocking, l.display, sharing(l));
    d.notes = std::move(notes);
    out_.push_back(std::move(d));
  }

  const TuModel& m_;
  std::vector<Diagnostic>& out_;
  std::set<std::pair<SourceLoc, std::string>> seen_;
};

}  // namespace

void check_blocking_on_shared_thread(const TuModel& m, std::vector<Diagnostic>& out) {
  BlockingCheck(m, out).run();
}

}  // namespace tether::lint
