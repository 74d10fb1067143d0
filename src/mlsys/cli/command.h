// The command registry: every `mlsys <group> <command>` is one Command value, declared by the
// cli/ file of its group, with its options taken from the option registry (core/options.h).
//
//   Command c{.group = "topo", .name = "show", .summary = "summarise a topology",
//             .options = {kTopologyOption}, .run = run_topo_show};
//   int rc = run_cli(argc, argv, std::cout, std::cerr);
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "mlsys/core/options.h"
#include "mlsys/core/result.h"

namespace mlsys::cli {

/// Options every command takes (DESIGN.md "Interfaces").
struct GlobalOptions {
  uint64_t seed = 0;
  bool json = false;
  std::string out;    // directory for reports; empty: none written
  std::string trace;  // Chrome-trace JSON path; empty: none
  std::string plot;   // SVG path; empty: none
  std::string config; // config file the options were read from; empty: none
  bool quiet = false;
  std::string log = "warn";
};

/// What a command's run function gets: its resolved options and where to write.
struct Context {
  const OptionValues& options;
  const GlobalOptions& global;
  std::ostream& out;  // results (tables, or JSON with --json)
  std::ostream& err;  // diagnostics and progress
  std::string command_path;  // "topo show"
};

struct Command {
  std::string group;        // "topo"
  std::string name;         // "show"
  std::string summary;      // one line for the command list
  std::string description;  // paragraph(s) for --help and the reference, with examples
  std::vector<OptionSpec> options;
  Status (*run)(Context& ctx) = nullptr;
};

/// A command group as shown by `mlsys --help`.
struct Group {
  std::string name;
  std::string summary;
};

/// Every group and command, in the order --help lists them.
const std::vector<Group>& all_groups();
const std::vector<Command>& all_commands();

/// The options every command takes (--seed, --json, --out, ...).
const std::vector<OptionSpec>& global_options();

/// "mlsys 0.1.0 (git abc123)".
std::string version_string();

/// Runs the mlsys command line; returns the process exit code (0 ok, 1 check failed,
/// 2 bad input, 3 internal error). Never throws.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

/// The CLI reference in Markdown, generated from the registry (docs/CLI.md).
std::string cli_reference_markdown();

}  // namespace mlsys::cli
