// Dump formatting: headers, frames, groups of identical fibers, the whole
// dump (fiber_dump_format.h, docs/dump-format.md).
#include "fiber_dump_format.h"

#include <dlfcn.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <unordered_map>

#include "off_fiber.h"
#include "symbolized_stack.h"

namespace tether::detail {

namespace {

std::string duration_text(std::int64_t ns) {
  const std::int64_t s = ns / 1'000'000'000;
  if (s < 1) return {};
  if (s < 60) return s == 1 ? "1 second" : std::to_string(s) + " seconds";
  const std::int64_t m = s / 60;
  return m == 1 ? "1 minute" : std::to_string(m) + " minutes";
}

// A group's wait times, in the unit of the longest: "4-9 seconds",
// "0-3 minutes"; one value when both ends print the same.
std::string duration_range_text(std::int64_t lo_ns, std::int64_t hi_ns) {
  const std::int64_t hi_s = hi_ns / 1'000'000'000,
                     lo_s = std::max<std::int64_t>(lo_ns, 0) / 1'000'000'000;
  if (hi_s < 1) return {};
  const bool minutes = hi_s >= 60;
  const std::int64_t lo = minutes ? lo_s / 60 : lo_s, hi = minutes ? hi_s / 60 : hi_s;
  if (lo == hi) return duration_text(hi_ns);
  return std::to_string(lo) + "-" + std::to_string(hi) + (minutes ? " minutes" : " seconds");
}

std::string quoted(std::string_view s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += (c == '\n' ? ' ' : c);
  }
  return q + "\"";
}

std::string hex(std::uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "MODULE+0xOFF pc=0xPC": an unsymbolized frame's location.
void append_raw_location(std::string& s, std::string_view module, std::uintptr_t offset,
                         std::uintptr_t pc) {
  const auto slash = module.rfind('/');
  s += slash == std::string_view::npos ? module : module.substr(slash + 1);
  s += "+" + hex(offset) + " pc=" + hex(pc) + "\n";
}

void append_frame(std::string& s, const Frame& f) {
  if (f.unsymbolized) {
    s += "??\n\t";
    append_raw_location(s, f.module.empty() ? "??" : f.module, f.module.empty() ? f.pc : f.offset,
                        f.pc);
    return;
  }
  s += f.function;
  s += '\n';
  s += '\t';
  if (!f.file.empty()) {
    s += f.file + ":" + std::to_string(f.line);
  } else {
    s += (f.module.empty() ? std::string("??") : base_name(f.module)) + ":0";
  }
  if (!f.inlined) s += " +" + hex(f.function == "??" ? f.pc : f.offset);
  s += '\n';
}

// An unsymbolized frame: the dynamic symbol when there is one (mangled: the
// demangler allocates), then "MODULE+0xOFF pc=0xPC". dladdr takes the
// loader's lock but allocates nothing.
void append_raw_frame(std::string& s, std::uintptr_t pc, bool exact) {
  Dl_info info{};
  const std::uintptr_t addr = exact || pc == 0 ? pc : pc - 1;
  const bool found = dladdr(reinterpret_cast<void*>(addr), &info) != 0;
  s += found && info.dli_sname ? info.dli_sname : "??";
  s += "\n\t";
  const char* module = !found                              ? "??"
                       : info.dli_fname && *info.dli_fname ? info.dli_fname
                                                           : program_invocation_short_name;
  append_raw_location(s, module, found ? pc - reinterpret_cast<std::uintptr_t>(info.dli_fbase) : pc,
                      pc);
}

// The frames of a block (everything between the header and "created by").
std::string stack_text(const RawStack& raw, bool symbolize) {
  std::string s;
  if (!symbolize) {
    std::size_t gap = 0, elided = 0;
    const std::vector<std::uintptr_t> pcs = raw.pcs(&gap, &elided);
    if (raw.status != StackStatus::ok && pcs.empty()) {
      s += std::string("(no stack: ") + to_string(raw.status) + ")\n";
    }
    for (std::size_t i = 0; i < pcs.size(); ++i) {
      if (i == gap && elided > 0) s += "..." + std::to_string(elided) + " frames elided...\n";
      append_raw_frame(s, pcs[i], i == 0 && raw.first_is_exact);
    }
    return s;
  }
  const SymbolizedStack st = symbolize_stack(raw);
  if (st.status != StackStatus::ok && st.frames.empty()) {
    s += std::string("(no stack: ") + to_string(st.status) + ")\n";
  }
  for (std::size_t i = 0; i < st.frames.size(); ++i) {
    if (i == st.elided_after && st.elided > 0) {
      s += "...";
      s += std::to_string(st.elided);
      s += " frames elided...\n";
    }
    append_frame(s, st.frames[i]);
  }
  return s;
}

std::string site_text(const std::source_location& at) {
  return std::string(at.file_name()) + ":" + std::to_string(at.line());
}

std::string created_text(const FiberSnapshot& f) {
  if (f.is_main) return {};
  return (f.parent != 0 ? "created by fiber " + std::to_string(f.parent) : "created by a thread") +
         " at " + site_text(f.created_at) + "\n";
}

// The same raw stack prints the same: formats each distinct one once.
class StackTexts {
 public:
  explicit StackTexts(bool symbolize) : symbolize_(symbolize) {}
  // The index of raw's text in texts().
  std::size_t index(const RawStack& raw) {
    std::size_t gap = 0, elided = 0;
    const std::vector<std::uintptr_t> pcs = raw.pcs(&gap, &elided);
    std::string key(reinterpret_cast<const char*>(pcs.data()), pcs.size() * sizeof(std::uintptr_t));
    key += static_cast<char>(raw.status);
    key += static_cast<char>(raw.first_is_exact);
    key += std::to_string(gap) + "/" + std::to_string(elided);
    auto [it, inserted] = by_key_.try_emplace(std::move(key), texts_.size());
    if (inserted) {
      // Raw stacks that differ only in frames the dump leaves out (the
      // runtime's own, above the user's call or below the fiber's entry:
      // a fiber first run by the scheduler loop, or by a switch) print the
      // same, so they share one index: groups are of what prints the same.
      std::string text = stack_text(raw, symbolize_);
      auto [t, fresh] = by_text_.try_emplace(text, texts_.size());
      if (fresh) texts_.push_back(std::move(text));
      it->second = t->second;
    }
    return it->second;
  }
  const std::string& text(std::size_t i) const { return texts_[i]; }

 private:
  bool symbolize_;
  std::unordered_map<std::string, std::size_t> by_key_;
  std::unordered_map<std::string, std::size_t> by_text_;
  std::vector<std::string> texts_;
};

bool waits(WaitReason r) {
  return r != WaitReason::running && r != WaitReason::runnable;
}

// The header of a group of two or more fibers (fiber_dump_format.h).
std::string group_header(const Capture& cap, const std::vector<const FiberSnapshot*>& m) {
  const FiberSnapshot& first = *m.front();
  std::string s = "fibers ";
  for (std::size_t i = 0; i < m.size() && i < kGroupIdsShown; ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(m[i]->id);
  }
  if (m.size() > kGroupIdsShown) s += " ...";
  s += " (" + std::to_string(m.size()) + " fibers)";
  const bool same_name =
      std::all_of(m.begin(), m.end(), [&](auto* f) { return f->name == first.name; });
  if (same_name && !first.name.empty()) s += " " + quoted(first.name);
  s += " [";
  s += to_string(first.reason);
  if (waits(first.reason)) {
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const FiberSnapshot* f : m) {
      lo = std::min(lo, cap.taken_at_ns - f->since_ns);
      hi = std::max(hi, cap.taken_at_ns - f->since_ns);
    }
    const std::string d = duration_range_text(lo, hi);
    if (!d.empty()) s += ", " + d;
  }
  std::set<std::string_view> objects;
  for (const FiberSnapshot* f : m) {
    if (!f->object.empty()) objects.insert(f->object);
  }
  if (objects.size() == 1) {
    s += ", " + std::string(*objects.begin());
  } else if (objects.size() > 1) {
    const std::string_view any = *objects.begin();
    s += ", " + std::string(any.substr(0, any.find(' '))) + " (" + std::to_string(objects.size()) +
         " objects)";
  }
  if (!first.syscall.empty()) s += ", in syscall " + first.syscall;
  if (!first.locked_to.empty()) s += ", locked to thread " + quoted(first.locked_to);
  s += "]:";
  return s;
}

std::string group_created_text(const std::vector<const FiberSnapshot*>& m) {
  const FiberSnapshot& first = *m.front();
  std::set<std::uint64_t> parents;
  for (const FiberSnapshot* f : m) parents.insert(f->parent);
  if (parents.size() == 1) return created_text(first);
  return "created by " + std::to_string(parents.size()) + " fibers at " +
         site_text(first.created_at) + "\n";
}

}  // namespace

DumpOptions default_dump_options() {
  static const bool group = [] {
    const char* e = std::getenv("TETHER_DUMP_GROUP");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  DumpOptions o;
  o.group = group;
  return o;
}

std::string format_fiber_header(const FiberSnapshot& f, std::int64_t now_ns) {
  std::string s = "fiber " + std::to_string(f.id);
  if (!f.name.empty()) s += " " + quoted(f.name);
  s += " [";
  s += to_string(f.reason);
  if (waits(f.reason)) {
    const std::string d = duration_text(now_ns - f.since_ns);
    if (!d.empty()) s += ", " + d;
  }
  if (!f.object.empty()) s += ", " + f.object;
  if (!f.syscall.empty()) s += ", in syscall " + f.syscall;
  if (!f.locked_to.empty()) s += ", locked to thread " + quoted(f.locked_to);
  s += "]:";
  return s;
}

std::string format_fiber(const FiberSnapshot& f, std::int64_t now_ns, const DumpOptions& opts) {
  if (opts.symbolize && current_worker() != nullptr) {
    return off_fiber([&] { return format_fiber(f, now_ns, opts); });
  }
  return format_fiber_header(f, now_ns) + "\n" + stack_text(f.stack, opts.symbolize) +
         created_text(f);
}

std::string format_fibers(const Capture& cap, std::string_view header,
                          const std::vector<std::uint64_t>& ids) {
  if (current_worker() != nullptr)
    return off_fiber([&] { return format_fibers(cap, header, ids); });
  std::string s(header);
  if (!s.empty() && s.back() != '\n') s += '\n';
  StackTexts stacks(/*symbolize=*/true);
  for (const FiberSnapshot& f : cap.fibers) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), f.id) == ids.end()) continue;
    s += '\n';
    s += format_fiber_header(f, cap.taken_at_ns) + "\n" + stacks.text(stacks.index(f.stack)) +
         created_text(f);
  }
  return s;
}

void format_dump_to(const Capture& cap, std::string_view why, const DumpOptions& opts,
                    const DumpSink& sink) {
  if (opts.symbolize && current_worker() != nullptr) {
    off_fiber([&] {
      format_dump_to(cap, why, opts, sink);
      return 0;
    });
    return;
  }
  std::string s = "tether: fiber dump of process " + std::to_string(getpid());
  s += " (" + std::string(program_invocation_short_name) + ")";
  const time_t secs = static_cast<time_t>(cap.wall_time_ns / 1'000'000'000);
  tm t{};
  gmtime_r(&secs, &t);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(cap.wall_time_ns / 1'000'000 % 1000));
  s += std::string(" at ") + when;
  if (!why.empty()) s += " (" + std::string(why) + ")";
  s += '\n';
  if (cap.threads.empty() && cap.fibers.empty()) {
    sink(s + "no tether runtime is running\n");
    return;
  }
  s += "threads: " + std::to_string(cap.threads.size()) + "\n";
  std::set<std::uint64_t> crashed;  // fibers on a crashed thread: never grouped
  for (const ThreadSnapshot& th : cap.threads) {
    s += "  thread " + quoted(th.name) + " tid " + std::to_string(th.tid) + ": ";
    if (!th.answered) {
      s += "did not stop";
    } else if (th.running_fiber != 0) {
      s += (th.in_syscall ? "in syscall, fiber " : "running fiber ") +
           std::to_string(th.running_fiber);
    } else {
      s += th.idle ? "idle" : "scheduling";
    }
    if (th.crashed) {
      s += " (crashed)";
      crashed.insert(th.running_fiber);
    }
    s += '\n';
  }
  s += "fibers: " + std::to_string(cap.fibers.size()) + "\n";
  sink(s);

  // Blocks in the order of their first (lowest) fiber id; a fiber joins the
  // group of an earlier fiber that prints the same.
  StackTexts stacks(opts.symbolize);
  std::vector<std::vector<const FiberSnapshot*>> blocks;
  std::vector<std::size_t> block_stack;
  std::unordered_map<std::string, std::size_t> group_of;
  for (const FiberSnapshot& f : cap.fibers) {
    const std::size_t stack = stacks.index(f.stack);
    const bool alone =
        !opts.group || f.reason == WaitReason::running || f.is_main || crashed.count(f.id) != 0;
    if (!alone) {
      std::string key = std::to_string(static_cast<int>(f.reason)) + '\0' + f.locked_to + '\0' +
                        f.syscall + '\0' + site_text(f.created_at) + '\0' +
                        (f.parent == 0 ? "t" : "f") + '\0' + std::to_string(stack);
      auto [it, inserted] = group_of.try_emplace(std::move(key), blocks.size());
      if (!inserted) {
        blocks[it->second].push_back(&f);
        continue;
      }
    }
    blocks.push_back({&f});
    block_stack.push_back(stack);
  }
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const auto& m = blocks[b];
    std::string block = "\n";
    if (m.size() == 1) {
      block += format_fiber_header(*m.front(), cap.taken_at_ns) + "\n" +
               stacks.text(block_stack[b]) + created_text(*m.front());
    } else {
      block += group_header(cap, m) + "\n" + stacks.text(block_stack[b]) + group_created_text(m);
    }
    sink(block);
  }
}

std::string format_dump(const Capture& cap, std::string_view why, const DumpOptions& opts) {
  std::string text;
  format_dump_to(cap, why, opts, [&](std::string_view s) { text += s; });
  return text;
}

}  // namespace tether::detail
