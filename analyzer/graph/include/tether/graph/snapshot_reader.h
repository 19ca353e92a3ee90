// tether/graph/snapshot_reader.h — read and validate a snapshot JSON document.
//
// The reader accepts exactly the format of docs/snapshot-format.md, version 1,
// and rejects everything else with one SnapshotError whose message names the
// file and the place, in one of two forms:
//
//   wait.json:3:17: invalid JSON: syntax error ... (the document does not parse)
//   wait.json: at JSON path /fibers/3/state: expected string
//
// The JSON path is an RFC 6901 pointer to the offending value. Any input —
// truncated, binary, deeply nested, huge numbers — ends in either a Snapshot
// or a SnapshotError; never a crash, a hang or another exception type (except
// std::bad_alloc). Unknown object members are ignored, so that newer writers
// can add fields without breaking older readers; a different `version` is an
// error.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "tether/graph/snapshot.h"

namespace tether::graph {

class SnapshotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `name` is the file name used in messages.
Snapshot parse_snapshot(std::string_view text, std::string_view name);

// Reads the file at `path` (an unreadable file is a SnapshotError too).
Snapshot read_snapshot(const std::string& path);

}  // namespace tether::graph
