// run_lint() end to end on small generated projects (each test parses one or
// two tiny TUs without standard headers, to keep the suite fast).
#include "lint/linter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace tether::lint {
namespace {

namespace fs = std::filesystem;

class LinterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tether-lint-run-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string add(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    nlohmann::json e = {{"directory", dir_.string()},
                        {"file", path},
                        {"arguments",
                         {"clang++", "-std=c++20", "-I" TETHER_SOURCE_DIR "/runtime/include", "-c",
                          path, "-o", "/dev/null"}}};
    db_.push_back(e);
    std::ofstream(dir_ / "compile_commands.json") << db_.dump();
    return path;
  }
  LintOptions options() const {
    LintOptions o;
    o.build_dir = dir_.string();
    return o;
  }

  fs::path dir_;
  nlohmann::json db_ = nlohmann::json::array();
};

constexpr const char* kDoubleLock = R"(
struct M { void lock(); void unlock(); };
namespace tether { class Mutex { public: void lock(); void unlock(); }; }
tether::Mutex m;
void f() {
  m.lock();
  m.lock();
  m.unlock();
}
)";

TEST_F(LinterTest, FindsAndExitsOne) {
  const std::string f = add("a.cpp", kDoubleLock);
  LintResult r = run_lint(options());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].rule, "tether-lock-misuse");
  EXPECT_EQ(r.diagnostics[0].loc.file, f);
  EXPECT_EQ(r.diagnostics[0].loc.line, 7u);
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_GT(r.files[0].parse_seconds, 0.0);
}

TEST_F(LinterTest, DisabledRuleAndNolint) {
  add("a.cpp", kDoubleLock);
  LintOptions o = options();
  o.disabled = {"tether-lock-*"};
  EXPECT_EQ(run_lint(o).exit_code, 0);
  std::string text = kDoubleLock;
  text.replace(text.find("  m.lock();\n  m.unlock"), 11,
               "  m.lock();  // NOLINT(tether-lock-misuse)\n");
  add("b.cpp", text);
  LintOptions only_b = options();
  only_b.files = {(dir_ / "b.cpp").string()};
  EXPECT_EQ(run_lint(only_b).diagnostics.size(), 0u);
}

TEST_F(LinterTest, CompileErrorIsReportedAndChecksStillRun) {
  add("bad.cpp", std::string(kDoubleLock) + "int g() { return nope; }\n");
  LintResult r = run_lint(options());
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(r.diagnostics.size(), 2u);
  EXPECT_EQ(r.diagnostics[0].rule, "tether-lock-misuse");
  EXPECT_EQ(r.diagnostics[1].rule, "clang-diagnostic-error");
  EXPECT_EQ(r.diagnostics[1].loc.line, 10u);
  EXPECT_FALSE(r.files[0].compiled);
}

TEST_F(LinterTest, ParallelGivesTheSameResult) {
  add("a.cpp", kDoubleLock);
  add("b.cpp", kDoubleLock);
  add("c.cpp", "void clean() {}\n");
  LintOptions o = options();
  LintResult one = run_lint(o);
  o.jobs = 2;
  LintResult two = run_lint(o);
  ASSERT_EQ(one.diagnostics.size(), 2u);
  ASSERT_EQ(two.diagnostics.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(one.diagnostics[i].loc, two.diagnostics[i].loc);
    EXPECT_EQ(one.diagnostics[i].message, two.diagnostics[i].message);
  }
}

TEST_F(LinterTest, BadInputThrowsOneMessage) {
  LintOptions o = options();
  EXPECT_THROW(run_lint(o), LintError);  // no compile_commands.json yet
  add("a.cpp", kDoubleLock);
  o.files = {(dir_ / "missing.cpp").string()};
  try {
    run_lint(o);
    FAIL();
  } catch (const LintError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.cpp: no such file"), std::string::npos);
  }
  o.files.clear();
  o.config_file = (dir_ / "nope.yaml").string();
  EXPECT_THROW(run_lint(o), LintError);
}

}  // namespace
}  // namespace tether::lint
