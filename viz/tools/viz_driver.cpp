// tether_viz_driver: `tether viz` on its own, for tests and for building the
// viz without the rest of the CLI. `tether_viz_driver viz SNAPSHOT -o FILE ...`
// behaves exactly as `tether viz ...` (same code: cli/viz_command.cpp).
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tether viz, standalone"};
  app.require_subcommand(1);
  tether::cli::CommandResult result;
  tether::cli::add_viz_command(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (100-127) are not tether's: usage errors are 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return result.exit_code;
}
