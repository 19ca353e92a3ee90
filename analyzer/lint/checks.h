// lint/checks.h — the rules, each a pass over a TuModel (internal).
//
// Each check appends findings; tether-lock-misuse findings are produced while
// walking (FlowWalker) and are already in TuModel::diagnostics.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lint/diagnostic.h"
#include "lint/model.h"

namespace tether::lint {

void check_blocking_on_shared_thread(const TuModel& m, std::vector<Diagnostic>& out);
// tether-self-request and tether-unbuffered-self-deadlock.
void check_channels(const TuModel& m, std::vector<Diagnostic>& out);
void check_lock_order(const TuModel& m, std::vector<Diagnostic>& out);

// Bodies reachable from `start` through calls that `follow` accepts, with the
// call that first reached each (for path notes).
struct Reach {
  struct Step {
    int from_body = -1;
    int call = -1;  // index into bodies[from_body].calls
  };
  std::map<int, Step> parent;  // body -> how it was reached; start maps to {-1,-1}
};
Reach reach_from(const TuModel& m, int start,
                 const std::function<bool(const CallSite&)>& follow = {});
// "calls 'helper' here" notes from the start of `r` to `body`.
std::vector<Note> path_notes(const TuModel& m, const Reach& r, int body);
// "file.cpp:12" for messages.
std::string short_loc(const SourceLoc& l);

}  // namespace tether::lint
