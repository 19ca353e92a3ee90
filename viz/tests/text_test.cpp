// Tests of the DOT text helpers.
#include "text.h"

#include <gtest/gtest.h>

namespace tether::viz::detail {
namespace {

TEST(DotEscape, QuotesBackslashesAndControls) {
  EXPECT_EQ(dot_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(dot_escape("x\ny\tz\x7f"), "x y z ");
  EXPECT_EQ(dot_escape("µs → ok"), "µs → ok");
}

TEST(Truncate, CountsCodePointsAndNeverSplitsThem) {
  EXPECT_EQ(truncate("abcdef", 3), "abc…");
  EXPECT_EQ(truncate("abc", 3), "abc");
  EXPECT_EQ(truncate("ääää", 2), "ää…");
  EXPECT_EQ(truncate("", 0), "");
}

TEST(FormatDuration, Units) {
  EXPECT_EQ(format_duration(-5), "0 ns");
  EXPECT_EQ(format_duration(850), "850 ns");
  EXPECT_EQ(format_duration(12'000), "12 µs");
  EXPECT_EQ(format_duration(3'400'000), "3.4 ms");
  EXPECT_EQ(format_duration(2'000'000'000), "2.0 s");
  EXPECT_EQ(format_duration(240'000'000'000), "4 min");
  EXPECT_EQ(format_duration(10'800'000'000'000), "3.0 h");
}

TEST(Age, UnknownSkewedAndExtreme) {
  EXPECT_EQ(age(std::nullopt, 100), "");
  EXPECT_EQ(age(200, 100), "0 ns");
  EXPECT_EQ(age(INT64_MIN, INT64_MAX), format_duration(INT64_MAX));
  EXPECT_EQ(age(0, 1500), "2 µs");
}

TEST(Locations, ShortAndLong) {
  graph::SourceLoc l{"/src/app/main.cpp", 42, "run()"};
  EXPECT_EQ(short_loc(l), "run() main.cpp:42");
  EXPECT_EQ(long_loc(l), "run()  /src/app/main.cpp:42");
  EXPECT_EQ(short_loc(graph::SourceLoc{}), "");
  EXPECT_EQ(long_loc(graph::SourceLoc{}), "?");
}

}  // namespace
}  // namespace tether::viz::detail
