// AdaPipe (Sun et al., ASPLOS'24): per-stage recomputation and stage partitioning searched
// jointly beat the best uniform plan by up to 1.32x on GPT-3 175B. No public code exists; our
// two-level DP (train/adapipe.h) runs on the train cost model and is checked against the band.

#include <cstdio>

#include "mlsys/hw/catalog.h"
#include "mlsys/reproduce/internal/scenarios.h"
#include "mlsys/train/adapipe.h"
#include "mlsys/train/simulate.h"

namespace mlsys::reproduce {
namespace {

constexpr char kAbstract[] = "AdaPipe abstract: up to 1.32x on NVIDIA GPU clusters [V-abs]";

struct Gain {
  double gain = 0;
  std::string plan;
};

Result<Gain> gpt3_gain(int64_t seq) {
  MLSYS_ASSIGN_OR_RETURN(model::ModelSpec gpt3, model::find_model("gpt3-175b"));
  MLSYS_ASSIGN_OR_RETURN(hw::GpuSpec gpu, hw::find_gpu("a100-80gb"));
  MLSYS_ASSIGN_OR_RETURN(train::Cluster cluster, train::make_cluster(gpu, 64));
  train::Plan plan{.tp = 8, .pp = 8, .dp = 1, .micro_batch = 1, .global_batch = 64, .seq = seq};
  MLSYS_ASSIGN_OR_RETURN(auto compute, train::default_compute_model(cluster, plan.precision));
  train::CommModel comm(cluster);
  MLSYS_ASSIGN_OR_RETURN(train::AdaPipeInput in, train::adapipe_input(gpt3, cluster, plan, *compute, comm));
  MLSYS_ASSIGN_OR_RETURN(train::AdaPipeSolution ada, train::adapipe_solve(in));
  MLSYS_ASSIGN_OR_RETURN(train::AdaPipeSolution uni, train::adapipe_best_uniform(in));
  Gain g{uni.objective / ada.objective, {}};
  char buf[96];
  std::snprintf(buf, sizeof buf, "seq %lld: uniform (%s everywhere) %.2f s, AdaPipe %.2f s; layers",
                static_cast<long long>(seq), in.option_names[uni.option_per_layer[0]].c_str(),
                uni.objective.seconds(), ada.objective.seconds());
  g.plan = buf;
  int64_t first = 0;
  for (int64_t layers : ada.layers_per_stage) {
    int counts[3] = {0, 0, 0};
    for (int64_t l = first; l < first + layers; ++l) ++counts[ada.option_per_layer[l]];
    std::snprintf(buf, sizeof buf, " %lld(n%d/s%d/f%d)", static_cast<long long>(layers), counts[0], counts[1], counts[2]);
    g.plan += buf;
    first += layers;
  }
  return g;
}

}  // namespace

Result<ScenarioReport> run_adapipe_scenario(const ScenarioOptions& options) {
  ScenarioReport report{.scenario = "adapipe",
                        .title = "AdaPipe two-level DP, GPT-3 175B, t=8 p=8, A100-80GB, b=1, m=64"};
  MLSYS_ASSIGN_OR_RETURN(Gain g2k, gpt3_gain(2048));
  report.checks.push_back(at_least("AdaPipe / best uniform plan, seq 2048", "x", 1.0, g2k.gain,
                                   "AdaPipe never loses to a uniform plan (it is in its search space)"));
  report.checks.push_back(at_least("1.32 / (AdaPipe / best uniform), seq 2048", "x", 1.0, 1.32 / g2k.gain, kAbstract));
  report.notes.push_back(g2k.plan);
  const int64_t long_seq = options.quick ? 4096 : 8192;
  MLSYS_ASSIGN_OR_RETURN(Gain glong, gpt3_gain(long_seq));
  report.checks.push_back(at_least("gain at seq " + std::to_string(long_seq) + " / gain at 2048", "x", 1.0,
                                   glong.gain / g2k.gain, "research notes 3: gain grows with sequence length [I]"));
  report.notes.push_back(glong.plan);
  report.notes.push_back("options per layer: n = no recompute, s = selective, f = full; cost model: train/costs.h roofline");
  return report;
}

}  // namespace mlsys::reproduce
