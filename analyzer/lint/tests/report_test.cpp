#include "lint/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tether::lint {
namespace {

namespace fs = std::filesystem;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tether-lint-report-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "src");
    file_ = (root_ / "src" / "a b.cpp").string();
    std::ofstream(file_) << "int x;\n\tm.lock();\n";
    Diagnostic d;
    d.rule = "tether-lock-misuse";
    d.loc = SourceLoc{file_, 2, 2};
    d.message = "'m' is locked twice";
    d.notes.push_back(Note{SourceLoc{file_, 1, 5}, "first locked here"});
    in_.diagnostics.push_back(d);
    in_.files.push_back(file_);
    in_.root = root_.string();
    in_.tool_version = "0.1.0";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  std::string file_;
  ReportInput in_;
};

TEST_F(ReportTest, TextIsClangTidyLayout) {
  std::ostringstream out;
  write_text(out, in_);
  EXPECT_EQ(out.str(),
            "src/a b.cpp:2:2: warning: 'm' is locked twice [tether-lock-misuse]\n"
            "\tm.lock();\n"
            "\t^\n"
            "src/a b.cpp:1:5: note: first locked here\n"
            "int x;\n"
            "    ^\n");
}

TEST_F(ReportTest, Json) {
  std::ostringstream out;
  write_json(out, in_);
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["diagnostics"].size(), 1u);
  EXPECT_EQ(j["diagnostics"][0]["file"], "src/a b.cpp");
  EXPECT_EQ(j["diagnostics"][0]["line"], 2);
  EXPECT_EQ(j["diagnostics"][0]["notes"][0]["message"], "first locked here");
}

TEST_F(ReportTest, SarifFieldsAndStableFingerprints) {
  std::ostringstream out;
  write_sarif(out, in_);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["version"], "2.1.0");
  const auto& run = j["runs"][0];
  const auto& r = run["results"][0];
  EXPECT_EQ(r["ruleId"], "tether-lock-misuse");
  EXPECT_EQ(run["tool"]["driver"]["rules"][r["ruleIndex"].get<int>()]["id"], "tether-lock-misuse");
  const auto& loc = r["locations"][0]["physicalLocation"];
  EXPECT_EQ(loc["artifactLocation"]["uri"], "src/a%20b.cpp");
  EXPECT_EQ(loc["artifactLocation"]["uriBaseId"], "SRCROOT");
  EXPECT_EQ(loc["region"]["startLine"], 2);
  EXPECT_EQ(r["relatedLocations"][0]["message"]["text"], "first locked here");
  const std::string fp = r["partialFingerprints"]["primaryLocationLineHash"];

  // The same finding after the code moved down two lines keeps its fingerprint.
  std::ofstream(file_) << "int x;\n\n\n\tm.lock();\n";
  in_.diagnostics[0].loc.line = 4;
  std::ostringstream moved;
  write_sarif(moved, in_);
  auto j2 = nlohmann::json::parse(moved.str());
  EXPECT_EQ(j2["runs"][0]["results"][0]["partialFingerprints"]["primaryLocationLineHash"], fp);
}

TEST(Report, RelativePathsAndUris) {
  EXPECT_EQ(relative_to("/a/b/c.cpp", "/a"), "b/c.cpp");
  EXPECT_EQ(relative_to("/x/c.cpp", "/a"), "/x/c.cpp");
  EXPECT_EQ(uri_encode_path("dir/a b#c.cpp"), "dir/a%20b%23c.cpp");
}

}  // namespace
}  // namespace tether::lint
