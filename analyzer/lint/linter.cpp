#include "lint/linter.h"

#include <clang-c/Index.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "lint/ast_util.h"
#include "lint/build_context.h"
#include "lint/checks.h"
#include "lint/compilation_db.h"
#include "lint/config.h"
#include "lint/rules.h"
#include "lint/suppress.h"

namespace tether::lint {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct IndexHolder {
  CXIndex index = clang_createIndex(/*excludeDeclarationsFromPCH=*/0, /*displayDiagnostics=*/0);
  ~IndexHolder() { clang_disposeIndex(index); }
};

struct TuHolder {
  CXTranslationUnit tu = nullptr;
  ~TuHolder() {
    if (tu) clang_disposeTranslationUnit(tu);
  }
};

void compile_errors(CXTranslationUnit tu, FileResult& r) {
  const unsigned n = clang_getNumDiagnostics(tu);
  for (unsigned i = 0; i < n; ++i) {
    CXDiagnostic d = clang_getDiagnostic(tu, i);
    const CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
    if (sev >= CXDiagnostic_Error) {
      Diagnostic out;
      out.rule = std::string(kCompileError);
      out.severity = Severity::error;
      out.loc = location_of(clang_getDiagnosticLocation(d));
      out.message = to_string(clang_getDiagnosticSpelling(d));
      // GCC-only flags in a database give location-less "unknown argument"
      // errors from the driver; they do not stop parsing, so they are not
      // compile errors of the file.
      const bool driver_noise =
          out.loc.file.empty() && (out.message.starts_with("unknown argument") ||
                                   out.message.starts_with("unknown warning option") ||
                                   out.message.find("argument unused") != std::string::npos);
      if (!driver_noise) {
        r.compiled = false;
        r.diagnostics.push_back(std::move(out));
      }
    }
    clang_disposeDiagnostic(d);
  }
}

void lint_one(CXIndex index, const CompileCommand& cmd, const std::string& resource_dir,
              const Config& config, FileResult& r) {
  r.file = cmd.file;
  const std::vector<std::string> args = libclang_argv(cmd, resource_dir);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  const auto t0 = Clock::now();
  TuHolder h;
  const CXErrorCode err = clang_parseTranslationUnit2FullArgv(
      index, nullptr, argv.data(), static_cast<int>(argv.size()), nullptr, 0,
      CXTranslationUnit_KeepGoing, &h.tu);
  r.parse_seconds = seconds_since(t0);
  if (err != CXError_Success || !h.tu) {
    Diagnostic d;
    d.rule = std::string(kCompileError);
    d.severity = Severity::error;
    d.loc = SourceLoc{cmd.file, 0, 0};
    d.message = fmt::format(
        "libclang could not parse this file (error {}); check its compile "
        "command in the database",
        static_cast<int>(err));
    r.compiled = false;
    r.diagnostics.push_back(std::move(d));
    return;
  }
  const auto t1 = Clock::now();
  compile_errors(h.tu, r);
  TuModel model = build_model(h.tu, config);
  std::vector<Diagnostic> found = std::move(model.diagnostics);
  check_blocking_on_shared_thread(model, found);
  check_channels(model, found);
  check_lock_order(model, found);
  const std::string main_file = model.main_file.empty() ? cmd.file : model.main_file;
  for (Diagnostic& d : found) {
    if (d.loc.file != main_file && d.loc.file != cmd.file) continue;  // headers: not this TU's
    if (!config.rule_enabled(d.rule)) continue;
    r.diagnostics.push_back(std::move(d));
  }
  r.check_seconds = seconds_since(t1);
}

void apply_suppressions(FileResult& r, const Config& config) {
  SourceText text;
  std::map<std::string, Suppressions> by_file;
  auto for_file = [&](const std::string& f) -> const Suppressions& {
    auto it = by_file.find(f);
    if (it == by_file.end()) it = by_file.emplace(f, Suppressions::parse(text.file(f), f)).first;
    return it->second;
  };
  std::vector<Diagnostic> kept;
  for (Diagnostic& d : r.diagnostics) {
    if (!d.loc.file.empty() && d.rule != kCompileError &&
        for_file(d.loc.file).suppressed(d.loc.line, d.rule))
      continue;
    kept.push_back(std::move(d));
  }
  if (config.rule_enabled(kUnmatchedNolint)) {
    for (const Diagnostic& e : for_file(r.file).errors()) kept.push_back(e);
  }
  r.diagnostics = std::move(kept);
}

}  // namespace

std::string default_resource_dir() {
  return TETHER_CLANG_RESOURCE_DIR;
}
std::string tool_version() {
  return TETHER_LINT_VERSION;
}

LintResult run_lint(const LintOptions& options) {
  CompilationDatabase db;
  try {
    db = CompilationDatabase::load_from_directory(options.build_dir);
  } catch (const DatabaseError& e) {
    throw LintError(e.what());
  }
  std::vector<CompileCommand> todo;
  if (options.files.empty()) {
    todo = db.commands();
    if (todo.empty()) throw LintError(fmt::format("{}: the database lists no files", db.path()));
  } else {
    for (const std::string& f : options.files) {
      std::error_code ec;
      if (!fs::is_regular_file(f, ec)) throw LintError(fmt::format("{}: no such file", f));
      auto cmd = db.find(f);
      if (!cmd) throw LintError(fmt::format("{}: not found in {}", f, db.path()));
      todo.push_back(*cmd);
    }
  }
  for (const CompileCommand& c : todo) {
    std::error_code ec;
    if (!fs::is_regular_file(c.file, ec))
      throw LintError(fmt::format("{}: no such file (listed in {})", c.file, db.path()));
  }

  // Configs are read up front so a malformed one stops the run before any parsing.
  ConfigFinder finder;
  std::shared_ptr<const Config> fixed;
  Config extra;
  extra.disabled = options.disabled;
  extra.sys_calls_are_blocking = options.sys_calls_are_blocking;
  for (const std::string& d : options.disabled)
    if (d.find('*') == std::string::npos && !find_rule(d))
      throw LintError(fmt::format("--disable: unknown rule '{}'", d));
  std::vector<Config> configs;
  try {
    if (!options.config_file.empty())
      fixed = std::make_shared<Config>(load_config_file(options.config_file));
    for (const CompileCommand& c : todo) {
      Config cfg = fixed ? *fixed : *finder.for_file(c.file);
      cfg.merge(extra);
      configs.push_back(std::move(cfg));
    }
  } catch (const ConfigError& e) {
    throw LintError(e.what());
  }

  const std::string resource_dir =
      options.resource_dir.empty() ? default_resource_dir() : options.resource_dir;
  LintResult result;
  result.files.resize(todo.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    IndexHolder index;
    for (std::size_t i = next++; i < todo.size(); i = next++) {
      lint_one(index.index, todo[i], resource_dir, configs[i], result.files[i]);
      apply_suppressions(result.files[i], configs[i]);
    }
  };
  const unsigned jobs = std::max(1u, std::min<unsigned>(options.jobs, todo.size()));
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();

  bool failed = false;
  for (FileResult& f : result.files) {
    failed = failed || !f.compiled;
    for (Diagnostic& d : f.diagnostics) result.diagnostics.push_back(d);
  }
  std::sort(result.diagnostics.begin(), result.diagnostics.end(),
            [](const Diagnostic& a, const Diagnostic& b) {
              return std::tie(a.loc, a.rule, a.message) < std::tie(b.loc, b.rule, b.message);
            });
  result.diagnostics.erase(std::unique(result.diagnostics.begin(), result.diagnostics.end(),
                                       [](const Diagnostic& a, const Diagnostic& b) {
                                         return a.loc == b.loc && a.rule == b.rule &&
                                                a.message == b.message;
                                       }),
                           result.diagnostics.end());
  result.exit_code = failed ? 2 : result.diagnostics.empty() ? 0 : 1;
  return result;
}

}  // namespace tether::lint
