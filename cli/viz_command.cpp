// `tether viz SNAPSHOT|TRACE -o FILE [--at TIME] [--format svg|dot|png] [--focus] [--no-collapse]`
//
// Draws the wait-for graph of a snapshot (docs/snapshot-format.md), or of a
// trace (docs/trace-format.md, recognized by its magic) at a point in time:
// the trace analyzer replays it up to --at (default: the end) and hands over
// the same snapshot structure, deadlocks marked. SVG by
// default, or the format --format names, or the one -o's extension implies
// (.png, .dot, .gv). Exit 0 when the file is written; 2 with one message
// naming the file and the place on any bad input, Graphviz failure or write
// error (the output file is then not created or left as it was). The work is
// tether::viz::draw_file (viz/include/tether/viz/draw.h).
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <string>

#include "commands.h"
#include "tether/viz/draw.h"
#ifdef TETHER_HAVE_TRACE_ANALYSIS
#include "tether/trace/analysis.h"
#include "tether/trace/trace_reader.h"
#endif

namespace tether::cli {
namespace {

struct VizOptions {
  std::string input;
  std::string output;
  std::string format;  // empty: from the output's extension, else svg
  std::string at;      // trace input: the moment to draw
  bool focus = false;
  bool no_collapse = false;
};

// A trace file starts with the magic "TETHERTR" (docs/trace-format.md).
bool is_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == sizeof magic && std::memcmp(magic, "TETHERTR", sizeof magic) == 0;
}

int draw_trace(const VizOptions& o, viz::Format format, const viz::DotOptions& options) {
#ifdef TETHER_HAVE_TRACE_ANALYSIS
  trace::AnalysisOptions ao;
  if (!o.at.empty()) {
    const auto t = trace::parse_time(o.at);
    if (!t) {
      std::cerr << "tether viz: --at: expected a time since the trace's start (1500000 ns, 20ms, "
                   "1.5s), got '"
                << o.at << "'\n";
      return 2;
    }
    ao.at_ns = *t;
  }
  trace::TraceReader reader(o.input);
  trace::Analyzer analyzer(ao);
  trace::Event e;
  std::uint64_t events = 0;
  while (reader.next(e)) {
    analyzer.add(e);
    ++events;
  }
  if (reader.error()) {
    std::cerr << "tether viz: " << reader.error()->message() << "\n";
    if (events == 0) return 2;
    std::cerr << "tether viz: " << o.input << ": drawing the " << events
              << " events before that point\n";
  }
  const trace::AnalysisResult r = analyzer.finish();
  viz::draw_file(r.graph, o.input, o.output, format, options);
  return 0;
#else
  (void)format;
  (void)options;
  std::cerr << "tether viz: " << o.input
            << ": a trace; this tether was built without the trace "
               "analyzer\n";
  return 2;
#endif
}

int run_viz(const VizOptions& o) {
  viz::DotOptions options;
  options.focus = o.focus;
  options.collapse = !o.no_collapse;
  const viz::Format format = o.format == "svg"   ? viz::Format::svg
                             : o.format == "png" ? viz::Format::png
                             : o.format == "dot" ? viz::Format::dot
                                                 : viz::format_for_path(o.output);
  try {
    if (is_trace(o.input)) return draw_trace(o, format, options);
    if (!o.at.empty()) {
      std::cerr << "tether viz: " << o.input << ": --at applies to a trace, not a snapshot\n";
      return 2;
    }
    viz::draw_file(o.input, o.output, format, options);
    return 0;
  } catch (const viz::DrawError& e) {
    std::cerr << "tether viz: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << "tether viz: " << o.input << ": out of memory\n";
  }
  return 2;
}

}  // namespace

void add_viz_command(CLI::App& app, CommandResult& result) {
  auto options = std::make_shared<VizOptions>();
  CLI::App* cmd = app.add_subcommand(
      "viz",
      "Draw a wait-for graph (a snapshot, or a trace at a time) as SVG, PNG or Graphviz DOT");
  cmd->add_option("snapshot", options->input,
                  "snapshot JSON file (docs/snapshot-format.md) or trace (docs/trace-format.md)")
      ->required();
  cmd->add_option("--at", options->at,
                  "trace input: the moment to draw, since the trace's start (ns, or 20ms, 1.5s); "
                  "default: the end");
  cmd->add_option("-o,--output", options->output, "output file, '-' for standard output")
      ->required();
  cmd->add_option("--format", options->format,
                  "svg (default), png or dot; default: from the output's extension")
      ->check(CLI::IsMember({"svg", "png", "dot"}));
  cmd->add_flag("--focus", options->focus,
                "draw only the deadlocked/stalled nodes and their neighbours");
  cmd->add_flag("--no-collapse", options->no_collapse,
                "draw every fiber, even identical ones, as its own node");
  cmd->footer(
      "Exit status: 0 drawn (whether or not the graph holds a deadlock); 2 usage or input\n"
      "error: a file that cannot be read or parsed, a malformed --at time.");
  cmd->callback([options, &result] { result.exit_code = run_viz(*options); });
}

}  // namespace tether::cli
