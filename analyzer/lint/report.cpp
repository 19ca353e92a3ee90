#include "lint/report.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lint/rules.h"

namespace tether::lint {
namespace {

std::string severity_name(Severity s) {
  return s == Severity::error ? "error" : "warning";
}

// Source lines, read once per file.
class Lines {
 public:
  std::string line(const std::string& file, unsigned n) {
    auto it = files_.find(file);
    if (it == files_.end()) {
      std::vector<std::string> lines;
      std::ifstream in(file);
      std::string l;
      while (std::getline(in, l)) lines.push_back(l);
      it = files_.emplace(file, std::move(lines)).first;
    }
    return n >= 1 && n <= it->second.size() ? it->second[n - 1] : std::string();
  }

 private:
  std::map<std::string, std::vector<std::string>> files_;
};

void text_entry(std::ostream& out, Lines& lines, const SourceLoc& loc, const std::string& root,
                const std::string& kind, const std::string& message) {
  if (loc.file.empty()) {
    out << kind << ": " << message << "\n";
    return;
  }
  out << fmt::format("{}:{}:{}: {}: {}\n", relative_to(loc.file, root), loc.line, loc.column, kind,
                     message);
  const std::string src = lines.line(loc.file, loc.line);
  if (src.empty()) return;
  out << src << "\n";
  std::string caret;
  for (unsigned i = 1; i < loc.column && i <= src.size(); ++i)
    caret += src[i - 1] == '\t' ? '\t' : ' ';
  out << caret << "^\n";
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

nlohmann::json loc_json(const SourceLoc& l, const std::string& root) {
  return {{"file", relative_to(l.file, root)}, {"line", l.line}, {"column", l.column}};
}

nlohmann::json physical(const SourceLoc& l, const std::string& root) {
  nlohmann::json art;
  const std::string rel = relative_to(l.file, root);
  if (rel != l.file || !std::filesystem::path(l.file).is_absolute()) {
    art = {{"uri", uri_encode_path(rel)}, {"uriBaseId", "SRCROOT"}};
  } else {
    art = {{"uri", "file://" + uri_encode_path(l.file)}};
  }
  nlohmann::json p = {{"artifactLocation", art}};
  if (l.line > 0) {
    nlohmann::json region = {{"startLine", l.line}};
    if (l.column > 0) region["startColumn"] = l.column;
    p["region"] = region;
  }
  return p;
}

}  // namespace

std::string relative_to(const std::string& file, const std::string& root) {
  if (root.empty() || file.empty()) return file;
  std::filesystem::path f(file), r(root);
  auto rel = f.lexically_relative(r);
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

void write_text(std::ostream& out, const ReportInput& in) {
  Lines lines;
  for (const Diagnostic& d : in.diagnostics) {
    text_entry(out, lines, d.loc, in.root, severity_name(d.severity),
               fmt::format("{} [{}]", d.message, d.rule));
    for (const Note& n : d.notes) text_entry(out, lines, n.loc, in.root, "note", n.message);
  }
}

void write_json(std::ostream& out, const ReportInput& in) {
  nlohmann::json diags = nlohmann::json::array();
  for (const Diagnostic& d : in.diagnostics) {
    nlohmann::json j = loc_json(d.loc, in.root);
    j["rule"] = d.rule;
    j["severity"] = severity_name(d.severity);
    j["message"] = d.message;
    nlohmann::json notes = nlohmann::json::array();
    for (const Note& n : d.notes) {
      nlohmann::json nj = loc_json(n.loc, in.root);
      nj["message"] = n.message;
      notes.push_back(nj);
    }
    j["notes"] = notes;
    diags.push_back(j);
  }
  nlohmann::json files = nlohmann::json::array();
  for (const std::string& f : in.files) files.push_back(relative_to(f, in.root));
  out << nlohmann::json{{"version", 1}, {"diagnostics", diags}, {"files", files}}.dump(2) << "\n";
}

void write_sarif(std::ostream& out, const ReportInput& in) {
  nlohmann::json rules = nlohmann::json::array();
  std::map<std::string, int> rule_index;
  for (const RuleInfo& r : all_rules()) {
    rule_index[std::string(r.id)] = static_cast<int>(rules.size());
    rules.push_back(
        {{"id", r.id},
         {"name", r.id},
         {"shortDescription", {{"text", r.short_description}}},
         {"fullDescription", {{"text", r.full_description}}},
         {"help", {{"text", r.help}}},
         {"defaultConfiguration",
          {{"level", r.id == kCompileError || r.id == kUnmatchedNolint ? "error" : "warning"}}}});
  }
  Lines lines;
  std::map<std::string, int> occurrences;
  nlohmann::json results = nlohmann::json::array();
  for (const Diagnostic& d : in.diagnostics) {
    nlohmann::json r;
    r["ruleId"] = d.rule;
    if (auto it = rule_index.find(d.rule); it != rule_index.end()) r["ruleIndex"] = it->second;
    r["level"] = severity_name(d.severity);
    r["message"] = {{"text", d.message}};
    if (!d.loc.file.empty())
      r["locations"] = nlohmann::json::array({{{"physicalLocation", physical(d.loc, in.root)}}});
    nlohmann::json related = nlohmann::json::array();
    int id = 0;
    for (const Note& n : d.notes) {
      if (n.loc.file.empty()) continue;
      related.push_back({{"id", id++},
                         {"physicalLocation", physical(n.loc, in.root)},
                         {"message", {{"text", n.message}}}});
    }
    if (!related.empty()) r["relatedLocations"] = related;
    // Stable across edits that move the code: rule, file and the trimmed text
    // of the line, plus an occurrence count for identical lines.
    std::string src = lines.line(d.loc.file, d.loc.line);
    const auto b = src.find_first_not_of(" \t");
    src = b == std::string::npos ? "" : src.substr(b);
    const std::string base =
        fmt::format("{:016x}", fnv1a(src, fnv1a(relative_to(d.loc.file, in.root), fnv1a(d.rule))));
    r["partialFingerprints"] = {
        {"primaryLocationLineHash", fmt::format("{}:{}", base, ++occurrences[base])}};
    results.push_back(r);
  }
  nlohmann::json run = {
      {"tool",
       {{"driver",
         {{"name", "tether-lint"}, {"semanticVersion", in.tool_version}, {"rules", rules}}}}},
      {"results", results},
      {"columnKind", "unicodeCodePoints"}};
  if (!in.root.empty()) {
    std::string root = in.root;
    if (!root.ends_with('/')) root += '/';
    run["originalUriBaseIds"] = {{"SRCROOT", {{"uri", "file://" + uri_encode_path(root)}}}};
  }
  nlohmann::json log = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                        {"version", "2.1.0"},
                        {"runs", nlohmann::json::array({run})}};
  out << log.dump(2) << "\n";
}

void write_report(std::ostream& out, const ReportInput& in, Format f) {
  switch (f) {
    case Format::text:
      write_text(out, in);
      break;
    case Format::json:
      write_json(out, in);
      break;
    case Format::sarif:
      write_sarif(out, in);
      break;
  }
}

}  // namespace tether::lint
