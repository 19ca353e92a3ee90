// lint/build_context.h — state shared while one TU's model is built (internal).
#pragma once

#include <clang-c/Index.h>

#include <map>
#include <string>

#include "lint/ast_util.h"
#include "lint/config.h"
#include "lint/model.h"

namespace tether::lint {

struct BuildContext {
  TuModel& model;
  const Config& config;
  SourceText text;
  std::map<std::string, int> lambda_index;  // "file:offset" of a LambdaExpr -> body
  std::map<std::string, int> usr_index;     // function USR -> body
  std::map<int, bool> body_calls_lock_os_thread;

  // Body index of a LambdaExpr cursor, -1 if it was not collected.
  int lambda_body(CXCursor lambda) const;
  static std::string lambda_key(CXCursor lambda);
  // Why a call to `decl` (qualified `q`) blocks its OS thread; "" if it does not.
  std::string blocking_reason(const std::string& q, CXCursor decl) const;
  // Registers a Chan or ThreadLocker variable/field; no-op for other types.
  void register_object(CXCursor decl, const std::string& key, int local_body);
};

// Builds the model of a parsed TU (defined in model_builder.cpp).
TuModel build_model(CXTranslationUnit tu, const Config& config);

}  // namespace tether::lint
