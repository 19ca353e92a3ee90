// `tether analyze TRACE [--format text|json|sarif] [--at TIME] [--summary]
//                       [--export chrome OUT.json] [-o FILE] [--root DIR]`
//
// Streams an event trace (docs/trace-format.md) through TraceReader into the
// analyses (tether/trace/analysis.h) and writes what they found
// (docs/analyze-format.md). A corrupt or truncated trace is analyzed up to
// its last valid record, with one warning naming the file and the byte; only
// a trace with nothing usable (unreadable, bad header, no event) is an input
// error. Without the analyses library the command reports the stream summary.
//
// Exit status: 0 nothing found, 1 findings, 2 usage or unusable input.
#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "duration.h"
#include "exit_codes.h"
#include "tether/trace/trace_reader.h"
#include "tether/trace/trace_summary.h"
#ifdef TETHER_HAVE_TRACE_ANALYSIS
#include "tether/sarif/sarif_log.h"
#include "tether/trace/analysis.h"
#endif

namespace tether::cli {
namespace {

using Json = nlohmann::json;

struct AnalyzeOptions {
  std::string input;
  std::string format = "text";
  std::string at;
  std::vector<std::string> export_args;  // {"chrome", "OUT.json"}
  std::string output;
  std::string root;
  bool summary = false;
};

// What reading produced: the header, the stream's summary, how it ended.
struct ReadResult {
  trace::TraceHeader header;
  trace::TraceSummary summary;
  trace::ReaderStats stats;
  std::optional<trace::TraceError> error;
};

// TIME: nanoseconds since the trace's start when a bare integer, else a
// duration ("1.5s", "200ms": cli/duration.h).
std::optional<std::int64_t> parse_at(const std::string& text, std::string& why) {
  if (!text.empty() && text.size() < 19 &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::stoll(text);
  const auto d = parse_duration(text, &why);
  if (!d) return std::nullopt;
  return d->count();
}

std::string format_ns(std::int64_t ns) {
  if (ns < 1000) return fmt::format("{} ns", ns);
  if (ns < 1000000) return fmt::format("{:.1f} us", ns / 1e3);
  if (ns < 1000000000) return fmt::format("{:.1f} ms", ns / 1e6);
  return fmt::format("{:.3f} s", ns / 1e9);
}

void write_summary_text(std::ostream& out, const std::string& file, const ReadResult& r) {
  const trace::TraceSummary& s = r.summary;
  out << fmt::format("trace {}: format version {}, pid {}{}{}\n", file, r.header.version,
                     r.header.pid, r.header.program.empty() ? "" : ", program ",
                     r.header.program);
  out << fmt::format("  {} events in {} blocks; {} of {} bytes valid; {}\n", s.events(),
                     r.stats.blocks, r.stats.valid_bytes, r.stats.file_bytes,
                     r.stats.clean_end ? "clean end"
                     : r.error         ? "stopped at an error"
                                       : "no end record (killed or still running)");
  out << fmt::format("  {} fibers, {} threads, {} objects; {} (from {} to {})\n", s.fibers(),
                     s.threads(), s.objects(), format_ns(s.last_ns() - s.first_ns()),
                     format_ns(s.first_ns()), format_ns(s.last_ns()));
  if (r.stats.lost_events)
    out << fmt::format("  {} events lost (the writer fell behind)\n", r.stats.lost_events);
  for (std::size_t i = 0; i < trace::kEventTypeCount; ++i) {
    const auto t = static_cast<trace::EventType>(i);
    if (s.count(t)) out << fmt::format("  {:<15} {}\n", trace::to_string(t), s.count(t));
  }
}

Json summary_json(const ReadResult& r) {
  const trace::TraceSummary& s = r.summary;
  Json by_type = Json::object();
  for (std::size_t i = 0; i < trace::kEventTypeCount; ++i) {
    const auto t = static_cast<trace::EventType>(i);
    if (s.count(t)) by_type[std::string(trace::to_string(t))] = s.count(t);
  }
  return {{"events", s.events()},   {"by_type", by_type},     {"fibers", s.fibers()},
          {"threads", s.threads()}, {"objects", s.objects()}, {"start_ns", s.first_ns()},
          {"end_ns", s.last_ns()},  {"lost_events", r.stats.lost_events}};
}

Json trace_json(const std::string& file, const ReadResult& r) {
  Json j = {{"file", file},
            {"format_version", r.header.version},
            {"pid", r.header.pid},
            {"program", r.header.program},
            {"bytes", r.stats.file_bytes},
            {"valid_bytes", r.stats.valid_bytes},
            {"blocks", r.stats.blocks},
            {"clean_end", r.stats.clean_end},
            {"error", nullptr}};
  if (r.error)
    j["error"] = {{"message", r.error->message()},
                  {"offset", r.error->offset},
                  {"expected", r.error->expected},
                  {"found", r.error->found}};
  return j;
}

#ifdef TETHER_HAVE_TRACE_ANALYSIS
// --- the analyses' results (docs/analyze-format.md) ---------------------------

// `file` relative to `root` when it lies below it (as lint shows paths).
using sarif::relative_to;

Json site_json(const trace::SourceSite& s, const std::string& root) {
  if (s.file.empty() && s.function.empty()) return nullptr;
  return {{"function", s.function}, {"file", relative_to(s.file, root)}, {"line", s.line}};
}

Json stack_json(const std::vector<trace::Frame>& frames, const std::string& root) {
  Json a = Json::array();
  for (const trace::Frame& f : frames)
    a.push_back({{"function", f.function}, {"file", relative_to(f.file, root)}, {"line", f.line}});
  return a;
}

Json finding_json(const trace::Finding& f, const std::string& root) {
  Json fibers = Json::array();
  for (const trace::FiberInfo& x : f.fibers)
    fibers.push_back({{"id", x.id},
                      {"name", x.name},
                      {"state", x.state},
                      {"object", x.object.empty() ? Json(nullptr) : Json(x.object)},
                      {"since_ns", x.since_ns},
                      {"site", site_json(x.site, root)},
                      {"created_at", site_json(x.created_at, root)},
                      {"locked_to", x.locked_to ? Json(x.locked_to) : Json(nullptr)},
                      {"stack", stack_json(x.stack, root)}});
  Json objects = Json::array();
  for (const trace::ObjectInfo& o : f.objects)
    objects.push_back({{"id", o.id}, {"kind", o.kind}, {"name", o.name}});
  Json threads = Json::array();
  for (const trace::ThreadInfo& t : f.threads) threads.push_back({{"id", t.id}, {"name", t.name}});
  Json edges = Json::array();
  for (const trace::LockOrderEdge& e : f.lock_edges)
    edges.push_back({{"held", e.held},
                     {"acquired", e.acquired},
                     {"fiber", e.fiber},
                     {"time_ns", e.time_ns},
                     {"held_site", site_json(e.held_site, root)},
                     {"acquired_site", site_json(e.acquired_site, root)},
                     {"held_stack", stack_json(e.held_stack, root)},
                     {"acquired_stack", stack_json(e.acquired_stack, root)}});
  return {{"kind", f.kind},
          {"pattern", f.pattern},
          {"time_ns", f.time_ns},
          {"fibers", fibers},
          {"objects", objects},
          {"threads", threads},
          {"nodes", f.nodes},
          {"lock_edges", edges},
          {"message", f.message},
          {"explanation", f.explanation},
          {"location", site_json(f.location, root)},
          {"text", f.text}};
}

Json profile_json(const std::vector<trace::ProfileEntry>& entries, const std::string& root) {
  Json a = Json::array();
  for (const trace::ProfileEntry& p : entries)
    a.push_back({{"reason", p.reason},
                 {"site", site_json(p.site, root)},
                 {"stack", stack_json(p.frames, root)},
                 {"count", p.count},
                 {"total_ns", p.total_ns},
                 {"max_ns", p.max_ns}});
  return a;
}

Json analysis_json(const trace::AnalysisResult& r, const std::string& root) {
  Json findings = Json::array(), online = Json::array(), occupancies = Json::array();
  for (const trace::Finding& f : r.findings) findings.push_back(finding_json(f, root));
  for (const trace::Finding& f : r.online) online.push_back(finding_json(f, root));
  for (const trace::Occupancy& o : r.occupancies)
    occupancies.push_back({{"thread", o.thread},
                           {"thread_name", o.thread_name},
                           {"fiber", o.fiber},
                           {"what", o.what},
                           {"start_ns", o.start_ns},
                           {"duration_ns", o.duration_ns},
                           {"waiting", o.waiting},
                           {"ongoing", o.ongoing},
                           {"site", site_json(o.site, root)}});
  return {{"format", "tether-analysis"},
          {"version", 1},
          {"at_ns", r.at_ns},
          {"clean_end", r.stats.clean_end},
          {"exit_status", r.stats.clean_end ? Json(r.stats.exit_status) : Json(nullptr)},
          {"findings", findings},
          {"online", online},
          {"occupancies", occupancies},
          {"profile",
           {{"by_reason", profile_json(r.profile.by_reason, root)},
            {"by_site", profile_json(r.profile.by_site, root)}}}};
}

std::string site_text(const trace::SourceSite& s, const std::string& root) {
  if (s.file.empty()) return s.function.empty() ? "unknown site" : s.function;
  return fmt::format("{}:{}{}{}", relative_to(s.file, root), s.line,
                     s.function.empty() ? "" : " ", s.function);
}

void write_analysis_text(std::ostream& out, const trace::AnalysisResult& r,
                         const std::string& root) {
  for (const trace::Finding& f : r.findings) {
    if (!f.text.empty()) {
      out << f.text << (f.text.ends_with('\n') ? "" : "\n");
    } else {
      out << fmt::format("tether: {} ({}): {}\n", f.kind, f.pattern, f.message);
    }
    out << "\n";
  }
  if (!r.occupancies.empty()) {
    out << "longest occupancies of shared threads:\n";
    for (const trace::Occupancy& o : r.occupancies)
      out << fmt::format("  thread {} \"{}\": fiber {} {} for {} from {}{}{} ({})\n", o.thread,
                         o.thread_name, o.fiber, o.what, format_ns(o.duration_ns),
                         format_ns(o.start_ns), o.waiting ? fmt::format(", {} waiting", o.waiting)
                                                          : std::string(),
                         o.ongoing ? ", still held at the end" : "", site_text(o.site, root));
  }
  if (!r.profile.by_reason.empty()) {
    out << "blocking profile (by wait reason):\n";
    for (const trace::ProfileEntry& p : r.profile.by_reason)
      out << fmt::format("  {:<20} {:>8} waits  total {:>10}  max {:>10}\n", p.reason, p.count,
                         format_ns(p.total_ns), format_ns(p.max_ns));
  }
  if (!r.profile.by_site.empty()) {
    out << "blocking profile (top call sites):\n";
    std::size_t n = 0;
    for (const trace::ProfileEntry& p : r.profile.by_site) {
      if (++n > 10) break;
      out << fmt::format("  {:<20} {:>8} waits  total {:>10}  max {:>10}  {}\n", p.reason,
                         p.count, format_ns(p.total_ns), format_ns(p.max_ns),
                         site_text(p.site, root));
    }
  }
  out << fmt::format("{} finding{} at {}{}\n", r.findings.size(),
                     r.findings.size() == 1 ? "" : "s", format_ns(r.at_ns),
                     r.stats.clean_end ? " (the end of a clean run)" : "");
}

// --- SARIF 2.1.0: the log `tether lint --format sarif` writes too (tether/sarif/sarif_log.h) ---

struct RuleInfo {
  const char* id;
  const char* level;
  const char* text;
};
// One rule per finding kind, and per pattern for deadlocks (DESIGN, "What is detected").
constexpr RuleInfo kRules[] = {
    {"deadlock/global", "error", "Every fiber is blocked and nothing can wake one"},
    {"deadlock/lock-cycle", "error", "Fibers hold locks each of the others wants"},
    {"deadlock/channel-cycle", "error", "Fibers wait on channels only the others would serve"},
    {"deadlock/orphan-wait", "error", "A fiber waits on an object no live fiber can reach"},
    {"deadlock/shared-thread-syscall", "error",
     "A fiber blocks its shared OS thread in a system call that only a fiber locked to the same "
     "thread could complete"},
    {"deadlock/self-request", "error", "A locked server waits for a reply to its own request"},
    {"deadlock/call-self", "error", "ThreadLocker::call() into the caller's own thread"},
    {"deadlock/rwmutex-reader-writer", "error",
     "Readers queued behind a waiting writer wait for it while holding the lock it needs"},
    {"leak", "warning", "A fiber was still blocked when the program ended"},
    {"lock-order-inversion", "warning",
     "Two locks are taken in both orders somewhere in the run (a potential deadlock)"},
    {"stall", "warning", "A fiber held a shared thread for long while others waited for it"},
    {"misuse", "error", "A misuse of the runtime's API (misuse_error)"},
};

std::string rule_id(const trace::Finding& f) {
  return f.kind == "deadlock" ? "deadlock/" + f.pattern : f.kind;
}

sarif::Location sarif_location(const trace::SourceSite& s) {
  return {s.file, s.line > 0 ? static_cast<unsigned>(s.line) : 0u, 0};
}

sarif::SarifLog sarif_log(const trace::AnalysisResult& r, const std::string& trace_file,
                          const std::string& root) {
  sarif::SarifLog log("tether-analyze", "", root);
  for (const RuleInfo& rule : kRules)
    log.add_rule({rule.id, rule.text, rule.text,
                  "See docs/deadlock-patterns.md and docs/analyze-format.md", rule.level});
  // A result needs a location: the primary site, or else the trace itself
  // (made absolute: a relative trace path is relative to here, not to --root).
  std::error_code ec;
  std::string trace_path = std::filesystem::absolute(trace_file, ec).lexically_normal().string();
  if (ec) trace_path = trace_file;
  for (const trace::Finding& f : r.findings) {
    sarif::Result res;
    res.rule_id = rule_id(f);
    res.level = f.kind == "deadlock" || f.kind == "misuse" ? "error" : "warning";
    res.message = f.message.empty() ? f.kind + " (" + f.pattern + ")" : f.message;
    res.location =
        f.location.file.empty() ? sarif::Location{trace_path, 0, 0} : sarif_location(f.location);
    // Every other site the finding names: where each fiber waits, both
    // acquisitions of a lock-order inversion.
    for (const trace::FiberInfo& x : f.fibers)
      res.related.push_back(
          {sarif_location(x.site), fmt::format("fiber {}{}{} waits here ({})", x.id,
                                               x.name.empty() ? "" : " ", x.name, x.state)});
    for (const trace::LockOrderEdge& e : f.lock_edges) {
      res.related.push_back(
          {sarif_location(e.held_site), fmt::format("fiber {} took {} here", e.fiber, e.held)});
      res.related.push_back(
          {sarif_location(e.acquired_site), fmt::format("then took {} here", e.acquired)});
    }
    // Stable when the code moves: file, rule, function and the fibers' sites.
    res.fingerprint = {relative_to(f.location.file, root), res.rule_id, f.location.function};
    for (const trace::FiberInfo& x : f.fibers) {
      res.fingerprint.push_back(x.state);
      res.fingerprint.push_back(x.site.function);
    }
    log.add_result(res);
  }
  return log;
}
#endif  // TETHER_HAVE_TRACE_ANALYSIS

int run_analyze(const AnalyzeOptions& o) {
  std::optional<std::int64_t> at_ns;
  if (!o.at.empty()) {
    std::string why;
    at_ns = parse_at(o.at, why);
    if (!at_ns) {
      fmt::print(stderr, "tether analyze: --at {}: {}\n", o.at, why);
      return kExitUsage;
    }
  }
  if (!o.export_args.empty() && (o.export_args.size() != 2 || o.export_args[0] != "chrome")) {
    fmt::print(stderr, "tether analyze: --export takes KIND FILE with KIND chrome, not '{}'\n",
               o.export_args.empty() ? "" : o.export_args[0]);
    return kExitUsage;
  }
#ifdef TETHER_HAVE_TRACE_ANALYSIS
  trace::AnalysisOptions aopt;
  aopt.at_ns = at_ns;
  trace::Analyzer analyzer(aopt);
#else
  if (!o.export_args.empty()) {
    fmt::print(stderr, "tether analyze: --export: this tether was built without the analyses\n");
    return kExitUsage;
  }
#endif

  trace::TraceReader reader(o.input);
  ReadResult r;
  trace::Event e;
  while (reader.next(e)) {
    r.summary.add(e);
#ifdef TETHER_HAVE_TRACE_ANALYSIS
    analyzer.add(e);
#endif
  }
  r.header = reader.header();
  r.stats = reader.stats();
  r.error = reader.error();
  if (!reader.header_ok() || r.stats.events == 0) {
    if (r.error) {
      fmt::print(stderr, "tether analyze: {}\n", r.error->message());
    } else {
      fmt::print(stderr, "tether analyze: {}: the trace holds no events\n", o.input);
    }
    return kExitUsage;
  }
  if (r.error)
    fmt::print(stderr, "tether analyze: warning: {} (analyzing the {} events before it)\n",
               r.error->message(), r.stats.events);

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!o.output.empty() && o.output != "-") {
    file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      fmt::print(stderr, "tether analyze: {}: cannot write the output\n", o.output);
      return kExitUsage;
    }
    out = &file;
  }
  std::error_code ec;
  const std::string root =
      o.root.empty() ? std::filesystem::current_path(ec).string()
                     : std::filesystem::absolute(o.root, ec).lexically_normal().string();
  int status = kExitClean;
#ifdef TETHER_HAVE_TRACE_ANALYSIS
  const trace::AnalysisResult result = analyzer.finish();
  if (!o.export_args.empty()) {
    std::ofstream chrome(o.export_args[1], std::ios::binary | std::ios::trunc);
    chrome << analyzer.chrome_json(result);
    chrome.flush();
    if (!chrome) {
      fmt::print(stderr, "tether analyze: {}: cannot write the Chrome trace\n", o.export_args[1]);
      return kExitUsage;
    }
  }
  if (!result.findings.empty()) status = kExitFindings;
  if (o.format == "json") {
    Json doc = analysis_json(result, root);
    doc["trace"] = trace_json(o.input, r);
    doc["summary"] = summary_json(r);
    *out << doc.dump(2) << "\n";
  } else if (o.format == "sarif") {
    sarif_log(result, o.input, root).write(*out);
  } else {
    if (o.summary) write_summary_text(*out, o.input, r);
    write_analysis_text(*out, result, root);
  }
#else
  if (o.format == "json") {
    Json doc = {{"format", "tether-analysis"}, {"version", 1},
                {"trace", trace_json(o.input, r)}, {"summary", summary_json(r)},
                {"at_ns", at_ns ? Json(*at_ns) : Json(nullptr)}, {"findings", Json::array()}};
    *out << doc.dump(2) << "\n";
  } else if (o.format == "sarif") {
    fmt::print(stderr, "tether analyze: --format sarif: this tether was built without the "
                       "analyses\n");
    return kExitUsage;
  } else {
    write_summary_text(*out, o.input, r);
  }
  (void)root;
#endif
  out->flush();
  if (!*out) {
    fmt::print(stderr, "tether analyze: {}: write error\n", o.output.empty() ? "-" : o.output);
    return kExitUsage;
  }
  return status;
}

}  // namespace

void add_analyze_command(CLI::App& app, CommandResult& result) {
  auto options = std::make_shared<AnalyzeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "Analyze an event trace (tether run --trace FILE): deadlocks at the end (or at --at), "
      "lock-order inversions, shared-thread stalls, leaks, misuse, and a blocking profile");
  cmd->add_option("trace", options->input, "trace file (docs/trace-format.md)")
      ->type_name("TRACE")
      ->required();
  cmd->add_option("--format", options->format, "text (default), json or sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  cmd->add_option("--at", options->at,
                  "the state (deadlocks, graph) at TIME since the trace's start: nanoseconds, or "
                  "a duration such as 1.5s or 200ms; default: the end")
      ->type_name("TIME");
  cmd->add_option("--export", options->export_args,
                  "also write the run to FILE as KIND; KIND: chrome (Chrome Trace Event JSON, "
                  "opens in Perfetto)")
      ->type_name("KIND FILE")
      ->expected(2)
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", options->output, "write the report to FILE instead of stdout")
      ->type_name("FILE");
  cmd->add_option("--root", options->root,
                  "show source paths relative to DIR (SARIF: the SRCROOT base); default: the "
                  "current directory")
      ->type_name("DIR");
  cmd->add_flag("--summary", options->summary,
                "text: first print what the trace holds (events per type, fibers, threads, span)");
  cmd->footer(
      "A corrupt or truncated trace is analyzed up to its last valid record, with a\n"
      "warning naming the byte. Formats: docs/analyze-format.md.\n"
      "Exit status: 0 nothing found, 1 findings, 2 usage error or a trace with\n"
      "nothing usable.");
  cmd->callback([options, &result] {
    try {
      result.exit_code = run_analyze(*options);
    } catch (const std::bad_alloc&) {
      fmt::print(stderr, "tether analyze: {}: out of memory\n", options->input);
      result.exit_code = kExitUsage;
    }
  });
}

}  // namespace tether::cli
