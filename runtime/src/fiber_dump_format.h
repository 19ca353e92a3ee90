// Dump formatting (internal): a capture (stack_capture.h) as the Go-style
// text of docs/dump-format.md.
//
// Grouping: in a whole-process dump, fibers that print the same (the same
// wait reason, locked-to thread, system call, creation site and parent kind,
// and the same frames after trimming) are printed once, under a header
// "fibers 12, 13, 15 ... (1000 fibers) [chan receive, 1-3 minutes]:" that
// lists the first kGroupIdsShown ids, the count and the range of their wait
// times; what the members do not share (the objects they wait on, their
// names, their parents) is summarized. A running fiber (the crashed one
// among them) is never grouped. TETHER_DUMP_GROUP=0 prints every fiber on
// its own. Lists of chosen fibers (format_fibers: a finding's fibers) are
// never grouped.
//
// Frames are symbolized (symbolized_stack.h) unless DumpOptions::symbolize
// is false: then each PC prints raw, as "MODULE+0xOFF pc=0xPC" from dladdr,
// which allocates nothing (the dump when memory has run out).
//
// Cost: each distinct raw stack is symbolized and formatted once, so 10k
// fibers parked at the same place cost little more than one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "stack_capture.h"

namespace tether::detail {

struct DumpOptions {
  bool group = true;      // group identical fibers (whole dumps only)
  bool symbolize = true;  // false: raw "MODULE+0xOFF pc=0xPC" frames
};
// group from TETHER_DUMP_GROUP (anything but "0": on), symbolize on.
DumpOptions default_dump_options();

// Ids listed in a group's header before " ...".
inline constexpr std::size_t kGroupIdsShown = 10;

// "fiber 7 \"name\" [chan send, 3 seconds, chan 4 \"requests\", locked to thread \"gl\"]:"
std::string format_fiber_header(const FiberSnapshot& f, std::int64_t now_ns);
// One fiber's block: header, frames, "created by" line (no trailing blank line).
std::string format_fiber(const FiberSnapshot& f, std::int64_t now_ns, const DumpOptions& opts = {});

// The fibers of `cap` whose ids are listed (all when ids is empty), in id
// order, each on its own, separated by blank lines, after `header` (a line,
// printed as is, e.g. "fatal error: all fibers are asleep - deadlock!").
std::string format_fibers(const Capture& cap, std::string_view header,
                          const std::vector<std::uint64_t>& ids = {});

// Receives a dump piece by piece: the title and threads block, then one
// fiber block (or group) at a time.
using DumpSink = std::function<void(std::string_view)>;

// The whole dump: the process/time/threads block, then every fiber (grouped
// as opts says). `why` names the trigger ("SIGUSR1", "requested", ...).
void format_dump_to(const Capture& cap, std::string_view why, const DumpOptions& opts,
                    const DumpSink& sink);
std::string format_dump(const Capture& cap, std::string_view why,
                        const DumpOptions& opts = default_dump_options());

}  // namespace tether::detail
