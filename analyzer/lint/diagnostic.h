// lint/diagnostic.h — what a check reports.
//
// A Diagnostic is one finding in clang-tidy's shape: a rule id, a primary
// location and message, and notes that explain the path (the fiber's entry,
// each call on the way, where a lock was taken...). Locations carry absolute
// file paths; the reporters make them relative where a format wants that.
#pragma once

#include <string>
#include <vector>

namespace tether::lint {

struct SourceLoc {
  std::string file;  // absolute path; empty: no location (e.g. a command-line error)
  unsigned line = 0;
  unsigned column = 0;

  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
  friend auto operator<=>(const SourceLoc&, const SourceLoc&) = default;
};

struct Note {
  SourceLoc loc;
  std::string message;
};

enum class Severity { warning, error };

struct Diagnostic {
  std::string rule;  // e.g. "tether-lock-misuse", or "clang-diagnostic-error"
  Severity severity = Severity::warning;
  SourceLoc loc;
  std::string message;
  std::vector<Note> notes;
};

}  // namespace tether::lint
