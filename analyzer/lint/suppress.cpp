#include "lint/suppress.h"

#include <fmt/format.h>

#include "lint/rules.h"

namespace tether::lint {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The comment part of a line: after "//" or "/*" outside string literals.
std::string_view comment_of(std::string_view line) {
  char quote = 0;
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '"' || c == '\'')
      quote = c;
    else if (c == '/' && (line[i + 1] == '/' || line[i + 1] == '*'))
      return line.substr(i + 2);
  }
  // A line inside a block comment started earlier: look at the whole line.
  return {};
}

struct Marker {
  enum Kind { none, same_line, next_line, begin, end } kind = none;
  std::string list;  // the raw text inside the parentheses, "" if none
  bool has_list = false;
  unsigned column = 0;
};

Marker find_marker(std::string_view comment, std::size_t comment_col) {
  Marker m;
  const std::size_t p = comment.find("NOLINT");
  if (p == std::string_view::npos) return m;
  std::string_view rest = comment.substr(p + 6);
  if (rest.starts_with("NEXTLINE")) {
    m.kind = Marker::next_line;
    rest.remove_prefix(8);
  } else if (rest.starts_with("BEGIN")) {
    m.kind = Marker::begin;
    rest.remove_prefix(5);
  } else if (rest.starts_with("END")) {
    m.kind = Marker::end;
    rest.remove_prefix(3);
  } else {
    m.kind = Marker::same_line;
  }
  if (rest.starts_with("(")) {
    const std::size_t close = rest.find(')');
    if (close != std::string_view::npos) {
      m.list = std::string(rest.substr(1, close - 1));
      m.has_list = true;
    }
  }
  m.column = static_cast<unsigned>(comment_col + p + 1);
  return m;
}

std::vector<std::string> split_rules(const std::string& list) {
  std::vector<std::string> out;
  std::string_view s = list;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    std::string_view item = trim(s.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Suppressions Suppressions::parse(std::string_view text, const std::string& file) {
  Suppressions s;
  struct Open {
    unsigned line, column;
    std::string list;
  };
  std::vector<Open> open;
  unsigned lineno = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    ++lineno;
    std::string_view comment = comment_of(line);
    if (!comment.empty()) {
      const Marker m = find_marker(comment, static_cast<std::size_t>(comment.data() - line.data()));
      const std::vector<std::string> rules =
          m.has_list ? split_rules(m.list) : std::vector<std::string>{};
      switch (m.kind) {
        case Marker::same_line:
          s.ranges_.push_back(Range{lineno, lineno, rules});
          break;
        case Marker::next_line:
          s.ranges_.push_back(Range{lineno + 1, lineno + 1, rules});
          break;
        case Marker::begin:
          open.push_back(Open{lineno, m.column, m.list});
          break;
        case Marker::end: {
          bool matched = false;
          for (auto it = open.rbegin(); it != open.rend(); ++it) {
            if (it->list != m.list) continue;
            s.ranges_.push_back(Range{it->line, lineno, rules});
            open.erase(std::next(it).base());
            matched = true;
            break;
          }
          if (!matched) {
            Diagnostic d;
            d.rule = std::string(kUnmatchedNolint);
            d.severity = Severity::error;
            d.loc = SourceLoc{file, lineno, m.column};
            d.message = "unmatched 'NOLINTEND' comment without a previous 'NOLINTBEGIN' comment";
            s.errors_.push_back(std::move(d));
          }
          break;
        }
        case Marker::none:
          break;
      }
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  for (const Open& o : open) {
    Diagnostic d;
    d.rule = std::string(kUnmatchedNolint);
    d.severity = Severity::error;
    d.loc = SourceLoc{file, o.line, o.column};
    d.message = "unmatched 'NOLINTBEGIN' comment without a subsequent 'NOLINTEND' comment";
    s.errors_.push_back(std::move(d));
  }
  return s;
}

bool Suppressions::suppressed(unsigned line, std::string_view rule) const {
  for (const Range& r : ranges_) {
    if (line < r.first || line > r.last) continue;
    // An unmatched region suppresses nothing (it is reported instead); matched
    // ones and single lines apply to their listed rules, or all.
    if (r.rules.empty()) return true;
    for (const std::string& pat : r.rules)
      if (glob_match(pat, rule)) return true;
  }
  return false;
}

}  // namespace tether::lint
