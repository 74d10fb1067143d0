// Per-group command lists; each is defined in commands_<group>.cpp and collected by registry.cpp.
#pragma once

#include <vector>

#include "mlsys/cli/command.h"

namespace mlsys::cli {

std::vector<Command> docs_commands();
std::vector<Command> hw_commands();  // hw list, hw show, topo show
std::vector<Command> sim_commands();
std::vector<Command> net_commands();
std::vector<Command> reproduce_commands();
std::vector<Command> coll_peers_commands();  // coll peers (schedules)
std::vector<Command> coll_paths_commands();  // coll paths (TCCL)
std::vector<Command> coll_run_commands();    // coll run (real MPI)
std::vector<Command> coll_sim_commands();    // coll sim (analytic / flow timing)
std::vector<Command> serve_commands();  // serve sim, serve capacity, serve place
std::vector<Command> sparse_commands();  // sparse spgemm, sparse bench
std::vector<Command> train_commands();   // train sim, train plan
std::vector<Command> model_commands();  // model list, model show

/// --topology SPEC, shared by every command that runs on a topology.
const OptionSpec& topology_option();

}  // namespace mlsys::cli
