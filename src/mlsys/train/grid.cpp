#include "mlsys/train/grid.h"

#include <algorithm>
#include <string>

#include "mlsys/train/memory.h"

namespace mlsys::train {
namespace {

std::vector<int64_t> divisors(int64_t n, int64_t limit) {
  std::vector<int64_t> out;
  for (int64_t d = 1; d <= std::min(n, limit); ++d) {
    if (n % d == 0) out.push_back(d);
  }
  return out;
}

bool fits(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan) {
  const double cap = static_cast<double>(cluster.gpu.hbm_capacity.count());
  // Stage 0 holds the most activations; the last stage holds the head.
  return stage_memory(model, plan, 0).total() <= cap && stage_memory(model, plan, plan.pp - 1).total() <= cap;
}

}  // namespace

Result<GridResult> grid_search(const model::ModelSpec& model, const Cluster& cluster, const GridOptions& options) {
  if (options.global_batch < 1) return invalid_input("global batch must be >= 1", {}, {"--gbs"});
  if (options.seq < 1) return invalid_input("sequence length must be >= 1", {}, {"--seq"});
  std::unique_ptr<model::ComputeModel> owned;
  const model::ComputeModel* compute = options.compute;
  if (compute == nullptr) {
    MLSYS_ASSIGN_OR_RETURN(owned, default_compute_model(cluster, options.precision));
    compute = owned.get();
  }
  CommModel comm(cluster);
  GridResult result;
  std::vector<RankedPlan> ranked;
  const int64_t n = cluster.gpus;
  for (int64_t tp : divisors(std::min(n, cluster.gpus_per_node), cluster.gpus_per_node)) {
    if (model.heads % tp != 0) continue;
    for (int64_t pp : divisors(model.layers, model.layers)) {
      if (n % (tp * pp) != 0) continue;
      const int64_t dp = n / (tp * pp);
      if (options.global_batch % dp != 0) continue;
      for (int64_t mbs : divisors(options.global_batch / dp, options.max_micro_batch)) {
        const int64_t m = options.global_batch / (dp * mbs);
        std::vector<std::pair<Schedule, int64_t>> schedules = {{Schedule::k1F1B, 1}};
        if (pp > 1) {
          schedules.push_back({Schedule::kGpipe, 1});
          if (m % pp == 0) {
            for (int64_t v : divisors(model.layers / pp, model.layers)) {
              if (v >= 2) schedules.push_back({Schedule::kInterleaved, v});
            }
          }
        }
        for (const auto& [schedule, v] : schedules) {
          for (Recompute rc : {Recompute::kNone, Recompute::kSelective, Recompute::kFull}) {
            for (int zero : options.zero_stages) {
              if (dp == 1 && zero > 0) continue;  // nothing to shard
              Plan p;
              p.tp = tp;
              p.pp = pp;
              p.dp = dp;
              p.micro_batch = mbs;
              p.global_batch = options.global_batch;
              p.seq = options.seq;
              p.schedule = schedule;
              p.virtual_stages = v;
              p.recompute = rc;
              p.zero_stage = zero;
              p.sequence_parallel = tp > 1;
              p.precision = options.precision;
              if (options.megascale) apply_megascale(p);
              if (!check_plan(model, cluster, p).ok()) continue;
              ++result.candidates;
              if (!fits(model, cluster, p)) continue;
              ++result.fitting;
              MLSYS_ASSIGN_OR_RETURN(const PlanCosts costs, plan_costs(model, cluster, p, *compute, comm, options.convention));
              ranked.push_back({p, estimate_costs(model, cluster, p, costs)});
            }
          }
        }
      }
    }
  }
  if (ranked.empty()) {
    return invalid_input("no valid plan fits: " + std::to_string(result.candidates) + " valid plans, none within " +
                             std::to_string(cluster.gpu.hbm_capacity.count() >> 30) + " GiB per GPU",
                         "more GPUs, a smaller batch or a shorter sequence");
  }
  auto by_time = [](const RankedPlan& a, const RankedPlan& b) {
    return a.prediction.iteration_time < b.prediction.iteration_time;
  };
  std::stable_sort(ranked.begin(), ranked.end(), by_time);
  const size_t refine = std::min(ranked.size(), static_cast<size_t>(std::max(options.refine, options.top)));
  for (size_t i = 0; i < refine; ++i) {
    MLSYS_ASSIGN_OR_RETURN(const PlanCosts costs,
                           plan_costs(model, cluster, ranked[i].plan, *compute, comm, options.convention));
    ranked[i].prediction = simulate_costs(model, cluster, ranked[i].plan, costs);
    ++result.simulated;
  }
  std::stable_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(refine), by_time);
  ranked.resize(std::min(ranked.size(), static_cast<size_t>(std::max(1, options.top))));
  result.best = std::move(ranked);
  return result;
}

std::string megatron_flags(const model::ModelSpec& model, const Plan& plan) {
  std::string f;
  auto add = [&](const std::string& flag, const std::string& value = {}) {
    if (!f.empty()) f += ' ';
    f += flag;
    if (!value.empty()) f += ' ' + value;
  };
  auto num = [](int64_t v) { return std::to_string(v); };
  add("--num-layers", num(model.layers));
  add("--hidden-size", num(model.hidden));
  add("--num-attention-heads", num(model.heads));
  add("--seq-length", num(plan.seq));
  add("--tensor-model-parallel-size", num(plan.tp));
  add("--pipeline-model-parallel-size", num(plan.pp));
  if (plan.schedule == Schedule::kInterleaved) {
    add("--num-layers-per-virtual-pipeline-stage", num(model.layers / (plan.pp * plan.virtual_stages)));
  }
  add("--micro-batch-size", num(plan.micro_batch));
  add("--global-batch-size", num(plan.global_batch));
  if (plan.ep > 1) add("--expert-model-parallel-size", num(plan.ep));
  if (plan.sequence_parallel && plan.tp > 1) add("--sequence-parallel");
  if (plan.recompute == Recompute::kSelective) add("--recompute-granularity", "selective");
  if (plan.recompute == Recompute::kFull) {
    add("--recompute-granularity", "full");
    add("--recompute-method", "uniform");
    add("--recompute-num-layers", "1");
  }
  if (plan.zero_stage >= 1 && plan.zero_stage <= 2) add("--use-distributed-optimizer");
  if (plan.zero_stage == 3) add("--use-torch-fsdp2");
  if (plan.overlap_dp && plan.dp > 1) {
    add("--overlap-grad-reduce");
    if (plan.zero_stage >= 1) add("--overlap-param-gather");
  }
  if (plan.overlap_tp && plan.tp > 1) add("--tp-comm-overlap");
  if (plan.precision == hw::Precision::kBf16) add("--bf16");
  if (plan.precision == hw::Precision::kFp16) add("--fp16");
  return f;
}

}  // namespace mlsys::train
