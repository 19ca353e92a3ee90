// Symbolized stacks (internal): a fiber's raw program counters turned into
// the frames a dump prints (docs/dump-format.md, "Frames", "Trimming",
// "Elision").
//
// The runtime's own frames are trimmed from the top (the first frame is the
// user's call into tether, or the user code itself) and the fiber's entry
// machinery from the bottom; a user function inlined into tether's
// type-erased wrapper is named after the callable. What remains is cut to
// the 50 innermost + 50 outermost frames with `elided` frames in between.
// Not async-signal-safe (libdw allocates): call after a capture, from an
// ordinary thread or a fiber (a fiber's call runs on a thread of its own).
#pragma once

#include <cstddef>
#include <vector>

#include "stack_capture.h"
#include "symbolizer.h"

namespace tether::detail {

struct SymbolizedStack {
  std::vector<Frame> frames;
  std::size_t elided_after = 0;  // the gap follows this many frames
  std::size_t elided = 0;
  StackStatus status = StackStatus::ok;
};
SymbolizedStack symbolize_stack(const RawStack& raw);

// Whose a frame is, by the rules the dump trims with (the trace's stacks use
// them too: trace_stack_trim.cpp). Runtime machinery, never the user's code:
bool is_runtime_frame(const Frame& f);
// The C and C++ libraries (a syscall's libc wrapper, inlined std::):
bool is_library_frame(const Frame& f);
// A fiber's entry machinery, run()'s wrapper around fiber 1 included:
bool is_entry_frame(const Frame& f);

// How many of the innermost frames the dump and the trace drop: the leading
// run of runtime and library frames, up to its last runtime frame, so that
// the first frame kept is the user's call (or the library function the user
// called). None when no runtime frame leads, or when that would leave none
// of `total` frames. at(i): the i-th frame, innermost first, i < n.
template <class FrameAt>
std::size_t runtime_frames_on_top(std::size_t n, std::size_t total, FrameAt&& at) {
  std::size_t last_internal = 0;
  bool any_internal = false;
  for (std::size_t i = 0; i < n && (is_runtime_frame(at(i)) || is_library_frame(at(i))); ++i) {
    if (is_runtime_frame(at(i))) {
      any_internal = true;
      last_internal = i;
    }
  }
  return any_internal && last_internal + 1 < total ? last_internal + 1 : 0;
}

}  // namespace tether::detail
