// lint/ast_util.h — small helpers over libclang's C API (internal).
//
// libclang exposes the AST as cursors without labelled children; these
// helpers give the few shapes the checks need: qualified names, the object a
// member call is made on, a stable identity for that object, lambdas passed as
// arguments, and source text for messages.
#pragma once

#include <clang-c/Index.h>

#include <map>
#include <string>
#include <vector>

#include "lint/diagnostic.h"

namespace tether::lint {

std::string to_string(CXString s);  // takes ownership (disposes s)
std::vector<CXCursor> children(CXCursor c);
SourceLoc location_of(CXCursor c);
SourceLoc location_of(CXSourceLocation loc);
bool in_system_header(CXCursor c);

// "ns::Class::method" — skips extern "C" blocks and inline namespaces, so
// std::__cxx11::string is "std::string".
std::string qualified_name(CXCursor decl);
// Qualified name of the class/struct a type names (through typedefs and
// references), or "" if it is not a record type.
std::string record_name(CXType t);

// Skips implicit casts, parentheses and other unexposed wrappers.
CXCursor strip(CXCursor e);
bool is_null(CXCursor c);

// For `obj.f(...)` / `p->f(...)`: the object expression; null cursor when the
// call is not a member call or uses implicit `this`.
CXCursor member_call_base(CXCursor call);
// True when the callee of `call` is a MemberRefExpr without an explicit base
// (a call on implicit `this`).
bool is_implicit_this_call(CXCursor call);

// A stable identity for an object expression: "usr" of the variable, with
// ".field" / "this:" parts for member accesses, "call:qualified" for a call
// like ThreadLocker::main(); "" when it cannot be named statically.
std::string object_key(CXCursor expr);

// Does the declaration carry [[clang::annotate(text)]]?
bool has_annotation(CXCursor decl, const char* text);

// Reads source files once and returns the text of a cursor's extent.
class SourceText {
 public:
  std::string spelling(CXCursor c);
  // The whole file (empty if unreadable); cached.
  const std::string& file(const std::string& path);
  // Byte offset of a location inside its file.
  static unsigned offset_of(CXSourceLocation loc);

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace tether::lint
