// `tether lint`: the libclang static checker (analyzer/lint, docs/lint-rules.md).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "lint/linter.h"
#include "lint/report.h"
#include "lint/rules.h"

namespace tether::cli {
namespace {

struct LintArgs {
  lint::LintOptions options;
  std::string format = "text";
  std::string output;
  std::string root;
  bool timing = false;
  bool list_rules = false;
};

int run_lint_command(const LintArgs& args) {
  if (args.list_rules) {
    for (const lint::RuleInfo& r : lint::all_rules())
      fmt::print("{}\n    {}\n", r.id, r.short_description);
    return 0;
  }
  if (args.options.build_dir.empty()) {
    fmt::print(stderr,
               "tether lint: error: -p BUILD_DIR is required (the directory holding "
               "compile_commands.json)\n");
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  lint::LintResult result;
  try {
    result = lint::run_lint(args.options);
  } catch (const lint::LintError& e) {
    fmt::print(stderr, "tether lint: error: {}\n", e.what());
    return 2;
  }
  lint::ReportInput in;
  in.diagnostics = result.diagnostics;
  for (const lint::FileResult& f : result.files) in.files.push_back(f.file);
  std::error_code ec;
  in.root = args.root.empty()
                ? std::filesystem::current_path(ec).string()
                : std::filesystem::absolute(args.root, ec).lexically_normal().string();
  in.tool_version = lint::tool_version();
  const lint::Format format = args.format == "json"    ? lint::Format::json
                              : args.format == "sarif" ? lint::Format::sarif
                                                       : lint::Format::text;
  if (args.output.empty() || args.output == "-") {
    lint::write_report(std::cout, in, format);
    std::cout.flush();
  } else {
    std::ofstream out(args.output, std::ios::binary | std::ios::trunc);
    if (!out) {
      fmt::print(stderr, "tether lint: error: {}: cannot write the report\n", args.output);
      return 2;
    }
    lint::write_report(out, in, format);
  }
  if (args.timing) {
    double parse = 0;
    for (const lint::FileResult& f : result.files) {
      fmt::print(stderr, "{}: parse {:.3f} s, checks {:.3f} s\n",
                 lint::relative_to(f.file, in.root), f.parse_seconds, f.check_seconds);
      parse += f.parse_seconds;
    }
    fmt::print(stderr, "total: {} files, parse {:.3f} s (sum), wall {:.3f} s with -j {}\n",
               result.files.size(), parse,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
               args.options.jobs);
  }
  if (format == lint::Format::text && !result.diagnostics.empty())
    fmt::print(stderr, "{} finding{} in {} file{}\n", result.diagnostics.size(),
               result.diagnostics.size() == 1 ? "" : "s", result.files.size(),
               result.files.size() == 1 ? "" : "s");
  return result.exit_code;
}

}  // namespace

void add_lint_command(CLI::App& app, CommandResult& result) {
  auto args = std::make_shared<LintArgs>();
  CLI::App* cmd = app.add_subcommand(
      "lint",
      "Static checker (libclang): finds deadlock patterns of fibers sharing an OS thread before "
      "the program runs. Reads BUILD_DIR/compile_commands.json; lints the FILES given, or every "
      "file of the database.");
  cmd->add_option("-p,--build-dir", args->options.build_dir,
                  "Build directory containing compile_commands.json")
      ->type_name("BUILD_DIR")
      ->required(false);
  cmd->add_option("files", args->options.files,
                  "Source files to lint (default: all in the database)")
      ->type_name("FILE");
  cmd->add_option("-j,--jobs", args->options.jobs, "Translation units parsed in parallel")
      ->type_name("N")
      ->check(CLI::Range(1u, 256u));
  cmd->add_option("--format", args->format, "Output format: text (clang-tidy style), json, sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  cmd->add_option("-o,--output", args->output, "Write the report to FILE instead of stdout")
      ->type_name("FILE");
  cmd->add_option("--disable", args->options.disabled,
                  "Rule ids or globs to turn off (repeatable, comma-separated)")
      ->type_name("RULE")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--config", args->options.config_file,
                  "Use this config file instead of the nearest .tether-lint.yaml")
      ->type_name("FILE");
  cmd->add_flag("--sys-calls-are-blocking", args->options.sys_calls_are_blocking,
                "Report tether::sys:: calls on shared threads too");
  cmd->add_option("--root", args->root,
                  "Show paths relative to DIR (SARIF: the SRCROOT base); default: the current "
                  "directory")
      ->type_name("DIR");
  cmd->add_option("--resource-dir", args->options.resource_dir,
                  "clang resource directory for builtin headers (default: the one found at build "
                  "time)")
      ->type_name("DIR");
  cmd->add_flag("--timing", args->timing, "Print parse and check time per file to stderr");
  cmd->add_flag("--list-rules", args->list_rules, "List the rules and exit");
  cmd->footer(
      "Suppress a finding with // NOLINT(rule), // NOLINTNEXTLINE(rule) or a\n"
      "// NOLINTBEGIN(rule) ... // NOLINTEND(rule) region; see docs/lint-rules.md.\n"
      "Exit status: 0 clean, 1 findings, 2 bad input or a file that did not compile.");
  cmd->callback([args, &result] { result.exit_code = run_lint_command(*args); });
}

}  // namespace tether::cli
