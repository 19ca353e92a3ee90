// cli/duration.h — parsing the durations the command line accepts.
//
// The syntax is Go's time.ParseDuration, minus signs: one or more decimal
// numbers, each with a unit, e.g. "30s", "1.5s", "250ms", "1m30s", "2h".
// Units: ns, us (or µs), ms, s, m, h. A bare number ("30", "0.5") means
// seconds, since that is what every timeout flag in the wild means.
// "0" is valid and means zero; callers decide what zero means to them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tether::cli {

// The parsed duration, or nullopt (with *error saying why, if error is not
// null) for empty text, a missing number, an unknown unit, a negative value
// or a value above 10000 hours.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text,
                                                       std::string* error = nullptr);

}  // namespace tether::cli
