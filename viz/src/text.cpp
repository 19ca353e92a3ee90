// Text helpers for the DOT writer (text.h).
#include "text.h"

#include <cinttypes>
#include <cstdio>

namespace tether::viz::detail {

std::string dot_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string truncate(std::string_view s, std::size_t max) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Count code points by their lead bytes (continuation bytes are 10xxxxxx).
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (points == max) return std::string(s.substr(0, i)) + "…";
      ++points;
    }
  }
  return std::string(s);
}

std::string format_duration(std::int64_t ns) {
  char buf[48];
  if (ns < 0) ns = 0;
  const double v = static_cast<double>(ns);
  if (ns < 1000) {
    std::snprintf(buf, sizeof buf, "%" PRId64 " ns", ns);
  } else if (ns < 1000000) {
    std::snprintf(buf, sizeof buf, "%.0f µs", v / 1e3);
  } else if (ns < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.1f ms", v / 1e6);
  } else if (ns < INT64_C(60000000000)) {
    std::snprintf(buf, sizeof buf, "%.1f s", v / 1e9);
  } else if (ns < INT64_C(3600000000000)) {
    std::snprintf(buf, sizeof buf, "%.0f min", v / 60e9);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", v / 3600e9);
  }
  return buf;
}

std::string age(std::optional<std::int64_t> since_ns, std::int64_t now_ns) {
  if (!since_ns) return {};
  // Saturate instead of overflowing on absurd inputs.
  if (*since_ns >= now_ns) return format_duration(0);
  if (*since_ns < 0 && now_ns > INT64_MAX + *since_ns) return format_duration(INT64_MAX);
  return format_duration(now_ns - *since_ns);
}

std::string short_loc(const graph::SourceLoc& l) {
  std::string out = l.function;
  if (!l.file.empty()) {
    const auto slash = l.file.rfind('/');
    if (!out.empty()) out += ' ';
    out += slash == std::string::npos ? l.file : l.file.substr(slash + 1);
    if (l.line != 0) out += ':' + std::to_string(l.line);
  }
  return out;
}

std::string long_loc(const graph::SourceLoc& l) {
  std::string out = l.function.empty() ? std::string("?") : l.function;
  if (!l.file.empty()) {
    out += "  " + l.file;
    if (l.line != 0) out += ':' + std::to_string(l.line);
  }
  return out;
}

}  // namespace tether::viz::detail
