#include "lint/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lint/rules.h"

namespace tether::lint {
namespace {

TEST(Config, ParsesListsAndFlags) {
  Config c = parse_config(
      "# comment\n"
      "disable: [tether-lock-order-inversion, 'tether-self-*']\n"
      "blocking-functions:\n"
      "  - legacy::*_blocking   # trailing comment\n"
      "  - \"net::wait\"\n"
      "sys-calls-are-blocking: true\n",
      "cfg.yaml");
  EXPECT_FALSE(c.rule_enabled("tether-lock-order-inversion"));
  EXPECT_FALSE(c.rule_enabled("tether-self-request"));
  EXPECT_TRUE(c.rule_enabled("tether-lock-misuse"));
  EXPECT_TRUE(c.is_user_blocking("legacy::fetch_blocking"));
  EXPECT_TRUE(c.is_user_blocking("net::wait"));
  EXPECT_FALSE(c.is_user_blocking("legacy::fetch"));
  EXPECT_TRUE(c.sys_calls_are_blocking);
}

TEST(Config, ErrorsNameFileAndLine) {
  try {
    parse_config("disable: []\nfrobnicate: yes\n", "dir/.tether-lint.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "dir/.tether-lint.yaml:2: unknown key 'frobnicate' (known: disable, "
                 "blocking-functions, sys-calls-are-blocking)");
  }
  EXPECT_THROW(parse_config("  - stray\n", "c"), ConfigError);
  EXPECT_THROW(parse_config("sys-calls-are-blocking: maybe\n", "c"), ConfigError);
  EXPECT_THROW(parse_config("disable: [tether-no-such-rule]\n", "c"), ConfigError);
  EXPECT_THROW(parse_config("disable: [a\n", "c"), ConfigError);
  EXPECT_THROW(load_config_file("/nonexistent/.tether-lint.yaml"), ConfigError);
}

TEST(Config, FinderUsesTheNearestFileUpward) {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("tether-lint-cfg-" + std::to_string(::getpid()));
  fs::create_directories(root / "a" / "b" / "c");
  std::ofstream(root / "a" / ConfigFinder::kFileName) << "disable: [tether-lock-misuse]\n";
  std::ofstream(root / "a" / "b" / "c" / ConfigFinder::kFileName) << "blocking-functions: [x]\n";
  ConfigFinder finder;
  auto in_b = finder.for_file((root / "a" / "b" / "f.cpp").string());
  EXPECT_FALSE(in_b->rule_enabled("tether-lock-misuse"));
  auto in_c = finder.for_file((root / "a" / "b" / "c" / "g.cpp").string());
  EXPECT_TRUE(in_c->rule_enabled("tether-lock-misuse"));  // nearest file only, no merging
  EXPECT_TRUE(in_c->is_user_blocking("x"));
  auto outside = finder.for_file((root / "h.cpp").string());
  EXPECT_TRUE(outside->source.empty() || outside->source.find(root.string()) == std::string::npos);
  fs::remove_all(root);
}

TEST(Rules, GlobMatch) {
  EXPECT_TRUE(glob_match("tether-*", "tether-lock-misuse"));
  EXPECT_TRUE(glob_match("*misuse", "tether-lock-misuse"));
  EXPECT_TRUE(glob_match("t*-lock-*e", "tether-lock-misuse"));
  EXPECT_FALSE(glob_match("tether-lock", "tether-lock-misuse"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("a*b", "acbd"));
  for (const RuleInfo& r : all_rules()) EXPECT_EQ(find_rule(r.id), &r);
  EXPECT_EQ(find_rule("nope"), nullptr);
}

}  // namespace
}  // namespace tether::lint
