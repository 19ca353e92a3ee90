// lint/config.h — per-project settings from `.tether-lint.yaml`.
//
// Like `.clang-tidy`, the file nearest to a source file wins: it is looked for
// in the file's directory, then upward to the root. Only the nearest file is
// read (no merging). The format is a small YAML subset:
//
//   # rules to turn off (ids or globs, as in NOLINT lists)
//   disable: [tether-lock-order-inversion]
//   # the user's own blocking functions, by qualified name (globs allowed)
//   blocking-functions:
//     - mylib::wait_for_vsync
//     - legacy::*_blocking
//   # report calls through tether::sys:: as blocking too (default false)
//   sys-calls-are-blocking: false
//
// Anything else (an unknown key, a malformed line) is an error naming the
// file and line: a config that silently means something else is worse than
// none.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tether::lint {

struct Config {
  std::vector<std::string> disabled;            // rule ids or globs
  std::vector<std::string> blocking_functions;  // qualified names or globs
  bool sys_calls_are_blocking = false;
  std::string source;  // the file it came from; empty for defaults

  bool rule_enabled(std::string_view rule) const;
  bool is_user_blocking(std::string_view qualified_name) const;
  // Adds the other config's settings to this one (command-line additions).
  void merge(const Config& other);
};

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses `text` (the contents of `path`, used in messages). Throws ConfigError.
Config parse_config(std::string_view text, const std::string& path);
// Reads and parses a file. Throws ConfigError (also when it cannot be read).
Config load_config_file(const std::string& path);

// Finds and caches the nearest `.tether-lint.yaml` for source files.
// Thread-safe.
class ConfigFinder {
 public:
  static constexpr const char* kFileName = ".tether-lint.yaml";
  // Returns the config for `source_file` (defaults when none is found).
  // Throws ConfigError for a malformed file.
  std::shared_ptr<const Config> for_file(const std::string& source_file);

 private:
  std::shared_ptr<const Config> for_dir(const std::string& dir);
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Config>> by_dir_;
};

}  // namespace tether::lint
