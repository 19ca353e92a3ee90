// Graphviz rendering (tether/viz/render.h).
#include "tether/viz/render.h"

#include <gvc.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tether::viz {
namespace {

// Graphviz keeps global state everywhere (the parser, the error channel,
// the plugin registry): every use holds this mutex.
std::mutex& graphviz_mutex() {
  static std::mutex mu;
  return mu;
}

// Where agerr() messages go while a render runs (guarded by graphviz_mutex).
std::string* g_messages = nullptr;

int collect_message(char* message) {
  if (g_messages != nullptr && message != nullptr) *g_messages += message;
  return 0;
}

// One context for the process: creating one per call leaks inside Graphviz
// and reloads the plugins each time.
GVC_t* context() {
  static GVC_t* gvc = gvContext();
  return gvc;
}

// Graphviz messages end with newlines and may span lines; make them one line.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s.empty() ? std::string("(Graphviz gave no message)") : s;
}

// An escString attribute (as stored after DOT parsing) as plain text.
std::string unescape_escstring(const char* s) {
  std::string out;
  for (; *s != '\0'; ++s) {
    if (*s == '\\' && s[1] != '\0') {
      ++s;
      out += (*s == 'n' || *s == 'l' || *s == 'r') ? '\n' : *s;
    } else {
      out += *s;
    }
  }
  return out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Undoes Graphviz's xml_string() on a node name: the five named entities and
// numeric references (it writes '-' as "&#45;").
std::string xml_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s.substr(i);
      break;
    }
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      out += '&';
    } else if (ent == "lt") {
      out += '<';
    } else if (ent == "gt") {
      out += '>';
    } else if (ent == "quot") {
      out += '"';
    } else if (ent == "apos") {
      out += '\'';
    } else if (ent.size() > 1 && ent[0] == '#' && ent[1] != 'x') {
      const long code = std::strtol(std::string(ent.substr(1)).c_str(), nullptr, 10);
      if (code > 0 && code < 128) out += static_cast<char>(code);
    } else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

// Puts each node's tooltip into its <title> (see render.h).
std::string retitle_svg(const std::string& svg, const std::map<std::string, std::string>& tips) {
  static constexpr std::string_view kOpen = "class=\"node\">\n<title>";
  static constexpr std::string_view kClose = "</title>";
  std::string out;
  out.reserve(svg.size() + svg.size() / 2);
  std::size_t pos = 0;
  while (true) {
    const auto open = svg.find(kOpen, pos);
    if (open == std::string::npos) break;
    const std::size_t text = open + kOpen.size();
    const auto close = svg.find(kClose, text);
    if (close == std::string::npos) break;
    out.append(svg, pos, text - pos);
    auto it = tips.find(xml_unescape(std::string_view(svg).substr(text, close - text)));
    if (it != tips.end()) {
      out += xml_escape(it->second);
    } else {
      out.append(svg, text, close - text);
    }
    pos = close;
  }
  out.append(svg, pos, std::string::npos);
  return out;
}

}  // namespace

std::string_view to_string(Format f) noexcept {
  switch (f) {
    case Format::svg:
      return "svg";
    case Format::png:
      return "png";
    case Format::dot:
      return "dot";
  }
  return "?";
}

std::string render(std::string_view dot_text, Format format, const char* engine) {
  if (format == Format::dot) return std::string(dot_text);

  std::lock_guard<std::mutex> lock(graphviz_mutex());
  std::string messages;
  g_messages = &messages;
  agseterr(AGWARN);  // warnings and errors go to collect_message, none to stderr
  agseterrf(collect_message);
  agreseterrors();
  struct Restore {
    ~Restore() {
      agseterrf(nullptr);
      g_messages = nullptr;
    }
  } restore;

  GVC_t* gvc = context();
  const std::string text(dot_text);  // agmemread wants a NUL-terminated string
  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> graph(agmemread(text.c_str()), agclose);
  if (graph == nullptr || agerrors() >= AGERR) {
    throw RenderError("Graphviz could not read the DOT text: " + one_line(messages));
  }
  // A `layout` graph attribute (the DOT writer sets it for very large
  // graphs) overrides the default engine, as it does for the dot command.
  if (const char* wanted = agget(graph.get(), const_cast<char*>("layout"));
      wanted != nullptr && *wanted != '\0' && std::string_view(engine) == "dot") {
    engine = wanted;
  }
  if (gvLayout(gvc, graph.get(), engine) != 0 || agerrors() >= AGERR) {
    // gvLayout cleans up after itself on failure.
    throw RenderError(std::string("Graphviz layout (") + engine +
                      ") failed: " + one_line(messages));
  }
  struct FreeLayout {
    GVC_t* gvc;
    Agraph_t* g;
    ~FreeLayout() { gvFreeLayout(gvc, g); }
  } free_layout{gvc, graph.get()};

  char* data = nullptr;
  unsigned int length = 0;
  const std::string fmt(to_string(format));
  const int rc = gvRenderData(gvc, graph.get(), fmt.c_str(), &data, &length);
  std::unique_ptr<char, void (*)(char*)> owned(data, gvFreeRenderData);
  if (rc != 0 || data == nullptr || agerrors() >= AGERR) {
    throw RenderError("Graphviz could not render " + fmt + ": " + one_line(messages));
  }
  std::string out(data, length);
  if (format != Format::svg) return out;

  std::map<std::string, std::string> tips;
  for (Agnode_t* n = agfstnode(graph.get()); n != nullptr; n = agnxtnode(graph.get(), n)) {
    const char* tip = agget(n, const_cast<char*>("tooltip"));
    if (tip != nullptr && *tip != '\0') tips.emplace(agnameof(n), unescape_escstring(tip));
  }
  return retitle_svg(out, tips);
}

}  // namespace tether::viz
