// Which frames of a blocking site's stack the trace keeps (internal).
//
// A stack is captured inside the runtime (park, a lock's slow path, the
// trace's own capture), so its innermost frames are tether's machinery:
// block(), switch_out(), record_park()... The trace keeps what the live dump
// shows (the same rules: symbolized_stack.h's is_*_frame): the leading run of runtime
// and library frames is dropped up to its last runtime frame, so the
// innermost recorded frame is the user's call (or the library function the
// user called, when a library frame lies between); and the fiber's entry
// machinery at the outer end is dropped. At least one frame always stays.
#pragma once

#include <cstddef>
#include <vector>

#include "symbolizer.h"

namespace tether::detail::trace {

// [*first, *last) of `frames` (innermost first): the part to record.
void trim_runtime_frames(const std::vector<const Frame*>& frames, std::size_t* first,
                         std::size_t* last);

}  // namespace tether::detail::trace
