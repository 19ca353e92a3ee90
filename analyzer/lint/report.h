// lint/report.h — writing findings as text (clang-tidy's layout), JSON or
// SARIF 2.1.0.
//
// Text:  file:line:col: warning: message [rule-id]
//        <the source line>
//        <caret under the column>
//        file:line:col: note: ...   (same layout, one per note)
// JSON:  {"version":1,"diagnostics":[{rule,severity,file,line,column,message,notes:[...]}],
//         "files":[...]}
// SARIF: a tether/sarif/sarif_log.h log: one run, tool.driver.rules from
//        rules.h, results with ruleId, ruleIndex, level, message, a
//        repo-relative location (uriBaseId SRCROOT), relatedLocations for the
//        notes and partialFingerprints that survive the code moving up or
//        down (rule, file and the trimmed text of the line).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "lint/diagnostic.h"
#include "tether/sarif/sarif_log.h"

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

// `file` relative to `root` when it lies below it, else unchanged; a path's
// RFC 3986 percent-encoding for a URI (keeps '/'). Shared with the SARIF log.
using sarif::relative_to;
using sarif::uri_encode_path;

}  // namespace tether::lint
