#include "duration.h"

#include <cctype>
#include <cstdint>

#include <fmt/format.h>

namespace tether::cli {
namespace {

struct Unit {
  std::string_view name;
  double ns;
};

// Two-letter units come before one-letter ones: "ms" must not be read as "m" then "s".
constexpr Unit kUnits[] = {
    {"ns", 1.0}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"ms", 1e6},
    {"s", 1e9},  {"m", 60e9}, {"h", 3600e9},
};

constexpr double kMaxNs = 10000.0 * 3600e9;  // 10000 hours

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string* error) {
  const std::string_view original = text;
  if (text.empty()) {
    fail(error, "empty duration (expected e.g. 30s, 500ms, 1m30s)");
    return std::nullopt;
  }
  double total = 0;
  bool first = true;
  while (!text.empty()) {
    // The number: digits with at most one '.', at least one digit.
    std::size_t i = 0;
    std::size_t digits = 0;
    bool dot = false;
    double value = 0;
    double scale = 1;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        ++digits;
        if (dot) {
          scale /= 10;
          value += (c - '0') * scale;
        } else {
          value = value * 10 + (c - '0');
        }
      } else if (c == '.' && !dot) {
        dot = true;
      } else {
        break;
      }
    }
    if (digits == 0) {
      const char* why = (!text.empty() && text[0] == '-') ? "negative durations are not allowed"
                                                          : "expected a number";
      fail(error, fmt::format("invalid duration '{}': {} at '{}' (expected e.g. 30s, 500ms, 1m30s)",
                              original, why, text));
      return std::nullopt;
    }
    text.remove_prefix(i);
    if (text.empty()) {
      if (!first) {
        fail(error, fmt::format("invalid duration '{}': missing unit after the last number "
                                "(use ns, us, ms, s, m or h)",
                                original));
        return std::nullopt;
      }
      total = value * 1e9;  // a bare number: seconds
      break;
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(0, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      fail(error,
           fmt::format("invalid duration '{}': unknown unit at '{}' (use ns, us, ms, s, m or h)",
                       original, text));
      return std::nullopt;
    }
    text.remove_prefix(unit->name.size());
    total += value * unit->ns;
    first = false;
    if (total > kMaxNs) break;
  }
  if (total > kMaxNs) {
    fail(error, fmt::format("invalid duration '{}': longer than 10000h", original));
    return std::nullopt;
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total + 0.5));
}

}  // namespace tether::cli
