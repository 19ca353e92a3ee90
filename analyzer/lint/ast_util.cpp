#include "lint/ast_util.h"

#include <fstream>
#include <sstream>

namespace tether::lint {

std::string to_string(CXString s) {
  const char* c = clang_getCString(s);
  std::string out = c ? c : "";
  clang_disposeString(s);
  return out;
}

std::vector<CXCursor> children(CXCursor c) {
  std::vector<CXCursor> out;
  clang_visitChildren(
      c,
      [](CXCursor child, CXCursor, CXClientData data) {
        static_cast<std::vector<CXCursor>*>(data)->push_back(child);
        return CXChildVisit_Continue;
      },
      &out);
  return out;
}

SourceLoc location_of(CXSourceLocation loc) {
  CXFile file = nullptr;
  unsigned line = 0, col = 0, off = 0;
  clang_getExpansionLocation(loc, &file, &line, &col, &off);
  SourceLoc out;
  if (file) {
    out.file = to_string(clang_File_tryGetRealPathName(file));
    if (out.file.empty()) out.file = to_string(clang_getFileName(file));
  }
  out.line = line;
  out.column = col;
  return out;
}

SourceLoc location_of(CXCursor c) {
  return location_of(clang_getCursorLocation(c));
}

bool in_system_header(CXCursor c) {
  return clang_Location_isInSystemHeader(clang_getCursorLocation(c)) != 0;
}

bool is_null(CXCursor c) {
  return clang_Cursor_isNull(c) != 0;
}

std::string qualified_name(CXCursor decl) {
  if (is_null(decl)) return {};
  std::string name = to_string(clang_getCursorSpelling(decl));
  // Constructors and destructors: keep the class-qualified spelling ("std::thread::thread").
  CXCursor p = clang_getCursorSemanticParent(decl);
  while (!is_null(p) && !clang_isTranslationUnit(clang_getCursorKind(p)) &&
         !clang_isInvalid(clang_getCursorKind(p))) {
    const CXCursorKind k = clang_getCursorKind(p);
    if (k == CXCursor_LinkageSpec ||
        (k == CXCursor_Namespace && clang_Cursor_isInlineNamespace(p))) {
      p = clang_getCursorSemanticParent(p);
      continue;
    }
    std::string part = to_string(clang_getCursorSpelling(p));
    if (part.empty()) part = "(anonymous)";
    name = part + "::" + name;
    p = clang_getCursorSemanticParent(p);
  }
  return name;
}

std::string record_name(CXType t) {
  t = clang_getCanonicalType(t);
  if (t.kind == CXType_LValueReference || t.kind == CXType_RValueReference ||
      t.kind == CXType_Pointer)
    t = clang_getCanonicalType(clang_getPointeeType(t));
  if (t.kind != CXType_Record) return {};
  return qualified_name(clang_getTypeDeclaration(t));
}

CXCursor strip(CXCursor e) {
  for (;;) {
    const CXCursorKind k = clang_getCursorKind(e);
    if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr) return e;
    std::vector<CXCursor> kids = children(e);
    if (kids.size() != 1) return e;
    e = kids.front();
  }
}

static CXCursor callee_ref(CXCursor call) {
  std::vector<CXCursor> kids = children(call);
  if (kids.empty()) return clang_getNullCursor();
  CXCursor first = strip(kids.front());
  return clang_getCursorKind(first) == CXCursor_MemberRefExpr ? first : clang_getNullCursor();
}

CXCursor member_call_base(CXCursor call) {
  CXCursor ref = callee_ref(call);
  if (is_null(ref)) return ref;
  std::vector<CXCursor> kids = children(ref);
  if (kids.empty()) return clang_getNullCursor();
  return kids.front();
}

bool is_implicit_this_call(CXCursor call) {
  CXCursor ref = callee_ref(call);
  return !is_null(ref) && children(ref).empty();
}

std::string object_key(CXCursor expr) {
  expr = strip(expr);
  switch (clang_getCursorKind(expr)) {
    case CXCursor_DeclRefExpr: {
      CXCursor d = clang_getCursorReferenced(expr);
      if (is_null(d)) return {};
      const CXCursorKind dk = clang_getCursorKind(d);
      if (dk == CXCursor_FieldDecl) return "this:" + to_string(clang_getCursorUSR(d));
      return to_string(clang_getCursorUSR(d));
    }
    case CXCursor_MemberRefExpr: {
      CXCursor d = clang_getCursorReferenced(expr);
      if (is_null(d)) return {};
      std::vector<CXCursor> kids = children(expr);
      std::string base = kids.empty() ? "this" : object_key(kids.front());
      if (base.empty()) return {};
      // `m_` and `this->m_` name the same member (and match the FieldDecl's key).
      if (base == "this") return "this:" + to_string(clang_getCursorUSR(d));
      return base + "." + to_string(clang_getCursorUSR(d));
    }
    case CXCursor_CXXThisExpr:
      return "this";
    case CXCursor_UnaryOperator: {  // *p
      std::vector<CXCursor> kids = children(expr);
      return kids.size() == 1 ? object_key(kids.front()) : std::string();
    }
    case CXCursor_CallExpr: {
      CXCursor d = clang_getCursorReferenced(expr);
      if (is_null(d) || clang_Cursor_getNumArguments(expr) != 0) return {};
      const std::string q = qualified_name(d);
      // Only calls that always return the same object: static accessors like
      // ThreadLocker::main().
      if (q == "tether::ThreadLocker::main") return "call:" + q;
      return {};
    }
    default:
      return {};
  }
}

bool has_annotation(CXCursor decl, const char* text) {
  struct Ctx {
    const char* text;
    bool found = false;
  } ctx{text};
  clang_visitChildren(
      decl,
      [](CXCursor c, CXCursor, CXClientData data) {
        auto* ctx = static_cast<Ctx*>(data);
        if (clang_getCursorKind(c) == CXCursor_AnnotateAttr &&
            to_string(clang_getCursorSpelling(c)) == ctx->text) {
          ctx->found = true;
          return CXChildVisit_Break;
        }
        return CXChildVisit_Continue;
      },
      &ctx);
  return ctx.found;
}

unsigned SourceText::offset_of(CXSourceLocation loc) {
  CXFile f;
  unsigned line, col, off;
  clang_getExpansionLocation(loc, &f, &line, &col, &off);
  return off;
}

const std::string& SourceText::file(const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  if (in) ss << in.rdbuf();
  return files_.emplace(path, ss.str()).first->second;
}

std::string SourceText::spelling(CXCursor c) {
  CXSourceRange r = clang_getCursorExtent(c);
  const SourceLoc begin = location_of(clang_getRangeStart(r));
  const unsigned b = offset_of(clang_getRangeStart(r));
  const unsigned e = offset_of(clang_getRangeEnd(r));
  const std::string& text = file(begin.file);
  if (e <= b || e > text.size()) return to_string(clang_getCursorSpelling(c));
  std::string s = text.substr(b, e - b);
  // Collapse whitespace so multi-line expressions read well in messages.
  std::string out;
  bool space = false;
  for (char ch : s) {
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
      space = true;
    } else {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += ch;
    }
  }
  return out;
}

}  // namespace tether::lint
