#include "trace_stack_trim.h"

#include "symbolized_stack.h"

namespace tether::detail::trace {

void trim_runtime_frames(const std::vector<const Frame*>& frames, std::size_t* first,
                         std::size_t* last) {
  const std::size_t top = runtime_frames_on_top(
      frames.size(), frames.size(), [&](std::size_t i) -> const Frame& { return *frames[i]; });
  std::size_t end = frames.size();
  while (end > top + 1 && is_entry_frame(*frames[end - 1])) --end;
  *first = top;
  *last = end;
}

}  // namespace tether::detail::trace
