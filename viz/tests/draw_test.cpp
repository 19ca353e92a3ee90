// Tests of draw_file: formats by extension, errors as DrawError, no partial files.
#include "tether/viz/draw.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tether::viz {
namespace {

namespace fs = std::filesystem;

const std::string kCase = TETHER_VIZ_CASES_DIR "/snapshots/channel_cycle.json";

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("tether-viz-draw-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Draw, FormatForPath) {
  EXPECT_EQ(format_for_path("a.png"), Format::png);
  EXPECT_EQ(format_for_path("a.dot"), Format::dot);
  EXPECT_EQ(format_for_path("a.gv"), Format::dot);
  EXPECT_EQ(format_for_path("a.svg"), Format::svg);
  EXPECT_EQ(format_for_path("a"), Format::svg);
}

TEST(Draw, WritesEachFormat) {
  const fs::path dir = temp_dir();
  draw_file(kCase, (dir / "g.dot").string(), Format::dot, {});
  EXPECT_EQ(slurp(dir / "g.dot").rfind("digraph \"tether\" {", 0), 0u);
  draw_file(kCase, (dir / "g.svg").string(), Format::svg, {});
  EXPECT_NE(slurp(dir / "g.svg").find("<svg"), std::string::npos);
  draw_file(kCase, (dir / "g.png").string(), Format::png, {});
  EXPECT_EQ(slurp(dir / "g.png").substr(1, 3), "PNG");
  EXPECT_FALSE(fs::exists(dir / "g.svg.tmp"));
  fs::remove_all(dir);
}

TEST(Draw, BadSnapshotLeavesOutputAlone) {
  const fs::path dir = temp_dir();
  std::ofstream(dir / "bad.json") << "{\"format\": \"tether-snapshot\", \"version\": 1}";
  std::ofstream(dir / "out.svg") << "previous";
  try {
    draw_file((dir / "bad.json").string(), (dir / "out.svg").string(), Format::svg, {});
    FAIL() << "no error";
  } catch (const DrawError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "bad.json").string() + ": at JSON path /: missing member \"pid\"");
  }
  EXPECT_EQ(slurp(dir / "out.svg"), "previous");
  fs::remove_all(dir);
}

TEST(Draw, UnwritableOutput) {
  try {
    draw_file(kCase, "/nonexistent-dir/x.svg", Format::svg, {});
    FAIL() << "no error";
  } catch (const DrawError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent-dir/x.svg: cannot write: No such file or directory");
  }
}

}  // namespace
}  // namespace tether::viz
