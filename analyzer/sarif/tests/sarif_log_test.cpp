#include "tether/sarif/sarif_log.h"

#include <gtest/gtest.h>

#include <sstream>

#include <fmt/format.h>

namespace tether::sarif {
namespace {

using Json = nlohmann::json;

SarifLog two_rule_log(const std::string& root = "/src") {
  SarifLog log("tool", "1.2.3", root);
  log.add_rule({"a", "short a", "full a", "help a", "error"});
  log.add_rule({"b", "short b", "full b", "help b", "warning"});
  return log;
}

TEST(SarifLog, ToolRulesAndRun) {
  const Json j = two_rule_log().to_json();
  EXPECT_EQ(j["version"], "2.1.0");
  EXPECT_EQ(j["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
  ASSERT_EQ(j["runs"].size(), 1u);
  const Json& run = j["runs"][0];
  const Json& driver = run["tool"]["driver"];
  EXPECT_EQ(driver["name"], "tool");
  EXPECT_EQ(driver["semanticVersion"], "1.2.3");
  ASSERT_EQ(driver["rules"].size(), 2u);
  EXPECT_EQ(driver["rules"][1]["id"], "b");
  EXPECT_EQ(driver["rules"][1]["name"], "b");
  EXPECT_EQ(driver["rules"][1]["fullDescription"]["text"], "full b");
  EXPECT_EQ(driver["rules"][0]["defaultConfiguration"]["level"], "error");
  EXPECT_TRUE(run["results"].is_array());
  EXPECT_EQ(run["columnKind"], "unicodeCodePoints");
  EXPECT_EQ(run["originalUriBaseIds"]["SRCROOT"]["uri"], "file:///src/");
}

TEST(SarifLog, NoVersionNoRoot) {
  const Json j = SarifLog("tool", "", "").to_json();
  EXPECT_FALSE(j["runs"][0]["tool"]["driver"].contains("semanticVersion"));
  EXPECT_FALSE(j["runs"][0].contains("originalUriBaseIds"));
}

// Built field by field: GCC 12 at -O3 warns (maybe-uninitialized, a false
// positive) on brace-initialized temporaries of these from string literals.
RelatedLocation related(const std::string& file, unsigned line, const std::string& message) {
  RelatedLocation x;
  x.location.file = file;
  x.location.line = line;
  x.message = message;
  return x;
}

TEST(SarifLog, ResultLocationsAndRuleIndex) {
  SarifLog log = two_rule_log();
  Result r;
  r.rule_id = "b";
  r.level = "warning";
  r.message = "m";
  r.location.file = "/src/d/x y.cpp";
  r.location.line = 7;
  r.location.column = 3;
  r.related.push_back(related("/src/d/x y.cpp", 2, "first"));
  r.related.push_back(related("", 9, "no file: skipped"));
  r.related.push_back(related("/elsewhere/z.h", 4, "second"));
  log.add_result(r);
  r.rule_id = "unknown";
  r.location = {};
  r.related.clear();
  log.add_result(r);
  const Json res = log.to_json()["runs"][0]["results"];
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0]["ruleIndex"], 1);
  EXPECT_EQ(res[0]["message"]["text"], "m");
  const Json& pl = res[0]["locations"][0]["physicalLocation"];
  EXPECT_EQ(pl["artifactLocation"]["uri"], "d/x%20y.cpp");
  EXPECT_EQ(pl["artifactLocation"]["uriBaseId"], "SRCROOT");
  EXPECT_EQ(pl["region"]["startLine"], 7);
  EXPECT_EQ(pl["region"]["startColumn"], 3);
  const Json& rel = res[0]["relatedLocations"];
  ASSERT_EQ(rel.size(), 2u);
  EXPECT_EQ(rel[0]["id"], 0);
  EXPECT_FALSE(rel[0]["physicalLocation"]["region"].contains("startColumn"));
  EXPECT_EQ(rel[1]["id"], 1);
  EXPECT_EQ(rel[1]["message"]["text"], "second");
  EXPECT_EQ(rel[1]["physicalLocation"]["artifactLocation"]["uri"], "file:///elsewhere/z.h");
  EXPECT_FALSE(rel[1]["physicalLocation"]["artifactLocation"].contains("uriBaseId"));
  // A rule that was not added: no ruleIndex; no file: no locations.
  EXPECT_FALSE(res[1].contains("ruleIndex"));
  EXPECT_FALSE(res[1].contains("locations"));
  EXPECT_FALSE(res[1].contains("relatedLocations"));
}

TEST(SarifLog, LineZeroHasNoRegion) {
  SarifLog log = two_rule_log();
  Result r;
  r.rule_id = "a";
  r.location.file = "rel/trace.tt";
  log.add_result(r);
  const Json pl = log.to_json()["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
  EXPECT_FALSE(pl.contains("region"));
  // A relative path is taken as relative to SRCROOT.
  EXPECT_EQ(pl["artifactLocation"]["uri"], "rel/trace.tt");
  EXPECT_EQ(pl["artifactLocation"]["uriBaseId"], "SRCROOT");
}

std::string fingerprint(const Json& result) {
  return result["partialFingerprints"]["primaryLocationLineHash"];
}

TEST(SarifLog, FingerprintsHashThePartsAndCountRepeats) {
  SarifLog log = two_rule_log();
  Result r;
  r.rule_id = "a";
  r.fingerprint = {"a", "x.cpp", "m.lock();"};
  r.location.file = "/src/x.cpp";
  r.location.line = 3;
  r.location.column = 1;
  log.add_result(r);
  r.location.line = 40;  // the same parts elsewhere: the same hash, the next count
  log.add_result(r);
  r.fingerprint = {"x.cpp", "a", "m.lock();"};  // order matters
  log.add_result(r);
  const Json res = log.to_json()["runs"][0]["results"];
  std::uint64_t h = fnv1a("m.lock();", fnv1a("x.cpp", fnv1a("a")));
  const std::string base = fmt::format("{:016x}", h);
  EXPECT_EQ(fingerprint(res[0]), base + ":1");
  EXPECT_EQ(fingerprint(res[1]), base + ":2");
  EXPECT_NE(fingerprint(res[2]).substr(0, 16), base);
  EXPECT_EQ(fingerprint(res[2]).substr(16), ":1");
  // A new log counts from 1 again: the fingerprint does not depend on what
  // came before in another run.
  SarifLog other = two_rule_log();
  r.fingerprint = {"a", "x.cpp", "m.lock();"};
  other.add_result(r);
  EXPECT_EQ(fingerprint(other.to_json()["runs"][0]["results"][0]), base + ":1");
}

TEST(SarifLog, WriteIsIndentedJsonAndANewline) {
  std::ostringstream out;
  two_rule_log().write(out);
  const std::string s = out.str();
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.back(), '\n');
  EXPECT_EQ(s.substr(0, 4), "{\n  ");
  EXPECT_EQ(Json::parse(s), two_rule_log().to_json());
}

TEST(SarifPaths, RelativeAndUri) {
  EXPECT_EQ(relative_to("/a/b/c.cpp", "/a"), "b/c.cpp");
  EXPECT_EQ(relative_to("/x/c.cpp", "/a"), "/x/c.cpp");
  EXPECT_EQ(relative_to("/a/b.cpp", ""), "/a/b.cpp");
  EXPECT_EQ(uri_encode_path("dir/a b#c%.cpp"), "dir/a%20b%23c%25.cpp");
  EXPECT_EQ(fnv1a(""), 1469598103934665603ull);
}

}  // namespace
}  // namespace tether::sarif
