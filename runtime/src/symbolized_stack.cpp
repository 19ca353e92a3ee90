// Symbolized stacks: symbolizing a raw stack and trimming the runtime's own
// frames (symbolized_stack.h).
#include "symbolized_stack.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>

#include "off_fiber.h"

namespace tether::detail {

namespace {

constexpr std::size_t kShowInner = 50;
constexpr std::size_t kShowOuter = 50;

bool starts_with(const std::string& s, std::string_view p) {
  return s.compare(0, p.size(), p) == 0;
}

// The runtime's own sources (this file's directory): inlined internals can
// carry unqualified names ("off_fiber<...>"), but never another directory.
std::string_view runtime_src_dir() {
  static const std::string dir = [] {
    std::string f = __FILE__;
    return f.substr(0, f.rfind('/') + 1);
  }();
  return dir;
}

// Whether a frame's source is tether's own (runtime/src or the public headers).
bool in_tether_sources(const Frame& f) {
  if (f.file.empty()) return false;
  const std::string_view src = runtime_src_dir();  // ".../runtime/src/"
  const std::string_view root = src.substr(0, src.size() - 4);
  return starts_with(f.file, src) || starts_with(f.file, std::string(root) + "include/tether/");
}

// The first template argument after `prefix` ("tether::run<" -> "main::{lambda()#1}").
std::string template_arg(const std::string& name, std::string_view prefix) {
  int depth = 1;
  for (std::size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>' && --depth == 0) return name.substr(prefix.size(), i - prefix.size());
  }
  return {};
}

// The callable a fiber-entry wrapper carries as its first template argument
// ("tether::Task::Impl<F>::call()" or "tether::run<F>(...)" -> "F"), or "".
std::string wrapped_callable(const std::string& function) {
  for (std::string_view prefix : {"tether::Task::Impl<", "tether::run<", "auto tether::run<"}) {
    if (starts_with(function, prefix)) return template_arg(function, prefix);
  }
  return {};
}

// A fiber's function inlined into Task's type-erased call (or into run()'s
// wrapper): the frame's line is the user's, so name it after the user's
// callable (as Go names "main.main.func1").
void rename_inlined_task(Frame& f) {
  if (in_tether_sources(f)) return;
  // Task::Impl<run<F>(F&&)::{lambda()#1}>::call() -> run<F>(...)::... -> F.
  // (Each callable found is a strict part of the one before: the loop ends.)
  for (std::string c; !(c = wrapped_callable(f.function)).empty();)
    f.function = c + "::operator()()";
}

// A fiber's callable inlined into Task's call (or into run()'s wrapper,
// itself inlined there) as scopes of their own: libdw names a lambda's scope
// just "operator()", so each such scope takes the callable's name from the
// template argument of the frame it was inlined into.
// fs: one PC's frames, innermost first, just appended to the end of dst.
void name_inlined_callables(const std::vector<Frame>& fs, std::vector<Frame>& dst) {
  std::string outer = fs.back().function;  // as symbolized, before any renaming
  for (std::size_t j = dst.size() - 1; j-- > dst.size() - fs.size();) {
    if (dst[j].function != "operator()") return;
    const std::string name = wrapped_callable(outer);
    if (name.empty()) return;
    dst[j].function = name + "::operator()()";
    outer = dst[j].function;  // the next scope in is named after this one
  }
}

}  // namespace

// Runtime machinery: never the user's code.
bool is_runtime_frame(const Frame& f) {
  return starts_with(f.function, "tether::detail::") ||
         starts_with(f.function, "boost::context::") ||
         (!starts_with(f.function, "tether::") && !f.file.empty() &&
          starts_with(f.file, runtime_src_dir())) ||
         starts_with(f.function, "tether::Task::") || f.function == "jump_fcontext" ||
         f.function == "make_fcontext" || f.function == "ontop_fcontext";
}

// Frames a user did not write but that are not the runtime either: the C and
// C++ libraries (a syscall's libc wrapper, std::mutex inlined in the runtime).
bool is_library_frame(const Frame& f) {
  static constexpr std::string_view kLibs[] = {"/libc.so",         "/libstdc++", "/libgcc_s",
                                               "/libunwind",       "/ld-linux",  "/libpthread",
                                               "/libboost_context"};
  for (std::string_view lib : kLibs) {
    if (f.module.find(lib) != std::string::npos) return true;
  }
  // Inlined library code carries the header's path (its name may be
  // unqualified: std::thread's constructor shows as "thread<...>").
  return starts_with(f.function, "std::") || starts_with(f.function, "__") ||
         starts_with(f.file, "/usr/include/");
}

// The fiber's entry machinery, run()'s wrapper around fiber 1 included.
bool is_entry_frame(const Frame& f) {
  return is_runtime_frame(f) ||
         (in_tether_sources(f) && (starts_with(f.function, "tether::run<") ||
                                   starts_with(f.function, "auto tether::run<")));
}

SymbolizedStack symbolize_stack(const RawStack& raw) {
  if (current_worker() != nullptr) return off_fiber([&] { return symbolize_stack(raw); });
  SymbolizedStack out;
  out.status = raw.status;
  std::size_t raw_gap_at = 0, raw_elided = 0;
  const std::vector<std::uintptr_t> pcs = raw.pcs(&raw_gap_at, &raw_elided);
  Symbolizer& sym = Symbolizer::instance();
  std::vector<Frame> inner, outer;
  for (std::size_t i = 0; i < pcs.size(); ++i) {
    const std::vector<Frame>& fs = sym.symbolize(pcs[i], i == 0 && raw.first_is_exact);
    auto& dst = i < raw_gap_at ? inner : outer;
    for (const Frame& f : fs) {
      dst.push_back(f);
      rename_inlined_task(dst.back());
    }
    name_inlined_callables(fs, dst);
  }
  // Top: drop the leading runtime frames (and the library frames among them).
  const std::size_t top =
      runtime_frames_on_top(inner.size(), inner.size() + outer.size(),
                            [&](std::size_t i) -> const Frame& { return inner[i]; });
  inner.erase(inner.begin(),
              inner.begin() + static_cast<std::ptrdiff_t>(std::min(top, inner.size())));
  // Bottom: drop the fiber's entry machinery.
  auto& tail = outer.empty() ? inner : outer;
  while (tail.size() > 1 && is_entry_frame(tail.back())) tail.pop_back();

  // 50 innermost + 50 outermost.
  std::size_t elided = raw_elided;
  if (raw_elided == 0) {
    inner.insert(inner.end(), std::make_move_iterator(outer.begin()),
                 std::make_move_iterator(outer.end()));
    outer.clear();
    if (inner.size() > kShowInner + kShowOuter) {
      outer.assign(std::make_move_iterator(inner.end() - kShowOuter),
                   std::make_move_iterator(inner.end()));
      elided = inner.size() - kShowInner - kShowOuter;
      inner.resize(kShowInner);
    }
  } else {
    if (inner.size() > kShowInner) {
      elided += inner.size() - kShowInner;
      inner.resize(kShowInner);
    }
    if (outer.size() > kShowOuter) {
      elided += outer.size() - kShowOuter;
      outer.erase(outer.begin(), outer.end() - kShowOuter);
    }
  }
  out.elided_after = inner.size();
  out.elided = elided;
  out.frames = std::move(inner);
  for (Frame& f : outer) out.frames.push_back(std::move(f));
  return out;
}

}  // namespace tether::detail
