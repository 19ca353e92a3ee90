// tether/viz/render.h — DOT text to SVG or PNG with Graphviz, in process.
//
// Uses cgraph + gvc (libgvc), never a `dot` subprocess. Graphviz is not
// thread-safe, even for reading, so every call into it from this library
// holds one process-wide mutex; concurrent render() calls are therefore safe
// but serialized. One GVC context is created on first use and kept for the
// life of the process (Graphviz leaks a little per context and per layout —
// see viz/lsan.supp for the LeakSanitizer suppressions).
//
// Errors: a DOT syntax error, a layout failure, an unknown format or plugin
// becomes one RenderError whose message holds Graphviz's own text (captured
// with agseterrf, so nothing is printed to stderr). The graph and layout are
// freed on every path.
//
// Determinism: the DOT text is the golden output. Graphviz's SVG is the same
// drawing for the same DOT, but 2.42 emits clusters in an order that depends
// on heap addresses (it can differ between threads or runs) and embeds its
// version: compare SVGs structurally, not byte for byte.
//
// SVG post-processing: Graphviz writes a node's name into its `<title>`; we
// replace it with the node's `tooltip` attribute, so that the `<title>` (what
// browsers show on hover and what screen readers read) holds the fiber's wait
// state, stack and creation site, as issue 5 asks.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace tether::viz {

enum class Format { svg, png, dot };

// "svg", "png", "dot".
std::string_view to_string(Format f) noexcept;

class RenderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Lays `dot_text` out with `engine` and renders it. With the default "dot",
// a `layout` attribute of the graph (e.g. layout=osage) chooses the engine.
// Format::dot returns the text unchanged (it is already the output).
std::string render(std::string_view dot_text, Format format, const char* engine = "dot");

}  // namespace tether::viz
