#include "lint/compilation_db.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tether::lint {

namespace fs = std::filesystem;

std::string normalize_path(const std::string& path, const std::string& base) {
  fs::path p(path);
  if (p.is_relative()) p = fs::path(base) / p;
  return p.lexically_normal().string();
}

std::vector<std::string> split_command_line(const std::string& command) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        cur += c;
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < command.size() &&
                 (command[i + 1] == '"' || command[i + 1] == '\\' || command[i + 1] == '$')) {
        cur += command[++i];
      } else {
        cur += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < command.size()) {
      cur += command[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

CompilationDatabase CompilationDatabase::load_from_directory(const std::string& build_dir) {
  std::error_code ec;
  if (!fs::is_directory(build_dir, ec))
    throw DatabaseError(fmt::format("{}: build directory does not exist", build_dir));
  const std::string path = (fs::path(build_dir) / "compile_commands.json").string();
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw DatabaseError(fmt::format(
        "{}: no compilation database (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

CompilationDatabase CompilationDatabase::parse(const std::string& text, const std::string& path) {
  CompilationDatabase db;
  db.path_ = path;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // Turn the byte offset into line:column.
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    if (auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
    throw DatabaseError(
        fmt::format("{}:{}:{}: malformed compilation database: {}", path, line, col, what));
  }
  if (!j.is_array())
    throw DatabaseError(
        fmt::format("{}: malformed compilation database: expected a JSON array", path));
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    auto bad = [&](const std::string& what) {
      return DatabaseError(
          fmt::format("{}: malformed compilation database: entry {}: {}", path, i, what));
    };
    if (!e.is_object()) throw bad("expected an object");
    if (!e.contains("directory") || !e["directory"].is_string())
      throw bad("missing string \"directory\"");
    if (!e.contains("file") || !e["file"].is_string()) throw bad("missing string \"file\"");
    CompileCommand cmd;
    cmd.directory = normalize_path(e["directory"].get<std::string>(), fs::current_path().string());
    cmd.file = normalize_path(e["file"].get<std::string>(), cmd.directory);
    if (e.contains("arguments")) {
      if (!e["arguments"].is_array()) throw bad("\"arguments\" must be an array of strings");
      for (const auto& a : e["arguments"]) {
        if (!a.is_string()) throw bad("\"arguments\" must be an array of strings");
        cmd.argv.push_back(a.get<std::string>());
      }
    } else if (e.contains("command") && e["command"].is_string()) {
      cmd.argv = split_command_line(e["command"].get<std::string>());
    } else {
      throw bad("needs \"arguments\" or \"command\"");
    }
    if (cmd.argv.empty()) throw bad("empty command");
    db.commands_.push_back(std::move(cmd));
  }
  return db;
}

std::optional<CompileCommand> CompilationDatabase::find(const std::string& file) const {
  const std::string want = normalize_path(file, fs::current_path().string());
  for (const CompileCommand& c : commands_)
    if (c.file == want) return c;
  // Also accept a path that names the same file through a symlink.
  std::error_code ec;
  for (const CompileCommand& c : commands_)
    if (fs::equivalent(c.file, want, ec)) return c;
  return std::nullopt;
}

std::vector<std::string> libclang_argv(const CompileCommand& cmd, const std::string& resource_dir) {
  std::vector<std::string> out;
  out.push_back(cmd.argv.front());
  if (!resource_dir.empty()) {
    out.push_back("-resource-dir");
    out.push_back(resource_dir);
  }
  out.push_back("-working-directory");
  out.push_back(cmd.directory);
  for (std::size_t i = 1; i < cmd.argv.size(); ++i) {
    const std::string& a = cmd.argv[i];
    if (a == "-o" || a == "-MF" || a == "-MT" || a == "-MQ") {
      ++i;  // and its value
      continue;
    }
    if (a == "-c" || a == "-MD" || a == "-MMD" || (a.starts_with("-o") && a.size() > 2)) continue;
    out.push_back(a);
  }
  // The build's -Werror and GCC-only warning flags (-Wno-restrict...) are not
  // compile errors of the file for linting purposes.
  out.push_back("-Wno-error");
  out.push_back("-Wno-unknown-warning-option");
  return out;
}

}  // namespace tether::lint
