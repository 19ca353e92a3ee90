// tether/viz/draw.h — snapshot file in, drawing file out, in one call.
//
// What `tether viz` does, as a library function, so that `tether run --svg`
// (and anything else holding a snapshot) draws exactly the same picture:
// read and validate the snapshot (analyzer/graph), write DOT
// (dot_writer.h), lay out and render with Graphviz (render.h), and write
// the result atomically (a temporary file renamed into place, so a failure
// never leaves half a file). Every failure is one DrawError whose message
// names the file and the place, ready to print.
#pragma once

#include <stdexcept>
#include <string>

#include "tether/graph/snapshot.h"
#include "tether/viz/dot_writer.h"
#include "tether/viz/render.h"

namespace tether::viz {

class DrawError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The format an output path implies: .png -> png, .dot/.gv -> dot, else svg.
Format format_for_path(const std::string& path);

// The snapshot drawn in `format` (the bytes of the SVG, PNG or DOT file).
// `name` is used in error messages.
std::string draw(const graph::Snapshot& snapshot, Format format, const DotOptions& options,
                 const std::string& name);

// Reads the snapshot at `snapshot_path` and writes the drawing to
// `output_path` ("-" for standard output).
void draw_file(const std::string& snapshot_path, const std::string& output_path, Format format,
               const DotOptions& options);

// Draws a snapshot already in memory (e.g. a trace's graph at a point in
// time) to `output_path` ("-" for standard output); `name` is used in messages.
void draw_file(const graph::Snapshot& snapshot, const std::string& name,
               const std::string& output_path, Format format, const DotOptions& options);

}  // namespace tether::viz
