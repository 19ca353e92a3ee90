#include "tether/sarif/sarif_log.h"

#include <cctype>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

namespace tether::sarif {

using Json = nlohmann::json;

std::string relative_to(const std::string& file, const std::string& root) {
  if (root.empty() || file.empty()) return file;
  const auto rel = std::filesystem::path(file).lexically_relative(root);
  if (rel.empty() || rel.native().starts_with("..")) return file;
  return rel.string();
}

std::string uri_encode_path(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

SarifLog::SarifLog(std::string tool_name, std::string version, std::string root)
    : tool_name_(std::move(tool_name)), version_(std::move(version)), root_(std::move(root)) {}

void SarifLog::add_rule(const Rule& r) {
  rule_index_[r.id] = static_cast<int>(rules_.size());
  rules_.push_back({{"id", r.id},
                    {"name", r.id},
                    {"shortDescription", {{"text", r.short_description}}},
                    {"fullDescription", {{"text", r.full_description}}},
                    {"help", {{"text", r.help}}},
                    {"defaultConfiguration", {{"level", r.level}}}});
}

// A relative path (below the root, or given relative) is a URI against
// SRCROOT; an absolute path outside the root is a file:// URI.
Json SarifLog::physical(const Location& l) const {
  const std::string rel = relative_to(l.file, root_);
  Json art = rel != l.file || !std::filesystem::path(l.file).is_absolute()
                 ? Json{{"uri", uri_encode_path(rel)}, {"uriBaseId", "SRCROOT"}}
                 : Json{{"uri", "file://" + uri_encode_path(l.file)}};
  Json p = {{"artifactLocation", art}};
  if (l.line > 0) {
    Json region = {{"startLine", l.line}};
    if (l.column > 0) region["startColumn"] = l.column;
    p["region"] = region;
  }
  return p;
}

void SarifLog::add_result(const Result& r) {
  Json res = {{"ruleId", r.rule_id}, {"level", r.level}, {"message", {{"text", r.message}}}};
  if (auto it = rule_index_.find(r.rule_id); it != rule_index_.end()) res["ruleIndex"] = it->second;
  if (!r.location.file.empty())
    res["locations"] = Json::array({{{"physicalLocation", physical(r.location)}}});
  Json related = Json::array();
  for (const RelatedLocation& x : r.related) {
    if (x.location.file.empty()) continue;
    related.push_back({{"id", static_cast<int>(related.size())},
                       {"physicalLocation", physical(x.location)},
                       {"message", {{"text", x.message}}}});
  }
  if (!related.empty()) res["relatedLocations"] = related;
  std::uint64_t h = 1469598103934665603ull;
  for (const std::string& part : r.fingerprint) h = fnv1a(part, h);
  const std::string base = fmt::format("{:016x}", h);
  res["partialFingerprints"] = {
      {"primaryLocationLineHash", fmt::format("{}:{}", base, ++occurrences_[base])}};
  results_.push_back(std::move(res));
}

Json SarifLog::to_json() const {
  Json driver = {{"name", tool_name_}, {"rules", rules_}};
  if (!version_.empty()) driver["semanticVersion"] = version_;
  Json run = {
      {"tool", {{"driver", driver}}}, {"results", results_}, {"columnKind", "unicodeCodePoints"}};
  if (!root_.empty()) {
    std::string base = root_;
    if (!base.ends_with('/')) base += '/';
    run["originalUriBaseIds"] = {{"SRCROOT", {{"uri", "file://" + uri_encode_path(base)}}}};
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", Json::array({run})}};
}

void SarifLog::write(std::ostream& out) const {
  out << to_json().dump(2) << "\n";
}

}  // namespace tether::sarif
