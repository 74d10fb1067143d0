#include "mlsys/reproduce/scenario.h"

#include <cmath>

#include "mlsys/reproduce/internal/scenarios.h"

namespace mlsys::reproduce {

CheckLine within(std::string metric, std::string unit, double reference, double ours, double rel_tol,
                 std::string source) {
  CheckLine c{std::move(metric), std::move(unit), reference, ours, "", false, std::move(source)};
  char buf[64];
  std::snprintf(buf, sizeof buf, "within %g%%", rel_tol * 100);
  c.envelope = buf;
  c.pass = std::fabs(ours - reference) <= rel_tol * std::fabs(reference);
  return c;
}

CheckLine at_least(std::string metric, std::string unit, double reference, double ours, std::string source) {
  CheckLine c{std::move(metric), std::move(unit), reference, ours, ">= reference", ours >= reference,
              std::move(source)};
  return c;
}

bool ScenarioReport::passed() const {
  for (const auto& c : checks) {
    if (!c.pass) return false;
  }
  return true;
}

const std::vector<Scenario>& all_scenarios() {
  static const std::vector<Scenario> scenarios = {
      {"engine", "discrete-event engine: hold-model throughput against the foundation targets", run_engine_scenario},
      {"flow", "flow-level network model against closed-form completion times", run_flow_scenario},
      {"tccl", "TCCL ring search on PCIe-dependent servers: searched vs NCCL default rings", run_tccl_scenario},
      {"swing", "Swing allreduce on tori: hop-weighted traffic, flow-model timing vs ring/recdoub/rabenseifner/bucket, ASTRA-sim ring", run_swing_scenario},
  };
  return scenarios;
}

}  // namespace mlsys::reproduce
