// Tests of the snapshot reader: every hand-written case reads, and every kind
// of bad input ends in one SnapshotError naming the file and the JSON path.
#include "tether/graph/snapshot_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tether::graph {
namespace {

const char* const kMinimal = R"({
  "format": "tether-snapshot", "version": 1, "pid": 1, "program": "p", "time_ns": 100,
  "threads": [{"id": 1, "name": "main", "kind": "main", "tid": 5, "running": null, "syscall": null}],
  "fibers": [{"id": 1, "name": "main", "state": "chan receive", "object": "chan:9", "since_ns": 50,
              "site": {"file": "a.cpp", "line": 3, "function": "f"}, "locked_to": 1,
              "stack": [{"function": "f", "file": "a.cpp", "line": 3}]}],
  "objects": [{"id": 9, "kind": "chan", "name": "c", "capacity": 0, "size": 0, "closed": false,
               "senders": [], "receivers": [1]}],
  "edges": [{"from": "fiber:1", "to": "chan:9", "kind": "waits_for", "since_ns": 50}],
  "deadlocks": [{"kind": "global", "nodes": ["fiber:1", "chan:9"], "explanation": "x"}]
})";

std::string error_of(const std::string& text) {
  try {
    parse_snapshot(text, "snap.json");
  } catch (const SnapshotError& e) {
    return e.what();
  }
  return "(no error)";
}

// kMinimal with the first occurrence of `from` replaced by `to`.
std::string with(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(SnapshotReader, ReadsMinimal) {
  const Snapshot s = parse_snapshot(kMinimal, "snap.json");
  EXPECT_EQ(s.pid, 1);
  EXPECT_EQ(s.time_ns, 100);
  ASSERT_EQ(s.fibers.size(), 1u);
  EXPECT_EQ(s.fibers[0].state, "chan receive");
  ASSERT_TRUE(s.fibers[0].object.has_value());
  EXPECT_EQ(*s.fibers[0].object, (NodeId{NodeKind::chan, 9}));
  EXPECT_EQ(s.fibers[0].locked_to, 1u);
  EXPECT_EQ(s.fibers[0].stack.at(0).line, 3u);
  ASSERT_EQ(s.objects.size(), 1u);
  EXPECT_EQ(s.objects[0].receivers, std::vector<std::uint64_t>{1});
  ASSERT_EQ(s.deadlocks.size(), 1u);
  EXPECT_EQ(s.deadlocks[0].nodes.size(), 2u);
}

TEST(SnapshotReader, TypeErrorNamesPath) {
  EXPECT_EQ(error_of(with("\"state\": \"chan receive\"", "\"state\": 3")),
            "snap.json: at JSON path /fibers/0/state: expected string");
  EXPECT_EQ(error_of(with("\"line\": 3,", "\"line\": -3,")),
            "snap.json: at JSON path /fibers/0/site/line: expected non-negative integer");
  EXPECT_EQ(error_of(with("\"pid\": 1", "\"pid\": 1.5")),
            "snap.json: at JSON path /pid: expected integer");
  EXPECT_EQ(error_of(with("\"closed\": false", "\"closed\": 0")),
            "snap.json: at JSON path /objects/0/closed: expected true or false");
  EXPECT_EQ(error_of(with("\"edges\": [", "\"edges\": 5, \"x\": [")),
            "snap.json: at JSON path /edges: expected array");
}

TEST(SnapshotReader, MissingMember) {
  EXPECT_EQ(error_of(with("\"kind\": \"main\", ", "")),
            "snap.json: at JSON path /threads/0: missing member \"kind\"");
  EXPECT_EQ(error_of(with("\"time_ns\": 100,", "")),
            "snap.json: at JSON path /: missing member \"time_ns\"");
}

TEST(SnapshotReader, BadValues) {
  EXPECT_NE(error_of(with("chan receive", "chan recv"))
                .find("/fibers/0/state: unknown fiber state \"chan recv\""),
            std::string::npos);
  EXPECT_NE(error_of(with("\"kind\": \"main\"", "\"kind\": \"gui\""))
                .find("/threads/0/kind: unknown thread kind"),
            std::string::npos);
  EXPECT_NE(error_of(with("\"waits_for\"", "\"blocks\"")).find("/edges/0/kind: unknown edge kind"),
            std::string::npos);
  EXPECT_NE(
      error_of(with("\"global\"", "\"cycle\"")).find("/deadlocks/0/kind: unknown deadlock kind"),
      std::string::npos);
  EXPECT_NE(error_of(with("\"fiber:1\", \"to\"", "\"fiber1\", \"to\""))
                .find("/edges/0/from: expected node id"),
            std::string::npos);
  EXPECT_NE(error_of(with("\"tether-snapshot\"", "\"tether-trace\""))
                .find("/format: expected \"tether-snapshot\""),
            std::string::npos);
  EXPECT_NE(
      error_of(with("\"version\": 1", "\"version\": 2")).find("/version: unsupported version 2"),
      std::string::npos);
  EXPECT_NE(error_of(with("\"size\": 0", "\"size\": 4")).find("/objects/0/size: must be between"),
            std::string::npos);
  EXPECT_NE(error_of(with("\"pid\": 1", "\"pid\": 99999999999999999999")).find("/pid: "),
            std::string::npos);
}

TEST(SnapshotReader, DanglingReferences) {
  EXPECT_EQ(error_of(with("\"to\": \"chan:9\"", "\"to\": \"chan:99\"")),
            "snap.json: at JSON path /edges/0/to: no node \"chan:99\" in this snapshot");
  EXPECT_EQ(error_of(with("\"object\": \"chan:9\"", "\"object\": \"mutex:9\"")),
            "snap.json: at JSON path /fibers/0/object: no node \"mutex:9\" in this snapshot");
  EXPECT_EQ(error_of(with("\"locked_to\": 1", "\"locked_to\": 2")),
            "snap.json: at JSON path /fibers/0/locked_to: no thread with id 2");
  EXPECT_EQ(error_of(with("\"running\": null", "\"running\": 4")),
            "snap.json: at JSON path /threads/0/running: no fiber with id 4");
  EXPECT_EQ(error_of(with("[\"fiber:1\", \"chan:9\"]", "[\"fiber:1\", \"syscall:1\"]")),
            "snap.json: at JSON path /deadlocks/0/nodes/1: no node \"syscall:1\" in this snapshot");
  EXPECT_EQ(error_of(with("\"nodes\": [\"fiber:1\", \"chan:9\"]", "\"nodes\": []")),
            "snap.json: at JSON path /deadlocks/0/nodes: a deadlock must name at least one node");
}

// plain_threads is optional: a plain thread blocked in call() and the fiber
// running its call (docs/snapshot-format.md).
TEST(SnapshotReader, PlainThreadsInCall) {
  const std::string plain =
      ",\n  \"plain_threads\": [{\"id\": 2, \"name\": \"thread 77\", \"tid\": 77, \"state\": "
      "\"call\", \"waits_for\": \"fiber:1\", \"thread\": 1, \"since_ns\": 40, \"site\": "
      "{\"file\": \"m.cpp\", \"line\": 9}}]\n}";
  std::string text = kMinimal;
  text.replace(text.rfind("\n}"), 2, plain);
  const std::string with_plain_users =
      [&] {
        std::string t = text;
        t.replace(t.find("\"receivers\": [1]"), 16, "\"receivers\": [1], \"plain_senders\": [2]");
        return t;
      }();
  const Snapshot s = parse_snapshot(with_plain_users, "snap.json");
  ASSERT_EQ(s.plain_threads.size(), 1u);
  EXPECT_EQ(s.plain_threads[0].id, 2u);
  EXPECT_EQ(s.plain_threads[0].waits_for, 1u);
  EXPECT_EQ(s.plain_threads[0].thread, 1u);
  EXPECT_EQ(s.plain_threads[0].site.line, 9u);
  EXPECT_EQ(s.objects[0].plain_senders, std::vector<std::uint64_t>{2});
  EXPECT_TRUE(parse_snapshot(kMinimal, "snap.json").plain_threads.empty());  // optional
  auto bad = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return error_of(t);
  };
  EXPECT_EQ(bad("\"waits_for\": \"fiber:1\"", "\"waits_for\": \"fiber:5\""),
            "snap.json: at JSON path /plain_threads/0/waits_for: no fiber with id 5");
  EXPECT_EQ(bad("\"waits_for\": \"fiber:1\"", "\"waits_for\": \"chan:9\""),
            "snap.json: at JSON path /plain_threads/0/waits_for: expected a fiber, got \"chan:9\"");
  EXPECT_EQ(bad("\"state\": \"call\"", "\"state\": \"sleep\""),
            "snap.json: at JSON path /plain_threads/0/state: unknown plain thread state \"sleep\" "
            "(expected call)");
}

TEST(SnapshotReader, Duplicates) {
  std::string s = with("\"objects\": [", "\"objects\": [{\"id\": 9, \"kind\": \"once\"}, ");
  EXPECT_EQ(error_of(s), "snap.json: at JSON path /objects/1/id: duplicate object id 9");
}

TEST(SnapshotReader, SyntaxErrorHasLineAndColumn) {
  const std::string e = error_of("{\n  \"format\": \"tether-snapshot\",\n  \"version\": x\n}");
  EXPECT_EQ(e.rfind("snap.json:3:14: invalid JSON: ", 0), 0u) << e;
  EXPECT_EQ(error_of("").rfind("snap.json:1:1: invalid JSON: ", 0), 0u) << error_of("");
  EXPECT_EQ(error_of("[1, 2]"), "snap.json: at JSON path /: expected object");
}

TEST(SnapshotReader, PathEscapesTildeAndSlash) {
  // Unknown members are ignored, so a key with '/' only shows up through
  // the path of a nested error; check the escaping via a wrong top-level type.
  EXPECT_EQ(error_of("{\"format\": 1}"), "snap.json: at JSON path /format: expected string");
}

TEST(SnapshotReader, NoCrashOnAnyPrefixOrByteFlip) {
  // Every prefix of a valid document, and every single-byte corruption of
  // it, must end in a Snapshot or a SnapshotError: nothing else escapes.
  const std::string doc = kMinimal;
  for (std::size_t len = 0; len < doc.size(); ++len) {
    EXPECT_THROW(parse_snapshot(doc.substr(0, len), "snap.json"), SnapshotError) << len;
  }
  const char replacements[] = {'"', '{', '}', '[',  ']',  ',',    ':',
                               '0', '-', 'x', '\\', '\0', '\xff', ' '};
  for (std::size_t i = 0; i < doc.size(); ++i) {
    for (char r : replacements) {
      std::string s = doc;
      s[i] = r;
      try {
        parse_snapshot(s, "snap.json");
      } catch (const SnapshotError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("snap.json:", 0), 0u);
      }
    }
  }
}

TEST(SnapshotReader, DeepNestingDoesNotOverflow) {
  std::string deep =
      "{\"format\": \"tether-snapshot\", \"version\": 1, \"pid\": 1, \"time_ns\": 1, \"junk\": ";
  deep += std::string(200000, '[') + std::string(200000, ']') + ", \"threads\": 5}";
  EXPECT_EQ(error_of(deep), "snap.json: at JSON path /threads: expected array");
}

TEST(SnapshotReader, FileErrors) {
  try {
    read_snapshot("/nonexistent/dir/snap.json");
    FAIL() << "no error";
  } catch (const SnapshotError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/dir/snap.json: cannot open: No such file or directory");
  }
  EXPECT_THROW(read_snapshot("/"), SnapshotError);
}

TEST(SnapshotReader, AllTestCasesRead) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TETHER_VIZ_CASES_DIR "/snapshots")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(read_snapshot(entry.path().string()));
    ++count;
  }
  EXPECT_GE(count, 16);
}

}  // namespace
}  // namespace tether::graph
