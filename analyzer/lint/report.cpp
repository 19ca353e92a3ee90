#include "lint/report.h"

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

nlohmann::json loc_json(const SourceLoc& l, const std::string& root) {
  return {{"file", relative_to(l.file, root)}, {"line", l.line}, {"column", l.column}};
}

}  // namespace

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
  sarif::SarifLog log("tether-lint", in.tool_version, in.root);
  for (const RuleInfo& r : all_rules())
    log.add_rule({std::string(r.id), std::string(r.short_description),
                  std::string(r.full_description), std::string(r.help),
                  r.id == kCompileError || r.id == kUnmatchedNolint ? "error" : "warning"});
  Lines lines;
  for (const Diagnostic& d : in.diagnostics) {
    sarif::Result r;
    r.rule_id = d.rule;
    r.level = severity_name(d.severity);
    r.message = d.message;
    r.location = {d.loc.file, d.loc.line, d.loc.column};
    for (const Note& n : d.notes)
      r.related.push_back({{n.loc.file, n.loc.line, n.loc.column}, n.message});
    // Stable across edits that move the code: rule, file and the trimmed text
    // of the line (the log adds an occurrence count for identical lines).
    std::string src = lines.line(d.loc.file, d.loc.line);
    const auto b = src.find_first_not_of(" \t");
    src = b == std::string::npos ? "" : src.substr(b);
    r.fingerprint = {d.rule, relative_to(d.loc.file, in.root), src};
    log.add_result(r);
  }
  log.write(out);
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
