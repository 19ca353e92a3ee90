// tether/sarif/sarif_log.h — one SARIF 2.1.0 log: a tool, its rules and its
// results, the way `tether lint` and `tether analyze` both write them.
//
// What a SarifLog produces (OASIS SARIF 2.1.0, validated against the
// official schema by the lint.sarif.schema and trace.analyze.sarif tests):
//
//   - one run; tool.driver with the tool's name, its semanticVersion when
//     given, and every rule added (id, name, short/full description, help,
//     defaultConfiguration.level);
//   - per result: ruleId, ruleIndex (when the rule was added), level,
//     message.text, at most one location, relatedLocations (numbered 0, 1,
//     ... in the order given), and partialFingerprints.primaryLocationLineHash;
//   - locations below `root` are relative URIs against the base id SRCROOT,
//     which run.originalUriBaseIds maps to file://ROOT/; files outside it are
//     absolute file:// URIs; every URI is percent-encoded (RFC 3986);
//   - columnKind unicodeCodePoints.
//
// Fingerprints are the caller's choice of what identifies a finding across
// edits (a rule, a file, the text of a line; never a line number): the parts
// are hashed in order (64-bit FNV-1a), and a count of earlier results with
// the same hash in this log is appended ("<16 hex digits>:<n>"), so two
// identical findings stay distinct and each keeps its fingerprint.
//
// Keys of the JSON objects come out sorted (nlohmann::json), so the output
// does not depend on the order fields are set in; results and rules keep the
// order they were added in.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::sarif {

// A reportingDescriptor: one kind of finding the tool reports.
struct Rule {
  std::string id;  // also its name
  std::string short_description;
  std::string full_description;
  std::string help;
  std::string level = "warning";  // defaultConfiguration.level: "error", "warning" or "note"
};

// A place in a source file. An empty file means "no location"; line 0 means
// no region; column 0 means a region without startColumn.
struct Location {
  std::string file;
  unsigned line = 0;
  unsigned column = 0;
};

struct RelatedLocation {
  Location location;  // skipped when its file is empty
  std::string message;
};

struct Result {
  std::string rule_id;
  std::string level = "warning";
  std::string message;
  Location location;  // omitted from the log when its file is empty
  std::vector<RelatedLocation> related;
  std::vector<std::string> fingerprint;  // hashed in order; see above
};

class SarifLog {
 public:
  // `root`: the directory SRCROOT stands for; empty: no SRCROOT, every
  // absolute path is a file:// URI. `version`: empty leaves it out.
  SarifLog(std::string tool_name, std::string version, std::string root);

  // Rules first, then the results that refer to them.
  void add_rule(const Rule& rule);
  void add_result(const Result& result);

  nlohmann::json to_json() const;
  // The log, indented by two, and a newline.
  void write(std::ostream& out) const;

 private:
  nlohmann::json physical(const Location& l) const;

  std::string tool_name_;
  std::string version_;
  std::string root_;
  nlohmann::json rules_ = nlohmann::json::array();
  nlohmann::json results_ = nlohmann::json::array();
  std::map<std::string, int> rule_index_;
  std::map<std::string, int> occurrences_;  // fingerprint hash -> results so far
};

// `file` relative to `root` when it lies below it, else unchanged.
std::string relative_to(const std::string& file, const std::string& root);
// RFC 3986 percent-encoding of a path for a URI (keeps '/').
std::string uri_encode_path(const std::string& path);
// 64-bit FNV-1a of `s`, continuing from `h`.
std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull);

}  // namespace tether::sarif
