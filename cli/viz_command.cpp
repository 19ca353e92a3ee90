// `tether viz SNAPSHOT -o FILE [--format svg|dot|png] [--focus] [--no-collapse]`
//
// Draws the wait-for graph of a snapshot (docs/snapshot-format.md): SVG by
// default, or the format --format names, or the one -o's extension implies
// (.png, .dot, .gv). Exit 0 when the file is written; 2 with one message
// naming the file and the place on any bad input, Graphviz failure or write
// error (the output file is then not created or left as it was).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <string>

#include "commands.h"
#include "tether/graph/snapshot_reader.h"
#include "tether/graph/wait_graph.h"
#include "tether/viz/dot_writer.h"
#include "tether/viz/render.h"

namespace tether::cli {
namespace {

struct VizOptions {
  std::string input;
  std::string output;
  std::string format;  // empty: from the output's extension, else svg
  bool focus = false;
  bool no_collapse = false;
};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

viz::Format pick_format(const VizOptions& o) {
  if (o.format == "dot" || (o.format.empty() && (ends_with(o.output, ".dot") || ends_with(o.output, ".gv")))) {
    return viz::Format::dot;
  }
  if (o.format == "png" || (o.format.empty() && ends_with(o.output, ".png"))) return viz::Format::png;
  return viz::Format::svg;
}

// Writes to a temporary file next to `path` and renames it into place, so a
// failure never leaves half a file behind.
bool write_file(const std::string& path, const std::string& data, std::string& error) {
  if (path == "-") {
    std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    if (!std::cout) error = "-: cannot write to standard output";
    return static_cast<bool>(std::cout);
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = path + ": cannot write: " + std::strerror(errno);
      return false;
    }
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      error = path + ": cannot write: " + std::strerror(errno);
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": cannot write: " + std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

int run_viz(const VizOptions& o) {
  try {
    graph::WaitGraph g(graph::read_snapshot(o.input));
    viz::DotOptions options;
    options.focus = o.focus;
    options.collapse = !o.no_collapse;
    const std::string dot = viz::to_dot(g, options);
    std::string rendered;
    try {
      rendered = viz::render(dot, pick_format(o));
    } catch (const viz::RenderError& e) {
      std::cerr << "tether viz: " << o.input << ": " << e.what() << "\n";
      return 2;
    }
    std::string error;
    if (!write_file(o.output, rendered, error)) {
      std::cerr << "tether viz: " << error << "\n";
      return 2;
    }
    return 0;
  } catch (const graph::SnapshotError& e) {
    std::cerr << "tether viz: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << "tether viz: " << o.input << ": out of memory\n";
  } catch (const std::exception& e) {
    // WaitGraph's invalid_argument cannot happen after validation; say so
    // plainly rather than crash if it ever does.
    std::cerr << "tether viz: " << o.input << ": internal error: " << e.what() << "\n";
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
