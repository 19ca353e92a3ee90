// Text helpers for the DOT writer: quoting, truncation, durations.
// Internal to tether_viz.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tether/graph/snapshot.h"

namespace tether::viz::detail {

// `s` as the inside of a DOT double-quoted string whose value is an
// escString (labels, tooltips): `"` and `\` escaped, control characters
// replaced by spaces. Newlines in the result must be added as "\n" by callers.
std::string dot_escape(std::string_view s);

// At most `max` code points of UTF-8 text `s`, "…" appended when cut.
// Never splits a multi-byte sequence.
std::string truncate(std::string_view s, std::size_t max);

// A non-negative duration in ns as a short human string: "850 ns", "12 µs",
// "3.4 ms", "2.0 s", "4 min", "3 h". Negative input (a clock skew in the
// snapshot) prints as "0 ns". Locale-independent.
std::string format_duration(std::int64_t ns);

// How long since `since_ns` at `now_ns`, or empty when `since_ns` is unknown.
std::string age(std::optional<std::int64_t> since_ns, std::int64_t now_ns);

// "file.cpp:42" (the file's last path component), "func file.cpp:42", or "".
std::string short_loc(const graph::SourceLoc& l);
// "func  /full/path/file.cpp:42" for tooltips.
std::string long_loc(const graph::SourceLoc& l);

}  // namespace tether::viz::detail
