// Snapshot file -> drawing file (tether/viz/draw.h).
#include "tether/viz/draw.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "tether/graph/snapshot_reader.h"
#include "tether/graph/wait_graph.h"

namespace tether::viz {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void write_failed(const std::string& path) {
  throw DrawError(path + ": cannot write: " + std::strerror(errno));
}

void write_atomically(const std::string& path, const std::string& data) {
  if (path == "-") {
    std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    if (!std::cout) throw DrawError("-: cannot write to standard output");
    return;
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) write_failed(path);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      const int saved = errno;
      std::remove(tmp.c_str());
      errno = saved;
      write_failed(path);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    write_failed(path);
  }
}

}  // namespace

Format format_for_path(const std::string& path) {
  if (ends_with(path, ".png")) return Format::png;
  if (ends_with(path, ".dot") || ends_with(path, ".gv")) return Format::dot;
  return Format::svg;
}

std::string draw(const graph::Snapshot& snapshot, Format format, const DotOptions& options,
                 const std::string& name) {
  std::string dot;
  try {
    dot = to_dot(graph::WaitGraph(snapshot), options);
  } catch (const std::invalid_argument& e) {
    // Only an unvalidated Snapshot built in memory can get here.
    throw DrawError(name + ": inconsistent snapshot: " + e.what());
  }
  try {
    return render(dot, format);
  } catch (const RenderError& e) {
    throw DrawError(name + ": " + e.what());
  }
}

void draw_file(const std::string& snapshot_path, const std::string& output_path, Format format,
               const DotOptions& options) {
  graph::Snapshot snapshot;
  try {
    snapshot = graph::read_snapshot(snapshot_path);
  } catch (const graph::SnapshotError& e) {
    throw DrawError(e.what());
  }
  write_atomically(output_path, draw(snapshot, format, options, snapshot_path));
}

void draw_file(const graph::Snapshot& snapshot, const std::string& name,
               const std::string& output_path, Format format, const DotOptions& options) {
  write_atomically(output_path, draw(snapshot, format, options, name));
}

}  // namespace tether::viz
