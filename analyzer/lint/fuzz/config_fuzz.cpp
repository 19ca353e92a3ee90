// Fuzzes the lint configuration reader (analyzer/lint/config.h).
//
// The reader promises: any text ends in a Config or in one ConfigError whose
// message names the file ("fuzz.yaml:LINE: ..." or "fuzz.yaml: ..."); never a
// crash, a hang or another exception type. On success every list item is
// non-empty, a disabled id without '*' is a known rule, and what the config
// says about each rule and a few function names is answered (glob matching
// must stay linear-ish: a pathological pattern is a timeout, i.e. a finding).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lint/config.h"
#include "lint/rules.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "config_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tether::lint::Config cfg;
  try {
    cfg = tether::lint::parse_config(text, "fuzz.yaml");
  } catch (const tether::lint::ConfigError& e) {
    const std::string_view msg = e.what();
    if (msg.rfind("fuzz.yaml:", 0) != 0) fail("error message does not name the file", msg);
    return 0;
  }
  if (cfg.source != "fuzz.yaml") fail("source is not the file name", cfg.source);
  for (const std::string& d : cfg.disabled) {
    if (d.empty()) fail("empty disable item", "");
    if (d.find('*') == std::string::npos && !tether::lint::find_rule(d))
      fail("unknown rule accepted", d);
    if (d.find('*') == std::string::npos && cfg.rule_enabled(d))
      fail("a disabled rule is still enabled", d);
  }
  for (const std::string& b : cfg.blocking_functions) {
    if (b.empty()) fail("empty blocking-functions item", "");
    if (b.find('*') == std::string::npos && !cfg.is_user_blocking(b))
      fail("a listed blocking function is not blocking", b);
  }
  for (const tether::lint::RuleInfo& r : tether::lint::all_rules()) (void)cfg.rule_enabled(r.id);
  (void)cfg.is_user_blocking("mylib::wait_for_vsync");
  (void)cfg.is_user_blocking(std::string(200, 'a') + "::b");
  tether::lint::Config merged;
  merged.merge(cfg);
  if (merged.disabled.size() != cfg.disabled.size() ||
      merged.sys_calls_are_blocking != cfg.sys_calls_are_blocking)
    fail("merge into defaults changed the settings", "");
  return 0;
}
