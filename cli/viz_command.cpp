// `tether viz SNAPSHOT -o FILE [--format svg|dot|png] [--focus] [--no-collapse]`
//
// Draws the wait-for graph of a snapshot (docs/snapshot-format.md): SVG by
// default, or the format --format names, or the one -o's extension implies
// (.png, .dot, .gv). Exit 0 when the file is written; 2 with one message
// naming the file and the place on any bad input, Graphviz failure or write
// error (the output file is then not created or left as it was). The work is
// tether::viz::draw_file (viz/include/tether/viz/draw.h).
#include <iostream>
#include <memory>
#include <new>
#include <string>

#include "commands.h"
#include "tether/viz/draw.h"

namespace tether::cli {
namespace {

struct VizOptions {
  std::string input;
  std::string output;
  std::string format;  // empty: from the output's extension, else svg
  bool focus = false;
  bool no_collapse = false;
};

int run_viz(const VizOptions& o) {
  viz::DotOptions options;
  options.focus = o.focus;
  options.collapse = !o.no_collapse;
  const viz::Format format = o.format == "svg"   ? viz::Format::svg
                             : o.format == "png" ? viz::Format::png
                             : o.format == "dot" ? viz::Format::dot
                                                 : viz::format_for_path(o.output);
  try {
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
      "viz", "Draw a wait-for graph snapshot (JSON) as SVG, PNG or Graphviz DOT");
  cmd->add_option("snapshot", options->input, "snapshot JSON file (docs/snapshot-format.md)")
      ->required();
  cmd->add_option("-o,--output", options->output, "output file, '-' for standard output")
      ->required();
  cmd->add_option("--format", options->format,
                  "svg (default), png or dot; default: from the output's extension")
      ->check(CLI::IsMember({"svg", "png", "dot"}));
  cmd->add_flag("--focus", options->focus,
                "draw only the deadlocked/stalled nodes and their neighbours");
  cmd->add_flag("--no-collapse", options->no_collapse,
                "draw every fiber, even identical ones, as its own node");
  cmd->callback([options, &result] { result.exit_code = run_viz(*options); });
}

}  // namespace tether::cli
