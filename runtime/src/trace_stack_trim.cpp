#include "trace_stack_trim.h"

#include <string>
#include <string_view>

namespace tether::detail::trace {
namespace {

bool starts_with(const std::string& s, std::string_view p) {
  return s.compare(0, p.size(), p) == 0;
}

// The runtime's own sources (this file's directory).
std::string_view runtime_src_dir() {
  static const std::string dir = [] {
    std::string f = __FILE__;
    return f.substr(0, f.rfind('/') + 1);
  }();
  return dir;
}

bool in_tether_sources(const Frame& f) {
  if (f.file.empty()) return false;
  const std::string_view src = runtime_src_dir();  // ".../runtime/src/"
  const std::string_view root = src.substr(0, src.size() - 4);
  return starts_with(f.file, src) || starts_with(f.file, std::string(root) + "include/tether/");
}

// The fiber's entry machinery, run()'s wrapper around fiber 1 included.
bool is_entry(const Frame& f) {
  return is_runtime_frame(f) ||
         (in_tether_sources(f) && (starts_with(f.function, "tether::run<") ||
                                   starts_with(f.function, "auto tether::run<")));
}

}  // namespace

bool is_runtime_frame(const Frame& f) {
  return starts_with(f.function, "tether::detail::") ||
         starts_with(f.function, "boost::context::") ||
         (!starts_with(f.function, "tether::") && !f.file.empty() &&
          starts_with(f.file, runtime_src_dir())) ||
         starts_with(f.function, "tether::Task::") || f.function == "jump_fcontext" ||
         f.function == "make_fcontext" || f.function == "ontop_fcontext";
}

bool is_library_frame(const Frame& f) {
  static constexpr std::string_view kLibs[] = {"/libc.so",         "/libstdc++", "/libgcc_s",
                                               "/libunwind",       "/ld-linux",  "/libpthread",
                                               "/libboost_context"};
  for (std::string_view lib : kLibs) {
    if (f.module.find(lib) != std::string::npos) return true;
  }
  return starts_with(f.function, "std::") || starts_with(f.function, "__") ||
         starts_with(f.file, "/usr/include/");
}

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
  while (end > top + 1 && is_entry(*frames[end - 1])) --end;
  *first = top;
  *last = end;
}

}  // namespace tether::detail::trace
