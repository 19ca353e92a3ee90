// lint/linter.h — `tether lint`: parse each translation unit of a
// compilation database with libclang, build its model, run the checks, apply
// NOLINT comments and the config, and decide the exit status.
//
// Each TU is parsed exactly once (CXTranslationUnit_KeepGoing, so checks also
// run on files with compile errors); `jobs` TUs are parsed in parallel, one
// CXIndex per worker thread. Findings are reported only for the main file of
// each TU (as clang-tidy does without --header-filter), de-duplicated and
// sorted by file and line.
//
// Exit status: 2 if any file did not compile (its errors are reported as
// clang-diagnostic-error findings) or the input was bad (LintError); else 1
// if anything was found; else 0.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "lint/diagnostic.h"

namespace tether::lint {

struct LintOptions {
  std::string build_dir;           // holds compile_commands.json
  std::vector<std::string> files;  // empty: every file of the database
  unsigned jobs = 1;
  std::vector<std::string> disabled;  // rule ids or globs, added to the config's
  std::string config_file;            // overrides the .tether-lint.yaml lookup
  bool sys_calls_are_blocking = false;
  std::string resource_dir;  // empty: the one of the clang found at build time
};

struct FileResult {
  std::string file;
  bool compiled = true;
  double parse_seconds = 0;
  double check_seconds = 0;
  std::vector<Diagnostic> diagnostics;
};

struct LintResult {
  std::vector<FileResult> files;
  std::vector<Diagnostic> diagnostics;  // all files, sorted
  int exit_code = 0;
};

// One clear message about bad input (missing file or database, bad config).
struct LintError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws LintError for bad input.
LintResult run_lint(const LintOptions& options);

// The -resource-dir given to libclang by default.
std::string default_resource_dir();
// The project version, for reports.
std::string tool_version();

}  // namespace tether::lint
