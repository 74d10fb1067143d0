// VTC (Sheng et al., OSDI'24): the service difference between backlogged clients stays within
// 2U under the Virtual Token Counter, LCF (no counter lift) breaks the bound when a client
// returns, and FCFS gives an overloading client its arrival share.

#include <algorithm>
#include <cmath>

#include "mlsys/core/rng.h"
#include "mlsys/reproduce/internal/scenarios.h"
#include "mlsys/serve/batch_time.h"
#include "mlsys/serve/simulator.h"

namespace mlsys::reproduce {
namespace {

constexpr char kBound[] = "VTC paper theorem: |W_f - W_g| <= 2U, U = max(w_in·L_in, w_out·M) (notes §4.1)";
constexpr char kOverload[] = "VTC paper 'overload' experiment: FCFS serves clients in proportion to arrivals";

// Service each pair of clients received while both were backlogged (since the later of the two
// became backlogged), and the total per client.
class PairService final : public serve::SimObserver {
 public:
  explicit PairService(int clients)
      : n_(clients), backlogged_(static_cast<size_t>(clients), false), served_(static_cast<size_t>(clients), 0.0),
        mark_(static_cast<size_t>(clients * clients), 0.0) {}
  void on_service(int64_t client, double w, Time) override {
    served_[static_cast<size_t>(client)] += w;
    for (int f = 0; f < n_; ++f) {
      for (int g = 0; g < n_; ++g) {
        if (f == g || !backlogged_[static_cast<size_t>(f)] || !backlogged_[static_cast<size_t>(g)]) continue;
        max_difference = std::max(max_difference, std::abs(served_[static_cast<size_t>(f)] - served_[static_cast<size_t>(g)] -
                                                           mark_[static_cast<size_t>(f * n_ + g)]));
      }
    }
  }
  void on_backlog(int64_t client, bool b, Time) override {
    const int c = static_cast<int>(client);
    backlogged_[static_cast<size_t>(c)] = b;
    for (int o = 0; o < n_; ++o) {
      mark_[static_cast<size_t>(c * n_ + o)] = served_[static_cast<size_t>(c)] - served_[static_cast<size_t>(o)];
      mark_[static_cast<size_t>(o * n_ + c)] = served_[static_cast<size_t>(o)] - served_[static_cast<size_t>(c)];
    }
  }
  double served(int c) const { return served_[static_cast<size_t>(c)]; }
  double max_difference = 0;

 private:
  int n_;
  std::vector<bool> backlogged_;
  std::vector<double> served_;
  std::vector<double> mark_;
};

constexpr int64_t kBlocks = 256, kBlockSize = 16, kLen = 256;

serve::SimConfig vtc_config(serve::SchedulerKind kind, PairService& obs) {
  // LLaMA-2-7B-like iteration cost (fitted form), a small KV pool so U stays small.
  serve::SimConfig c{.scheduler = kind,
                     .time = serve::make_fitted_batch_time(
                         {.name = "7b-like", .prefill = {15, 0.07, 0}, .decode_small = {12, 2e-4, 0.05}}),
                     .num_blocks = kBlocks, .observer = &obs};
  c.options.block_size = kBlockSize;
  c.options.watermark = 0;
  return c;
}

// Two clients overloading the server at 1.5 and 3 req/s, input = output = 256 (the paper's setup).
serve::Workload overload(int seconds, uint64_t seed) {
  RngStream rng(seed, "reproduce/vtc/overload");
  std::vector<serve::Request> rs;
  for (int c = 0; c < 2; ++c) {
    double t = 0;
    const double rate = c == 0 ? 1.5 : 3.0;
    while ((t += rng.exponential(rate)) < seconds) {
      rs.push_back({.arrival = from_seconds(t), .prompt_tokens = kLen, .output_tokens = kLen, .client = c});
    }
  }
  std::stable_sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) { return a.arrival < b.arrival; });
  for (size_t i = 0; i < rs.size(); ++i) rs[i].id = static_cast<int64_t>(i);
  return serve::Workload{.name = "overload", .requests = std::move(rs), .clients = 2};
}

// Client 0 alone for 300 s (its counter grows past 2U), then both clients flood the server.
serve::Workload returning_client() {
  std::vector<serve::Request> rs;
  for (int i = 0; i < 300; ++i) rs.push_back({.arrival = sec(i), .prompt_tokens = 64, .output_tokens = 64, .client = 0});
  for (int i = 0; i < 400; ++i) {
    for (int c = 1; c >= 0; --c) {
      rs.push_back({.arrival = sec(300 + 0.01 * i), .prompt_tokens = 64, .output_tokens = 64, .client = c});
    }
  }
  for (size_t i = 0; i < rs.size(); ++i) rs[i].id = static_cast<int64_t>(i);
  return serve::Workload{.name = "returning client", .requests = std::move(rs), .clients = 2};
}

}  // namespace

Result<ScenarioReport> run_vtc_scenario(const ScenarioOptions& options) {
  ScenarioReport report{.scenario = "vtc", .title = "VTC fairness: service difference bound, LCF counter-example, FCFS"};
  const double u = std::max(1.0 * kLen, 2.0 * static_cast<double>(kBlocks * kBlockSize));
  const serve::Workload w = overload(options.quick ? 60 : 360, options.seed);
  double diff[3] = {0, 0, 0};
  double share[3] = {0, 0, 0};
  const serve::SchedulerKind kinds[3] = {serve::SchedulerKind::kVtc, serve::SchedulerKind::kLcf, serve::SchedulerKind::kVllm};
  for (int k = 0; k < 3; ++k) {
    PairService obs(2);
    MLSYS_ASSIGN_OR_RETURN(serve::SimResult r, serve::simulate(w, vtc_config(kinds[k], obs)));
    diff[k] = obs.max_difference;
    share[k] = obs.served(1) / std::max(1.0, obs.served(0));
  }
  report.checks.push_back({"overload (1.5 and 3 req/s, 256/256 tokens): VTC max service difference / 2U", "x", 1.0,
                           diff[0] / (2 * u), "<= reference", diff[0] <= 2 * u, kBound});
  report.checks.push_back(at_least("overload: FCFS service of the 3 req/s client over the 1.5 req/s one", "x", 1.5,
                                   share[2], kOverload));
  PairService lcf(2), vtc(2);
  const serve::Workload back = returning_client();
  MLSYS_ASSIGN_OR_RETURN(serve::SimResult rl, serve::simulate(back, vtc_config(serve::SchedulerKind::kLcf, lcf)));
  MLSYS_ASSIGN_OR_RETURN(serve::SimResult rv, serve::simulate(back, vtc_config(serve::SchedulerKind::kVtc, vtc)));
  report.checks.push_back(at_least("returning client: LCF max service difference / 2U (bound broken)", "x", 1.0,
                                   lcf.max_difference / (2 * u), kBound));
  report.checks.push_back({"returning client: VTC max service difference / 2U", "x", 1.0, vtc.max_difference / (2 * u),
                           "<= reference", vtc.max_difference <= 2 * u, kBound});
  report.notes.push_back("U = " + std::to_string(static_cast<int64_t>(u)) + " weighted tokens (" + std::to_string(kBlocks) +
                         " blocks of " + std::to_string(kBlockSize) + " tokens, w_in 1, w_out 2); client 1/client 0 "
                         "service: VTC " + std::to_string(share[0]) + ", LCF " + std::to_string(share[1]) + ", FCFS " +
                         std::to_string(share[2]));
  return report;
}

}  // namespace mlsys::reproduce
