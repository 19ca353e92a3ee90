#include "duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tether::cli {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, UnitsAndBareSeconds) {
  EXPECT_EQ(parse_duration("30s"), std::chrono::nanoseconds(30s));
  EXPECT_EQ(parse_duration("30"), std::chrono::nanoseconds(30s));
  EXPECT_EQ(parse_duration("0.5"), std::chrono::nanoseconds(500ms));
  EXPECT_EQ(parse_duration("250ms"), std::chrono::nanoseconds(250ms));
  EXPECT_EQ(parse_duration("1.5s"), std::chrono::nanoseconds(1500ms));
  EXPECT_EQ(parse_duration("2m"), std::chrono::nanoseconds(120s));
  EXPECT_EQ(parse_duration("1h"), std::chrono::nanoseconds(3600s));
  EXPECT_EQ(parse_duration("10us"), std::chrono::nanoseconds(10us));
  EXPECT_EQ(parse_duration("10\xC2\xB5s"), std::chrono::nanoseconds(10us));
  EXPECT_EQ(parse_duration("7ns"), std::chrono::nanoseconds(7));
  EXPECT_EQ(parse_duration("0"), std::chrono::nanoseconds(0));
}

TEST(ParseDuration, CompoundLikeGo) {
  EXPECT_EQ(parse_duration("1m30s"), std::chrono::nanoseconds(90s));
  EXPECT_EQ(parse_duration("1h2m3s4ms"), std::chrono::nanoseconds(1h + 2min + 3s + 4ms));
}

TEST(ParseDuration, RejectsWithAReason) {
  for (const char* bad : {"", "s", "abc", "-1s", "10x", "1.2.3s", "1m30", "5 s", "1e3s"}) {
    std::string error;
    EXPECT_FALSE(parse_duration(bad, &error)) << bad;
    EXPECT_NE(error.find("duration"), std::string::npos) << bad << ": " << error;
  }
}

TEST(ParseDuration, RejectsAbsurdlyLong) {
  std::string error;
  EXPECT_FALSE(parse_duration("10001h", &error));
  EXPECT_NE(error.find("10000h"), std::string::npos) << error;
  EXPECT_TRUE(parse_duration("10000h"));
}

}  // namespace
}  // namespace tether::cli
