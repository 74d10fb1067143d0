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
      {"aceso", "Aceso search on the artifact's GPT-1.3B V100 profiles: predicted iteration and gain over uniform Megatron", run_aceso_scenario},
      {"adapipe", "AdaPipe two-level DP on GPT-3 175B: gain over the best uniform plan within the paper's band", run_adapipe_scenario},
      {"sarathi", "Sarathi-Serve: Yi-34B calibrated iteration times, chunking overhead, Vidur memory plan, capacity vs vLLM", run_sarathi_scenario},
      {"distserve", "DistServe: OPT-13B placement search goodput per GPU, M/D/1 prefill queue", run_distserve_scenario},
      {"vtc", "VTC fairness: 2U service-difference bound, LCF counter-example, FCFS share", run_vtc_scenario},
      {"aces", "ACES SpGEMM accelerator model: Fig. 5 PureFiber example, condensing and cache-policy ablation trends", run_aces_scenario},
      {"megatron", "Megatron-LM: SC'21 Table 1 TFLOP/s, Korthikanti activation memory and Table 5 times", run_megatron_scenario},
      {"megascale", "MegaScale: GPT-3 175B on 12,288 A100s, MegaScale vs Megatron-LM", run_megascale_scenario},
  };
  return scenarios;
}

}  // namespace mlsys::reproduce
