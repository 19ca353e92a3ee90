// lint/compilation_db.h — reading `compile_commands.json`.
//
// The JSON Compilation Database format (clang's): an array of objects with
// "directory", "file", and either "arguments" (an argv array) or "command"
// (one shell-quoted string). Files are matched by their absolute, normalized
// path. A missing or malformed database is an error that names the file and
// the place (line and column of the JSON error, or the index of the entry).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tether::lint {

struct CompileCommand {
  std::string directory;          // absolute
  std::string file;               // absolute, normalized
  std::vector<std::string> argv;  // argv[0] is the compiler; includes the file
};

struct DatabaseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CompilationDatabase {
 public:
  // Reads BUILD_DIR/compile_commands.json. Throws DatabaseError.
  static CompilationDatabase load_from_directory(const std::string& build_dir);
  // Parses `json_text`; `path` names it in messages. Throws DatabaseError.
  static CompilationDatabase parse(const std::string& json_text, const std::string& path);

  const std::vector<CompileCommand>& commands() const { return commands_; }
  // The first command for `file` (any path form), or nullopt.
  std::optional<CompileCommand> find(const std::string& file) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<CompileCommand> commands_;
};

// Splits a shell command line the way a POSIX shell would for plain words,
// single and double quotes, and backslash escapes (no expansions).
std::vector<std::string> split_command_line(const std::string& command);

// The argv libclang should parse: drops -o FILE, -c and dependency-file
// flags, inserts -resource-dir and -working-directory after argv[0], and
// appends -Wno-error -Wno-unknown-warning-option (a build's -Werror or a
// GCC-only -W flag must not make a file "not compile").
std::vector<std::string> libclang_argv(const CompileCommand& cmd, const std::string& resource_dir);

// Absolute, lexically normalized form of `path` relative to `base`.
std::string normalize_path(const std::string& path, const std::string& base);

}  // namespace tether::lint
