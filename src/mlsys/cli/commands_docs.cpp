#include <ostream>

#include "mlsys/cli/internal/groups.h"

namespace mlsys::cli {
namespace {

Status run_docs_cli(Context& ctx) {
  ctx.out << cli_reference_markdown();
  return {};
}

}  // namespace

std::vector<Command> docs_commands() {
  return {
      {.group = "docs",
       .name = "cli",
       .summary = "print the command-line reference (Markdown) generated from the option registry",
       .description = "Example: mlsys docs cli > docs/CLI.md",
       .run = run_docs_cli},
  };
}

}  // namespace mlsys::cli
