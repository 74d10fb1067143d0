#include "mlsys/cli/command.h"
#include "mlsys/cli/internal/groups.h"

namespace mlsys::cli {

const std::vector<Group>& all_groups() {
  static const std::vector<Group> groups = {
      {"hw", "the hardware catalog: GPUs, interconnects, node types"},
      {"topo", "topologies: tori, fat-trees, leaf-spine, rail-optimised clusters, NCCL XML"},
      {"net", "network models over a topology"},
      {"model", "model zoo: architectures, HF config import, parameter and FLOP counts"},
      {"coll", "collective algorithms: schedules, simulated timing, real MPI runs, TCCL path search"},
      {"sim", "the discrete-event engine"},
      {"train", "training: iteration simulator and parallel-plan search"},
      {"reproduce", "validation scenarios: our figures beside the published ones"},
      {"sparse", "sparse kernels: SpGEMM on real matrices"},
      {"serve", "serving: LLM serving simulator, capacity and placement search"},
      {"docs", "reference documentation generated from the registries"},
  };
  return groups;
}

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = [] {
    std::vector<Command> all;
    for (const auto& list : {hw_commands(), net_commands(), coll_peers_commands(), coll_paths_commands(), coll_run_commands(), coll_sim_commands(), sim_commands(), model_commands(), train_commands(), reproduce_commands(), sparse_commands(), serve_commands(), docs_commands()}) {
      all.insert(all.end(), list.begin(), list.end());
    }
    return all;
  }();
  return commands;
}

}  // namespace mlsys::cli
