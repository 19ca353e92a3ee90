// The Chrome Trace Event export: structure Perfetto needs (X events with dur
// nesting per track, M names for every process and track, matched flows, a
// global instant per finding).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tether/trace/analysis.h"
#include "trace_builder.h"

namespace tether::trace {
namespace {

using testing::TraceBuilder;

// A server locked to "gl" answering one request, then a lock cycle.
TraceBuilder program() {
  TraceBuilder b;
  b.start();
  b.site(1, "serve", "/src/s.cpp", 10);
  b.thread(5, "gl", "locker");
  b.object(20, "chan", "requests", 1);
  b.object(10, "mutex", "a", 1);
  b.object(11, "mutex", "b", 1);
  b.fiber(2, 1, "server", 5);
  b.fiber(3, 1, "x");
  b.tick().run(5, 2);
  b.park(5, 2, WaitReason::chan_receive, 20, 1);
  b.tick().send(1, 1, 20);
  b.unpark(1, 2, 1);
  b.tick().run(5, 2);
  b.recv(5, 2, 20);
  b.syscall(5, 2, "write", 1, -1, 1);
  b.tick(50'000).syscall_exit(5, 2, 4);
  b.lock(5, 2, 10);
  b.tick().run(2, 3);
  b.lock(2, 3, 11);
  b.tick().park(5, 2, WaitReason::mutex_lock, 11);
  b.park(2, 3, WaitReason::mutex_lock, 10);
  b.tick().park(1, 1, WaitReason::sleep, 0, 0, 0, true);
  return b;
}

TEST(ChromeExport, StructureOpensInPerfetto) {
  Analyzer a;
  for (const Event& e : program().events) a.add(e);
  const AnalysisResult r = a.finish();
  ASSERT_FALSE(r.findings.empty());
  const std::string text = a.chrome_json(r);
  const nlohmann::json doc = nlohmann::json::parse(text);  // throws on invalid JSON
  ASSERT_TRUE(doc.contains("traceEvents"));
  const auto& events = doc["traceEvents"];
  ASSERT_TRUE(events.is_array());

  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>>
      slices;  // track -> [ts, end]
  std::set<int> named_pids;
  std::set<std::pair<int, int>> named_tracks;
  std::map<long, int> flows;  // id -> s count - f count
  int instants = 0;
  std::set<std::string> names;
  for (const auto& e : events) {
    const std::string ph = e.at("ph");
    const int pid = e.at("pid");
    const int tid = e.at("tid");
    if (ph == "X") {
      ASSERT_TRUE(e.contains("dur")) << e.dump();
      const double ts = e.at("ts"), dur = e.at("dur");
      EXPECT_GE(dur, 0.0);
      slices[{pid, tid}].push_back({ts, ts + dur});
      names.insert(e.at("name").get<std::string>());
    } else if (ph == "M") {
      if (e.at("name") == "process_name") named_pids.insert(pid);
      if (e.at("name") == "thread_name") named_tracks.insert({pid, tid});
      EXPECT_TRUE(e.at("args").contains("name"));
    } else if (ph == "s") {
      ++flows[e.at("id").get<long>()];
    } else if (ph == "f") {
      --flows[e.at("id").get<long>()];
    } else if (ph == "i") {
      EXPECT_EQ(e.at("s"), "g");
      ++instants;
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  // Every track's slices nest (here: never overlap), and every track and
  // process is named.
  for (auto& [track, list] : slices) {
    std::sort(list.begin(), list.end());
    for (std::size_t i = 1; i < list.size(); ++i)
      EXPECT_LE(list[i - 1].second, list[i].first + 1e-6)
          << "overlap on pid " << track.first << " tid " << track.second;
    EXPECT_TRUE(named_tracks.count(track)) << track.second;
    EXPECT_TRUE(named_pids.count(track.first)) << track.first;
  }
  // The server (fiber 2) is on the "gl" thread's process, apart from the
  // pool; so is main (1) on thread "main", locked after its creation.
  EXPECT_TRUE(slices.count({1005, 2}));
  EXPECT_TRUE(slices.count({1001, 1}));
  EXPECT_TRUE(slices.count({1, 3}));
  EXPECT_TRUE(names.count("chan receive chan:20 \"requests\"")) << text;
  EXPECT_TRUE(names.count("syscall write(fd 1)")) << text;
  EXPECT_TRUE(names.count("running"));
  ASSERT_FALSE(flows.empty());
  for (auto [id, balance] : flows) EXPECT_EQ(balance, 0) << "flow " << id;
  EXPECT_EQ(instants, static_cast<int>(r.findings.size()));
}

// A plain thread's waits (park/unpark of fiber 0) are slices on a "plain
// threads" process, one named track per thread; the one still open at the
// end runs to the end. They make no fiber track.
TEST(ChromeExport, PlainThreadWaitsAreSlicesOfTheirOwnTrack) {
  Analyzer a;
  for (const Event& e : testing::plain_thread_program().events) a.add(e);
  const AnalysisResult r = a.finish();
  const nlohmann::json doc = nlohmann::json::parse(a.chrome_json(r));
  std::vector<std::pair<double, double>> plain;  // [ts, dur] on pid 2, tid 30
  bool process_named = false, track_named = false;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("pid") != 2) continue;
    if (e.at("ph") == "X") {
      EXPECT_EQ(e.at("tid"), 30) << e.dump();
      EXPECT_EQ(e.at("name"), "chan send chan:20 \"jobs\"") << e.dump();
      EXPECT_EQ(e.at("args").at("site"), "/src/p.cpp:9") << e.dump();
      plain.push_back({e.at("ts").get<double>(), e.at("dur").get<double>()});
    } else if (e.at("ph") == "M") {
      if (e.at("name") == "process_name") process_named = e.at("args").at("name") == "plain threads";
      if (e.at("name") == "thread_name" && e.at("tid") == 30)
        track_named = e.at("args").at("name") == "worker 4242";
    }
  }
  ASSERT_EQ(plain.size(), 2u) << doc.dump();
  std::sort(plain.begin(), plain.end());
  EXPECT_DOUBLE_EQ(plain[0].second, 5.0);  // 2'000'000 -> 2'005'000 ns
  EXPECT_DOUBLE_EQ(plain[1].second, 4.0);  // 2'006'000 -> the end, 2'010'000 ns
  EXPECT_DOUBLE_EQ(plain[1].first - plain[0].first, 6.0);
  EXPECT_TRUE(process_named);
  EXPECT_TRUE(track_named);
}

}  // namespace
}  // namespace tether::trace
