// Golden DOT files: for every snapshot in testcases/viz/snapshots/NAME.json,
// `to_dot` must equal testcases/viz/golden/NAME.dot byte for byte (and
// NAME.focus.dot with --focus). To accept a deliberate change, run the test
// with TETHER_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tether/graph/snapshot_reader.h"
#include "tether/viz/dot_writer.h"

namespace tether::viz {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void check(const fs::path& golden, const std::string& actual) {
  if (const char* update = std::getenv("TETHER_UPDATE_GOLDEN");
      update != nullptr && *update == '1') {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " missing; run with TETHER_UPDATE_GOLDEN=1";
  const std::string expected = slurp(golden);
  if (expected == actual) return;
  // Point at the first differing line instead of dumping two whole graphs.
  std::istringstream e(expected), a(actual);
  std::string el, al;
  int line = 1;
  while (std::getline(e, el) && std::getline(a, al) && el == al) ++line;
  ADD_FAILURE() << golden << " differs at line " << line << "\n  expected: " << el
                << "\n  actual:   " << al;
}

TEST(Golden, EverySnapshotMatchesItsDot) {
  const fs::path dir = TETHER_VIZ_CASES_DIR;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir / "snapshots")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const graph::WaitGraph g(graph::read_snapshot(entry.path().string()));
    const std::string name = entry.path().stem().string();
    check(dir / "golden" / (name + ".dot"), to_dot(g));
    DotOptions focus;
    focus.focus = true;
    check(dir / "golden" / (name + ".focus.dot"), to_dot(g, focus));
    ++checked;
  }
  EXPECT_GE(checked, 18);
}

}  // namespace
}  // namespace tether::viz
