// lint/suppress.h — NOLINT comments, with clang-tidy's semantics.
//
//   code();  // NOLINT                       all rules, this line
//   code();  // NOLINT(tether-lock-misuse)    listed rules (globs allowed: tether-*)
//   // NOLINTNEXTLINE(tether-self-request)    the next line
//   // NOLINTBEGIN(tether-*)  ...  // NOLINTEND(tether-*)   a region
//
// The marker must be inside a comment. A NOLINTEND closes the most recent
// open NOLINTBEGIN with the same rule list. A NOLINTBEGIN never closed, or a
// NOLINTEND with nothing to close, suppresses nothing and is itself reported
// (rule tether-nolint-unmatched), as clang-tidy does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lint/diagnostic.h"

namespace tether::lint {

class Suppressions {
 public:
  // Parses the comments of `text`, the contents of `file`.
  static Suppressions parse(std::string_view text, const std::string& file);

  bool suppressed(unsigned line, std::string_view rule) const;
  // Unmatched NOLINTBEGIN / NOLINTEND comments.
  const std::vector<Diagnostic>& errors() const { return errors_; }

 private:
  struct Range {
    unsigned first, last;            // lines, inclusive
    std::vector<std::string> rules;  // empty: all
  };
  std::vector<Range> ranges_;
  std::vector<Diagnostic> errors_;
};

}  // namespace tether::lint
