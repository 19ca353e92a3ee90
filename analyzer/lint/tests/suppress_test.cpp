#include "lint/suppress.h"

#include <gtest/gtest.h>

namespace tether::lint {
namespace {

TEST(Suppressions, SameLineAllRules) {
  auto s = Suppressions::parse("a();\nb();  // NOLINT\nc();\n", "f.cpp");
  EXPECT_FALSE(s.suppressed(1, "tether-lock-misuse"));
  EXPECT_TRUE(s.suppressed(2, "tether-lock-misuse"));
  EXPECT_TRUE(s.suppressed(2, "anything"));
  EXPECT_FALSE(s.suppressed(3, "tether-lock-misuse"));
  EXPECT_TRUE(s.errors().empty());
}

TEST(Suppressions, ListedRulesAndGlobs) {
  auto s = Suppressions::parse(
      "x();  // NOLINT(tether-self-request, tether-lock-*)\n"
      "y();  /* NOLINT(tether-self-request) */\n",
      "f.cpp");
  EXPECT_TRUE(s.suppressed(1, "tether-self-request"));
  EXPECT_TRUE(s.suppressed(1, "tether-lock-misuse"));
  EXPECT_TRUE(s.suppressed(1, "tether-lock-order-inversion"));
  EXPECT_FALSE(s.suppressed(1, "tether-blocking-call-on-shared-thread"));
  EXPECT_TRUE(s.suppressed(2, "tether-self-request"));
  EXPECT_FALSE(s.suppressed(2, "tether-lock-misuse"));
}

TEST(Suppressions, NextLineOnlyAffectsTheNextLine) {
  auto s = Suppressions::parse("// NOLINTNEXTLINE(tether-lock-misuse)\nx();\ny();\n", "f.cpp");
  EXPECT_FALSE(s.suppressed(1, "tether-lock-misuse"));
  EXPECT_TRUE(s.suppressed(2, "tether-lock-misuse"));
  EXPECT_FALSE(s.suppressed(3, "tether-lock-misuse"));
}

TEST(Suppressions, BeginEndRegion) {
  auto s = Suppressions::parse(
      "a();\n// NOLINTBEGIN(tether-*)\nb();\nc();\n// NOLINTEND(tether-*)\nd();\n", "f.cpp");
  EXPECT_FALSE(s.suppressed(1, "tether-lock-misuse"));
  EXPECT_TRUE(s.suppressed(3, "tether-lock-misuse"));
  EXPECT_TRUE(s.suppressed(4, "tether-self-request"));
  EXPECT_FALSE(s.suppressed(6, "tether-lock-misuse"));
  EXPECT_TRUE(s.errors().empty());
}

TEST(Suppressions, UnmatchedBeginAndEndAreReported) {
  auto s = Suppressions::parse(
      "// NOLINTBEGIN(tether-lock-misuse)\nb();\n// NOLINTEND(tether-self-request)\nc();\n",
      "f.cpp");
  // The END names another list: it closes nothing, and the BEGIN stays open.
  EXPECT_FALSE(s.suppressed(2, "tether-lock-misuse"));
  ASSERT_EQ(s.errors().size(), 2u);
  EXPECT_EQ(s.errors()[0].loc.line, 3u);
  EXPECT_NE(s.errors()[0].message.find("NOLINTEND"), std::string::npos);
  EXPECT_EQ(s.errors()[1].loc.line, 1u);
  EXPECT_NE(s.errors()[1].message.find("NOLINTBEGIN"), std::string::npos);
  EXPECT_EQ(s.errors()[1].rule, "tether-nolint-unmatched");
}

TEST(Suppressions, MarkerMustBeInAComment) {
  auto s = Suppressions::parse("auto s = \"// NOLINT\"; f();\nNOLINT();\n", "f.cpp");
  EXPECT_FALSE(s.suppressed(1, "tether-lock-misuse"));
  EXPECT_FALSE(s.suppressed(2, "tether-lock-misuse"));
}

}  // namespace
}  // namespace tether::lint
