// Chrome Trace Event JSON of a replayed trace (opens in Perfetto's UI and
// chrome://tracing).
//
// Layout: one synthetic track (tid) per fiber; fibers locked to an OS thread
// are grouped under that thread as a "process" (pid 1000 + thread id), pool
// fibers under pid 1 "pool". Each fiber's states become complete (X) slices:
// "running", each wait named by its reason and object ("chan receive chan:3
// \"jobs\""), system calls ("syscall read(fd 3)"); runnable time is left
// empty. A fiber is in one state at a time, so the slices of a track never
// overlap and nest trivially. Wake-ups are flows (s on the waker, f on the
// woken fiber's next running slice); each finding is a global instant (i,
// "s":"g"). Timestamps are microseconds since the trace's start. M events
// name every process and track.
#pragma once

#include <string>
#include <vector>

#include "replay.h"

namespace tether::trace::detail {

// `recs` sorted by time (as Analyzer::finish() leaves them).
std::string chrome_trace_json(const std::vector<Rec>& recs, const Tables& tables,
                              const AnalysisResult& result);

}  // namespace tether::trace::detail
