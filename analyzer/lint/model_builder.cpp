// Builds a TuModel from a parsed translation unit: collects every function
// and lambda body outside system headers, then walks each with FlowWalker.
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "lint/build_context.h"
#include "lint/flow_walker.h"

namespace tether::lint {
namespace {

// libc calls that block the calling OS thread (the runtime's tether::sys::
// wrappers are the fiber-aware alternative).
constexpr std::array<std::string_view, 38> kLibcBlocking{"read",
                                                         "write",
                                                         "pread",
                                                         "pwrite",
                                                         "readv",
                                                         "writev",
                                                         "recv",
                                                         "recvfrom",
                                                         "recvmsg",
                                                         "send",
                                                         "sendto",
                                                         "sendmsg",
                                                         "accept",
                                                         "accept4",
                                                         "connect",
                                                         "poll",
                                                         "ppoll",
                                                         "select",
                                                         "pselect",
                                                         "epoll_wait",
                                                         "epoll_pwait",
                                                         "sleep",
                                                         "usleep",
                                                         "nanosleep",
                                                         "clock_nanosleep",
                                                         "pthread_mutex_lock",
                                                         "pthread_cond_wait",
                                                         "pthread_cond_timedwait",
                                                         "pthread_join",
                                                         "pthread_rwlock_rdlock",
                                                         "pthread_rwlock_wrlock",
                                                         "sem_wait",
                                                         "sem_timedwait",
                                                         "wait",
                                                         "waitpid",
                                                         "waitid",
                                                         "flock",
                                                         "msgrcv"};

// Standard-library members that block the OS thread.
constexpr std::array<std::string_view, 24> kStdBlocking{"std::mutex::lock",
                                                        "std::timed_mutex::lock",
                                                        "std::recursive_mutex::lock",
                                                        "std::recursive_timed_mutex::lock",
                                                        "std::shared_mutex::lock",
                                                        "std::shared_mutex::lock_shared",
                                                        "std::shared_timed_mutex::lock",
                                                        "std::shared_timed_mutex::lock_shared",
                                                        "std::condition_variable::wait",
                                                        "std::condition_variable::wait_for",
                                                        "std::condition_variable::wait_until",
                                                        "std::condition_variable_any::wait",
                                                        "std::condition_variable_any::wait_for",
                                                        "std::condition_variable_any::wait_until",
                                                        "std::future::get",
                                                        "std::future::wait",
                                                        "std::shared_future::get",
                                                        "std::shared_future::wait",
                                                        "std::thread::join",
                                                        "std::jthread::join",
                                                        "std::this_thread::sleep_for",
                                                        "std::this_thread::sleep_until",
                                                        "std::counting_semaphore::acquire",
                                                        "std::latch::wait"};

bool is_function_kind(CXCursorKind k) {
  return k == CXCursor_FunctionDecl || k == CXCursor_CXXMethod || k == CXCursor_Constructor ||
         k == CXCursor_Destructor || k == CXCursor_ConversionFunction ||
         k == CXCursor_FunctionTemplate;
}

// The runtime's public headers: their bodies implement the API the checks
// model by name, so they are not walked.
bool is_tether_api_header(const std::string& file) {
  return file.find("/include/tether/") != std::string::npos;
}

struct Collector {
  BuildContext* ctx;
  std::vector<std::pair<int, CXCursor>> todo;
};

CXChildVisitResult collect(CXCursor c, CXCursor, CXClientData data) {
  auto* col = static_cast<Collector*>(data);
  BuildContext& ctx = *col->ctx;
  if (in_system_header(c)) return CXChildVisit_Continue;
  const CXCursorKind k = clang_getCursorKind(c);
  if (is_function_kind(k) || k == CXCursor_LambdaExpr || k == CXCursor_Namespace ||
      k == CXCursor_ClassDecl || k == CXCursor_StructDecl || k == CXCursor_ClassTemplate) {
    if (is_tether_api_header(location_of(c).file)) return CXChildVisit_Continue;
  }
  if (is_function_kind(k) && clang_isCursorDefinition(c)) {
    Body b;
    b.name = qualified_name(c);
    b.loc = location_of(c);
    const int idx = static_cast<int>(ctx.model.bodies.size());
    ctx.model.bodies.push_back(std::move(b));
    ctx.usr_index[to_string(clang_getCursorUSR(c))] = idx;
    col->todo.emplace_back(idx, c);
  } else if (k == CXCursor_LambdaExpr) {
    Body b;
    b.name = "lambda";
    b.loc = location_of(c);
    b.is_lambda = true;
    const int idx = static_cast<int>(ctx.model.bodies.size());
    ctx.model.bodies.push_back(std::move(b));
    ctx.lambda_index[BuildContext::lambda_key(c)] = idx;
    col->todo.emplace_back(idx, c);
  } else if (k == CXCursor_FieldDecl) {
    ctx.register_object(c, "this:" + to_string(clang_getCursorUSR(c)), -1);
  } else if (k == CXCursor_VarDecl) {
    const CXCursorKind parent = clang_getCursorKind(clang_getCursorSemanticParent(c));
    if (parent == CXCursor_Namespace || parent == CXCursor_TranslationUnit ||
        clang_Cursor_getStorageClass(c) == CX_SC_Static)
      ctx.register_object(c, to_string(clang_getCursorUSR(c)), -1);
  }
  return CXChildVisit_Recurse;
}

// Does `body` run at most once per program run? True for main() and fiber
// 1, for a fiber body started once from such code, and for a function called
// from exactly one place (not in a loop) in such code. Anything else (no
// caller in this TU, several callers, a loop) may run many times.
bool single_instance(const TuModel& m, int body, std::vector<int>& state) {
  if (state[body] != 0) return state[body] == 1;  // 1 single, 2 multi, 3 in progress (-> multi)
  state[body] = 3;
  bool single = false;
  for (const Entry& e : m.entries) {
    if (e.body != body) continue;
    if (e.kind == EntryKind::main_function) {
      single = true;
    } else {
      single = !e.multi && e.spawner >= 0 && single_instance(m, e.spawner, state);
    }
    break;  // the first entry decides; several entries of one body are multi below
  }
  int entries = 0, callers = 0;
  int caller = -1;
  bool in_loop = false;
  for (const Entry& e : m.entries) entries += e.body == body;
  for (int b = 0; b < static_cast<int>(m.bodies.size()); ++b) {
    for (const CallSite& cs : m.bodies[b].calls) {
      if (cs.target != body) continue;
      ++callers;
      caller = b;
      in_loop = in_loop || cs.in_loop;
    }
  }
  if (entries == 0) single = callers == 1 && !in_loop && single_instance(m, caller, state);
  if (entries + callers > 1) single = false;
  state[body] = single ? 1 : 2;
  return single;
}

void mark_multi(TuModel& m) {
  std::vector<int> state(m.bodies.size(), 0);
  std::vector<bool> multi;
  for (const Entry& e : m.entries)
    multi.push_back(e.multi || (e.spawner >= 0 && !single_instance(m, e.spawner, state)));
  for (std::size_t i = 0; i < m.entries.size(); ++i) m.entries[i].multi = multi[i];
}

}  // namespace

std::string BuildContext::lambda_key(CXCursor lambda) {
  const SourceLoc l = location_of(lambda);
  return fmt::format("{}:{}", l.file, SourceText::offset_of(clang_getCursorLocation(lambda)));
}

int BuildContext::lambda_body(CXCursor lambda) const {
  auto it = lambda_index.find(lambda_key(lambda));
  return it == lambda_index.end() ? -1 : it->second;
}

std::string BuildContext::blocking_reason(const std::string& q, CXCursor decl) const {
  if (q.empty() || is_null(decl)) return {};
  for (CXCursor d : {decl, clang_getCanonicalCursor(decl), clang_getCursorDefinition(decl)}) {
    if (!is_null(d) && has_annotation(d, "tether.blocking"))
      return fmt::format("'{}' is declared blocking (TETHER_BLOCKING)", q);
  }
  if (config.is_user_blocking(q))
    return fmt::format("'{}' is listed in blocking-functions of {}", q, config.source);
  if (q.starts_with("tether::sys::")) {
    return config.sys_calls_are_blocking
               ? fmt::format("'{}' blocks the thread (sys-calls-are-blocking is set)", q)
               : std::string();
  }
  if (q.find("::") == std::string::npos && in_system_header(decl)) {
    for (std::string_view f : kLibcBlocking)
      if (q == f) return fmt::format("'{}' is a blocking system call", q);
    return {};
  }
  for (std::string_view f : kStdBlocking)
    if (q == f) return fmt::format("'{}' blocks the OS thread", q);
  return {};
}

void BuildContext::register_object(CXCursor decl, const std::string& key, int local_body) {
  const std::string type = record_name(clang_getCursorType(decl));
  const std::string name = to_string(clang_getCursorSpelling(decl));
  if (type == "tether::Chan") {
    Channel ch;
    ch.display = name;
    ch.decl = location_of(decl);
    ch.local_body = local_body;
    // Capacity: the first constructor argument when it is a constant; a
    // default-constructed Chan is unbuffered.
    for (CXCursor k : children(decl)) {
      CXCursor e = strip(k);
      if (clang_getCursorKind(e) == CXCursor_TypeRef ||
          clang_getCursorKind(e) == CXCursor_TemplateRef ||
          clang_getCursorKind(e) == CXCursor_NamespaceRef)
        continue;
      for (int i = 0; i < 6 && clang_getCursorKind(e) != CXCursor_CallExpr; ++i) {
        std::vector<CXCursor> kids = children(e);
        if (kids.size() != 1) break;
        e = strip(kids.front());
      }
      if (clang_getCursorKind(e) != CXCursor_CallExpr) continue;
      if (clang_Cursor_getNumArguments(e) == 0) {
        ch.capacity = 0;
      } else {
        CXCursor a = clang_Cursor_getArgument(e, 0);
        if (record_name(clang_getCursorType(a)).empty()) {
          if (CXEvalResult r = clang_Cursor_Evaluate(a)) {
            if (clang_EvalResult_getKind(r) == CXEval_Int)
              ch.capacity = clang_EvalResult_getAsLongLong(r);
            clang_EvalResult_dispose(r);
          }
        }
      }
    }
    if (clang_getCursorKind(decl) == CXCursor_VarDecl && children(decl).size() <= 2 &&
        ch.capacity < 0) {
      // `Chan<int> c;` has no initializer expression: the default capacity 0.
      bool has_init = false;
      for (CXCursor k : children(decl)) {
        const CXCursorKind kk = clang_getCursorKind(k);
        has_init = has_init || !(kk >= CXCursor_FirstRef && kk <= CXCursor_LastRef);
      }
      if (!has_init) ch.capacity = 0;
    }
    model.channels[key] = ch;
  } else if (type == "tether::ThreadLocker") {
    Locker& l = model.lockers[key];
    l.display = name;
    // ThreadLocker::make("gl"): show the thread's name too.
    struct Find {
      std::string lit;
    } f;
    clang_visitChildren(
        decl,
        [](CXCursor c, CXCursor, CXClientData d) {
          if (clang_getCursorKind(c) == CXCursor_StringLiteral) {
            static_cast<Find*>(d)->lit = to_string(clang_getCursorSpelling(c));
            return CXChildVisit_Break;
          }
          return CXChildVisit_Recurse;
        },
        &f);
    if (!f.lit.empty() && f.lit != "\"" + name + "\"") l.display += " (" + f.lit + ")";
  }
}

TuModel build_model(CXTranslationUnit tu, const Config& config) {
  TuModel model;
  model.main_file = location_of(clang_getTranslationUnitCursor(tu)).file;
  {
    CXFile main = clang_getFile(tu, to_string(clang_getTranslationUnitSpelling(tu)).c_str());
    if (main) model.main_file = to_string(clang_File_tryGetRealPathName(main));
  }
  BuildContext ctx{model, config, {}, {}, {}, {}};
  Collector col{&ctx, {}};
  clang_visitChildren(clang_getTranslationUnitCursor(tu), collect, &col);
  // Bodies were collected outside-in, so a lambda's spawner is walked before
  // the lambda itself and the lambda knows it is a locker's fiber.
  for (const auto& [idx, cursor] : col.todo) {
    if (model.bodies[idx].name == "main" && !model.bodies[idx].is_lambda) {
      Entry e;
      e.kind = EntryKind::main_function;
      e.body = idx;
      e.site = model.bodies[idx].loc;
      model.entries.push_back(e);
    }
    FlowWalker(ctx, idx).run(cursor);
  }
  // A fiber whose spawn site may run more than once stands for many fibers.
  mark_multi(model);
  for (Entry& e : model.entries) e.os_locked = ctx.body_calls_lock_os_thread.count(e.body) > 0;
  return model;
}

}  // namespace tether::lint
