#include "lint/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "lint/rules.h"

namespace tether::lint {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Drops a '#' comment that is not inside quotes.
std::string_view strip_comment(std::string_view s) {
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (quote) {
      if (s[i] == quote) quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
      return s.substr(0, i);
    }
  }
  return s;
}

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return std::string(s);
}

}  // namespace

bool Config::rule_enabled(std::string_view rule) const {
  for (const std::string& d : disabled)
    if (glob_match(d, rule)) return false;
  return true;
}

bool Config::is_user_blocking(std::string_view qualified_name) const {
  for (const std::string& b : blocking_functions)
    if (glob_match(b, qualified_name)) return true;
  return false;
}

void Config::merge(const Config& other) {
  disabled.insert(disabled.end(), other.disabled.begin(), other.disabled.end());
  blocking_functions.insert(blocking_functions.end(), other.blocking_functions.begin(),
                            other.blocking_functions.end());
  sys_calls_are_blocking = sys_calls_are_blocking || other.sys_calls_are_blocking;
}

Config parse_config(std::string_view text, const std::string& path) {
  Config cfg;
  cfg.source = path;
  std::vector<std::string>* list = nullptr;  // the key whose "- item" lines follow
  std::string list_key;
  unsigned lineno = 0;
  auto fail = [&](const std::string& what) {
    throw ConfigError(fmt::format("{}:{}: {}", path, lineno, what));
  };
  auto list_for = [&](std::string_view key) -> std::vector<std::string>* {
    if (key == "disable") return &cfg.disabled;
    if (key == "blocking-functions") return &cfg.blocking_functions;
    return nullptr;
  };
  std::istringstream in{std::string(text)};
  std::string raw;
  while (std::getline(in, raw)) {
    ++lineno;
    std::string_view line = strip_comment(raw);
    if (trim(line).empty()) continue;
    const bool indented = line.front() == ' ' || line.front() == '\t';
    std::string_view body = trim(line);
    if (body.starts_with("- ") || body == "-") {
      if (!list) fail("a list item '- ...' outside a list key (disable, blocking-functions)");
      std::string item = unquote(body.substr(1));
      if (item.empty()) fail(fmt::format("empty item in '{}'", list_key));
      list->push_back(std::move(item));
      continue;
    }
    if (indented) fail(fmt::format("unexpected indented line '{}'", body));
    const auto colon = body.find(':');
    if (colon == std::string_view::npos) fail(fmt::format("expected 'key: value', got '{}'", body));
    const std::string key(trim(body.substr(0, colon)));
    const std::string_view value = trim(body.substr(colon + 1));
    list = nullptr;
    if (auto* target = list_for(key)) {
      list_key = key;
      if (value.empty()) {
        list = target;
      } else if (value.front() == '[') {
        if (value.back() != ']') fail(fmt::format("unterminated '[' list for '{}'", key));
        std::string_view items = value.substr(1, value.size() - 2);
        while (!trim(items).empty()) {
          const auto comma = items.find(',');
          std::string item = unquote(items.substr(0, comma));
          if (item.empty()) fail(fmt::format("empty item in '{}'", key));
          target->push_back(std::move(item));
          if (comma == std::string_view::npos) break;
          items.remove_prefix(comma + 1);
        }
      } else {
        target->push_back(unquote(value));
      }
    } else if (key == "sys-calls-are-blocking") {
      const std::string v = unquote(value);
      if (v == "true" || v == "yes") {
        cfg.sys_calls_are_blocking = true;
      } else if (v == "false" || v == "no") {
        cfg.sys_calls_are_blocking = false;
      } else {
        fail(fmt::format("'{}' must be true or false, got '{}'", key, v));
      }
    } else {
      fail(
          fmt::format("unknown key '{}' (known: disable, blocking-functions, "
                      "sys-calls-are-blocking)",
                      key));
    }
  }
  for (const std::string& d : cfg.disabled) {
    if (d.find('*') == std::string::npos && !find_rule(d))
      throw ConfigError(fmt::format("{}: unknown rule '{}' in 'disable'", path, d));
  }
  return cfg;
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read the config file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

std::shared_ptr<const Config> ConfigFinder::for_file(const std::string& source_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(source_file), ec).lexically_normal();
  std::lock_guard<std::mutex> g(mu_);
  return for_dir(p.parent_path().string());
}

std::shared_ptr<const Config> ConfigFinder::for_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  if (auto it = by_dir_.find(dir); it != by_dir_.end()) return it->second;
  std::shared_ptr<const Config> cfg;
  const fs::path candidate = fs::path(dir) / kFileName;
  std::error_code ec;
  if (fs::is_regular_file(candidate, ec)) {
    cfg = std::make_shared<const Config>(load_config_file(candidate.string()));
  } else {
    const fs::path parent = fs::path(dir).parent_path();
    cfg = (parent.empty() || parent == fs::path(dir)) ? std::make_shared<const Config>()
                                                      : for_dir(parent.string());
  }
  by_dir_[dir] = cfg;
  return cfg;
}

}  // namespace tether::lint
