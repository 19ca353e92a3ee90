// Tests of the Graphviz renderer: SVG that parses as XML and holds the
// cycle, tooltips in <title>, PNG, and Graphviz errors as RenderError.
#include "tether/viz/render.h"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tether/graph/snapshot_reader.h"
#include "tether/viz/dot_writer.h"

namespace tether::viz {
namespace {

std::string case_dot(const std::string& name, DotOptions options = {}) {
  return to_dot(graph::WaitGraph(graph::read_snapshot(
                    std::string(TETHER_VIZ_CASES_DIR "/snapshots/") + name + ".json")),
                options);
}

struct SvgNode {
  std::string title;
  std::string stroke;  // of the node's first shape
};

// Parses the SVG with libxml2 (failing the test if it is not well-formed XML)
// and returns every node group (<g class="node">) by its DOT id (the comment
// Graphviz writes before it is not reliable, so we use the id attribute
// mapping built from the <title>s' first line... the DOT id itself lives in
// the group's id="node3" only, so tests match on the title text instead).
std::vector<SvgNode> svg_nodes(const std::string& svg) {
  std::vector<SvgNode> out;
  xmlDocPtr doc =
      xmlReadMemory(svg.data(), static_cast<int>(svg.size()), "out.svg", nullptr, XML_PARSE_NONET);
  EXPECT_NE(doc, nullptr) << "SVG is not well-formed XML";
  if (doc == nullptr) return out;
  std::vector<xmlNodePtr> todo{xmlDocGetRootElement(doc)};
  while (!todo.empty()) {
    xmlNodePtr n = todo.back();
    todo.pop_back();
    for (xmlNodePtr c = n->children; c != nullptr; c = c->next) {
      if (c->type == XML_ELEMENT_NODE) todo.push_back(c);
    }
    if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "g") != 0) continue;
    xmlChar* cls = xmlGetProp(n, BAD_CAST "class");
    const bool is_node = cls != nullptr && xmlStrcmp(cls, BAD_CAST "node") == 0;
    xmlFree(cls);
    if (!is_node) continue;
    SvgNode node;
    for (xmlNodePtr c = n->children; c != nullptr; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (xmlStrcmp(c->name, BAD_CAST "title") == 0) {
        xmlChar* text = xmlNodeGetContent(c);
        node.title = reinterpret_cast<const char*>(text);
        xmlFree(text);
      }
    }
    // The first <ellipse>/<polygon> below the group carries the stroke colour.
    std::vector<xmlNodePtr> shapes{n};
    while (!shapes.empty() && node.stroke.empty()) {
      xmlNodePtr s = shapes.front();
      shapes.erase(shapes.begin());
      for (xmlNodePtr c = s->children; c != nullptr; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (xmlStrcmp(c->name, BAD_CAST "ellipse") == 0 ||
            xmlStrcmp(c->name, BAD_CAST "polygon") == 0) {
          xmlChar* stroke = xmlGetProp(c, BAD_CAST "stroke");
          if (stroke != nullptr) node.stroke = reinterpret_cast<const char*>(stroke);
          xmlFree(stroke);
          break;
        }
        shapes.push_back(c);
      }
    }
    out.push_back(node);
  }
  xmlFreeDoc(doc);
  return out;
}

TEST(Render, SvgIsXmlAndHoldsTheCycleInRed) {
  const std::string svg = render(case_dot("lock_cycle"), Format::svg);
  ASSERT_EQ(svg.rfind("<?xml", 0), 0u);
  const auto nodes = svg_nodes(svg);
  std::set<std::string> red;
  for (const SvgNode& n : nodes) {
    if (n.stroke == "#d00000") red.insert(n.title.substr(0, n.title.find('\n')));
  }
  EXPECT_EQ(
      red, (std::set<std::string>{"fiber 3 \"updater\"", "fiber 4 \"renderer\"",
                                  "mutex \"accounts\" (mutex:30)", "mutex \"screen\" (mutex:31)"}));
}

TEST(Render, TitleHoldsStateStackAndCreationSite) {
  const std::string svg = render(case_dot("shared_thread_syscall"), Format::svg);
  bool found = false;
  for (const SvgNode& n : svg_nodes(svg)) {
    if (n.title.rfind("fiber 7 \"reader\"\n", 0) != 0) continue;
    found = true;
    EXPECT_NE(n.title.find("state: syscall for 3.0 s"), std::string::npos) << n.title;
    EXPECT_NE(n.title.find(
                  "stack:\n  tether::sys::read(int, void*, unsigned long)  src/gl_worker.cpp:31\n"),
              std::string::npos)
        << n.title;
    EXPECT_NE(n.title.find("created at main  src/main.cpp:27 by fiber 1"), std::string::npos)
        << n.title;
  }
  EXPECT_TRUE(found);
}

TEST(Render, XmlSpecialCharactersInNames) {
  graph::Snapshot s = graph::read_snapshot(TETHER_VIZ_CASES_DIR "/snapshots/global.json");
  s.fibers[0].name = "<a & \"b\">";
  s.fibers[0].stack[0].function = "std::vector<int>::operator[]";
  const std::string svg = render(to_dot(graph::WaitGraph(s)), Format::svg);
  bool found = false;
  for (const SvgNode& n : svg_nodes(svg)) {
    if (n.title.rfind("fiber 1 \"<a & \"b\">\"\n", 0) == 0) {
      found = true;
      EXPECT_NE(n.title.find("std::vector<int>::operator[]"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
}

TEST(Render, Png) {
  const std::string png = render(case_dot("global"), Format::png);
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST(Render, DotFormatIsIdentity) {
  EXPECT_EQ(render("digraph { a }", Format::dot), "digraph { a }");
}

TEST(Render, SyntaxErrorIsOneMessage) {
  try {
    render("digraph { a -> ; }", Format::svg);
    FAIL() << "no error";
  } catch (const RenderError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("could not read the DOT text"), std::string::npos) << what;
    EXPECT_NE(what.find("syntax error"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  // The parser recovers: the next good graph renders.
  EXPECT_NO_THROW(render("digraph { a -> b }", Format::svg));
}

TEST(Render, UnknownLayoutEngine) {
  try {
    render("digraph { a -> b }", Format::svg, "no-such-engine");
    FAIL() << "no error";
  } catch (const RenderError& e) {
    EXPECT_NE(std::string(e.what()).find("layout (no-such-engine) failed"), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(render("digraph { a -> b }", Format::svg));
}

// The lines of an SVG, sorted: Graphviz 2.42 emits clusters in an order
// that depends on heap addresses (it differs between threads and runs), but
// the drawing itself -- every element and coordinate -- must not.
std::vector<std::string> sorted_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    lines.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(Render, ConcurrentCallsAreSerializedAndCorrect) {
  const std::string dot = case_dot("channel_cycle");
  const auto expected = sorted_lines(render(dot, Format::svg));
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = render(dot, Format::svg); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_TRUE(sorted_lines(r) == expected);
}

}  // namespace
}  // namespace tether::viz
