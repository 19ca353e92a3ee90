// lint/rules.h — the rule table: ids, descriptions and help (also SARIF's
// tool.driver.rules). docs/lint-rules.md is the long form.
#pragma once

#include <span>
#include <string_view>

namespace tether::lint {

inline constexpr std::string_view kBlockingOnSharedThread = "tether-blocking-call-on-shared-thread";
inline constexpr std::string_view kSelfRequest = "tether-self-request";
inline constexpr std::string_view kLockMisuse = "tether-lock-misuse";
inline constexpr std::string_view kLockOrderInversion = "tether-lock-order-inversion";
inline constexpr std::string_view kUnbufferedSelfDeadlock = "tether-unbuffered-self-deadlock";
inline constexpr std::string_view kCompileError = "clang-diagnostic-error";
inline constexpr std::string_view kUnmatchedNolint = "tether-nolint-unmatched";

struct RuleInfo {
  std::string_view id;
  std::string_view short_description;
  std::string_view full_description;
  std::string_view help;
};

// Every rule the checker can report, in a fixed order.
std::span<const RuleInfo> all_rules();
// nullptr for an unknown id.
const RuleInfo* find_rule(std::string_view id);

// clang-tidy style glob: '*' matches any run of characters; a leading '-'
// is not handled here (callers strip it).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace tether::lint
