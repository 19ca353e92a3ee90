// lint/report.h — writing findings as text (clang-tidy's layout), JSON or
// SARIF 2.1.0.
//
// Text:  file:line:col: warning: message [rule-id]
//        <the source line>
//        <caret under the column>
//        file:line:col: note: ...   (same layout, one per note)
// JSON:  {"version":1,"diagnostics":[{rule,severity,file,line,column,message,notes:[...]}],
//         "files":[...]}
// SARIF: one run, tool.driver.rules from rules.h, results with ruleId,
//        ruleIndex, level, message, a repo-relative location (uriBaseId
//        SRCROOT), relatedLocations for the notes and partialFingerprints
//        that survive the code moving up or down.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "lint/diagnostic.h"

namespace tether::lint {

enum class Format { text, json, sarif };

struct ReportInput {
  std::vector<Diagnostic> diagnostics;  // sorted
  std::vector<std::string> files;       // the files that were linted
  std::string root;                     // paths are shown relative to it (SARIF: SRCROOT)
  std::string tool_version;
};

void write_text(std::ostream& out, const ReportInput& in);
void write_json(std::ostream& out, const ReportInput& in);
void write_sarif(std::ostream& out, const ReportInput& in);
void write_report(std::ostream& out, const ReportInput& in, Format f);

// `file` relative to `root` when it lies below it, else unchanged.
std::string relative_to(const std::string& file, const std::string& root);
// RFC 3986 percent-encoding of a path for a URI (keeps '/').
std::string uri_encode_path(const std::string& path);

}  // namespace tether::lint
