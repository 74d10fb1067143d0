// DistServe (Zhong et al., OSDI'24): the placement search on OPT-13B with the shipped fitted
// coefficients (the simulator README's example), and the M/D/1 queueing model of a prefill server.

#include <algorithm>
#include <cmath>

#include "mlsys/core/rng.h"
#include "mlsys/model/model.h"
#include "mlsys/reproduce/internal/scenarios.h"
#include "mlsys/serve/batch_time.h"
#include "mlsys/serve/capacity.h"
#include "mlsys/serve/memory_planner.h"
#include "mlsys/serve/workload.h"

namespace mlsys::reproduce {
namespace {

constexpr char kReadme[] = "DistServe simdistserve README example (research notes §3.6)";
constexpr char kPaper[] = "DistServe §3 queueing analysis: D + R·D² / (2(1 − R·D))";

// Chat lengths from a real conversation trace: the Azure LLM inference 2023 conversation trace's
// (prompt, output) pairs that fit OPT's 2K context (DistServe prunes over-long ShareGPT
// conversations the same way), in trace order, with Poisson arrivals at the trial's rate.
struct ChatLengths {
  std::vector<serve::Request> base;
  static Result<ChatLengths> load(int n, uint64_t seed) {
    MLSYS_ASSIGN_OR_RETURN(serve::Workload conv, serve::load_workload("azure-conv", {}));
    ChatLengths c;
    RngStream rng(seed, "reproduce/distserve/arrivals");
    double t = 0;
    for (const serve::Request& r : conv.requests) {
      if (static_cast<int>(c.base.size()) == n) break;
      if (r.prompt_tokens + r.output_tokens > 2048) continue;
      t += rng.exponential(1.0);
      c.base.push_back({.id = static_cast<int64_t>(c.base.size()),
                        .arrival = from_seconds(t),
                        .prompt_tokens = r.prompt_tokens,
                        .output_tokens = r.output_tokens});
    }
    return c;
  }
  serve::Workload at(double rate) const {
    serve::Workload w{.name = "azure-conv lengths, poisson"};
    w.requests = base;
    for (serve::Request& r : w.requests) r.arrival = from_seconds(r.arrival.seconds() / rate);
    return w;
  }
};

}  // namespace

Result<ScenarioReport> run_distserve_scenario(const ScenarioOptions& options) {
  ScenarioReport report{
      .scenario = "distserve",
      .title = "DistServe: OPT-13B placement search (fitted A100 coefficients), M/D/1 prefill queue"};
  MLSYS_ASSIGN_OR_RETURN(model::ModelSpec opt, model::resolve_model("opt-13b"));
  MLSYS_ASSIGN_OR_RETURN(const ChatLengths trace, ChatLengths::load(300, options.seed));
  auto factory = [&](int64_t tp, int64_t pp) -> Result<serve::InstanceModel> {
    MLSYS_ASSIGN_OR_RETURN(serve::FittedBatchTimeSpec spec, serve::distserve_spec("opt-13b", tp, pp));
    MLSYS_ASSIGN_OR_RETURN(serve::KvPlan plan,
                           serve::plan_kv_cache(opt, GiB(80), {.tp = tp, .pp = pp, .max_tokens = 2048}));
    return serve::InstanceModel{.time = serve::make_fitted_batch_time(spec), .blocks = plan.num_blocks};
  };
  serve::PlacementOptions po{
      .gpus = 4, .tp = {1, 2, 4}, .pp = options.quick ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 2}};
  po.capacity = {.criterion = serve::CapacityCriterion::kDistServe,
                 .slo = {.ttft = ms(200), .tpot = ms(100)},
                 .attainment = 0.9,
                 .start_rate = 1.0,
                 .tolerance = 0.02};
  po.scheduler.max_model_len = 2048;
  po.scheduler.max_batched_tokens = 2048;
  po.base.kv_bytes_per_token = serve::kv_bytes(opt, 1);
  po.base.kv_link = GBps(300);
  MLSYS_ASSIGN_OR_RETURN(
      serve::PlacementResult r,
      serve::search_placement([&](double rate) -> Result<serve::Workload> { return trace.at(rate); }, factory,
                              po));
  const serve::PlacementCandidate& best = r.candidates.front();
  report.checks.push_back(within("OPT-13B, 4x A100, TTFT 200 ms / TPOT 100 ms at 90%: best goodput per GPU",
                                 "req/s/GPU", 1.56, best.goodput_per_gpu, 0.15, kReadme));
  const serve::PlacementCandidate* readme = nullptr;
  for (const auto& c : r.candidates) {
    if (c.prefill_tp == 2 && c.prefill_pp == 1 && c.decode_tp == 1 && c.decode_pp == 1) readme = &c;
  }
  if (readme != nullptr) {
    report.notes.push_back("the README's placement (prefill TP2, decode TP1) reaches " +
                           std::to_string(readme->goodput_per_gpu) + " req/s/GPU here");
  }
  report.notes.push_back("best placement: prefill TP" + std::to_string(best.prefill_tp) + " PP" +
                         std::to_string(best.prefill_pp) + ", decode TP" + std::to_string(best.decode_tp) +
                         " PP" + std::to_string(best.decode_pp) + " (README: prefill TP2, decode TP1); " +
                         std::to_string(r.candidates.size()) + " placements simulated");
  report.notes.push_back(
      "lengths: the first 300 Azure conversation-trace requests within 2048 tokens (DistServe's "
      "ShareGPT sample is not shipped; the goodput depends on the lengths), N = 300 as in the README");

  // M/D/1: one prefill server, D = 100 ms, Poisson R = 5/s, one request per batch.
  RngStream rng(options.seed, "reproduce/distserve/md1");
  serve::Workload w{.name = "md1"};
  double t = 0;
  const int n = options.quick ? 20000 : 100000;
  for (int i = 0; i < n; ++i) {
    t += rng.exponential(5.0);
    w.requests.push_back({.id = i, .arrival = from_seconds(t), .prompt_tokens = 100, .output_tokens = 1});
  }
  serve::SimConfig c{.scheduler = serve::SchedulerKind::kVllm,
                     .time = serve::make_fitted_batch_time({.name = "D=100ms", .prefill = {100, 0, 0}}),
                     .num_blocks = 1 << 20};
  c.options.max_num_seqs = 1;
  MLSYS_ASSIGN_OR_RETURN(serve::SimResult md1, serve::simulate(w, c));
  report.checks.push_back(within("M/D/1 prefill server, D = 100 ms, R = 5/s: mean TTFT", "s", 0.15,
                                 md1.metrics.summary({}).ttft.mean, 0.03, kPaper));
  return report;
}

}  // namespace mlsys::reproduce
