#include "trace_stack_trim.h"

#include "symbolized_stack.h"

namespace tether::detail::trace {

void trim_runtime_frames(const std::vector<const Frame*>& frames, std::size_t* first,
                         std::size_t* last) {
  std::size_t top = 0, last_internal = 0;
  bool any_internal = false;
  for (std::size_t i = 0;
       i < frames.size() && (is_runtime_frame(*frames[i]) || is_library_frame(*frames[i])); ++i) {
    if (is_runtime_frame(*frames[i])) {
      any_internal = true;
      last_internal = i;
    }
  }
  if (any_internal && last_internal + 1 < frames.size()) top = last_internal + 1;
  std::size_t end = frames.size();
  while (end > top + 1 && is_entry_frame(*frames[end - 1])) --end;
  *first = top;
  *last = end;
}

}  // namespace tether::detail::trace
