#include "mlsys/serve/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "mlsys/core/rng.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/model/model.h"
#include "mlsys/serve/batch_time.h"
#include "mlsys/serve/memory_planner.h"

namespace mlsys::serve {
namespace {

Request req(int64_t id, double arrival_s, int64_t prompt, int64_t output, int64_t client = 0) {
  return Request{.id = id,
                 .arrival = sec(arrival_s),
                 .prompt_tokens = prompt,
                 .output_tokens = output,
                 .client = client};
}

Workload make(std::vector<Request> rs, int64_t clients = 1) {
  Workload w{.name = "test", .requests = std::move(rs), .clients = clients};
  return w;
}

// Constant-time iterations: every batch takes `t_ms`, whatever it holds.
std::shared_ptr<const BatchTimeModel> constant_time(double t_ms) {
  return make_fitted_batch_time({.name = "constant", .prefill = {t_ms, 0, 0}, .decode_small = {t_ms, 0, 0}});
}

SimConfig config(SchedulerKind kind, int64_t blocks, double t_ms = 10) {
  SimConfig c{
      .scheduler = kind, .time = constant_time(t_ms), .num_blocks = blocks, .record_iterations = true};
  c.options.watermark = 0;
  return c;
}

// ---- batch-time models -------------------------------------------------------------------------

TEST(FittedBatchTime, ReproducesYi34bPrefillRunsWithinTenPercent) {
  auto m = make_fitted_batch_time(sarathi_yi34b_tp2_spec());
  for (const auto& [len, t] : sarathi_yi34b_prefill_points()) {
    BatchShape b;
    b.add_prefill(len, 0);
    EXPECT_NEAR(m->stage_time(b) / ms(1), t, 0.10 * t) << len;
  }
}

TEST(FittedBatchTime, ReproducesYi34bDecodeRunsWithinTenPercent) {
  auto m = make_fitted_batch_time(sarathi_yi34b_tp2_spec());
  for (const auto& [n, t] : sarathi_yi34b_decode_points()) {
    BatchShape b;
    for (int64_t i = 0; i < n; ++i) b.add_decode(1024);
    EXPECT_NEAR(m->stage_time(b) / ms(1), t, 0.10 * t) << n;
  }
}

TEST(FittedBatchTime, HybridBatchCostsAboutTheSameAsAnEqualPrefill) {
  // Sarathi-Serve table 2: 1021 prefill + 3 decodes 217.6 ms vs a 1024 prefill 217.2 ms.
  auto m = make_fitted_batch_time(sarathi_yi34b_tp2_spec());
  BatchShape hybrid, prefill;
  hybrid.add_prefill(1021, 0);
  for (int i = 0; i < 3; ++i) hybrid.add_decode(1024);
  prefill.add_prefill(1024, 0);
  EXPECT_NEAR(m->stage_time(hybrid) / m->stage_time(prefill), 217.6498775370419 / 217.2359591349959, 0.02);
}

TEST(FittedBatchTime, ChunkingOverheadOfA4kPromptAtChunk512IsAbout119Percent) {
  // Sarathi-Serve fig. 9: 4095-token prompt, chunk 512: 922 ms vs 775 ms unchunked (1.19x).
  auto m = make_fitted_batch_time(sarathi_yi34b_tp2_spec());
  Time chunked = Time::zero();
  for (int64_t done = 0; done < 4095; done += 512) {
    BatchShape b;
    b.add_prefill(std::min<int64_t>(512, 4095 - done), done);
    chunked += m->stage_time(b);
  }
  BatchShape whole;
  whole.add_prefill(4095, 0);
  EXPECT_NEAR(chunked / m->stage_time(whole), 1.1889, 0.1 * 1.1889);
}

TEST(FittedBatchTime, DistServeOpt13bPrefillOf512TokensIs72Ms) {
  auto spec = distserve_spec("facebook/opt-13b", 1, 1);
  ASSERT_TRUE(spec.ok());
  BatchShape b;
  b.add_prefill(512, 0);
  EXPECT_NEAR(make_fitted_batch_time(*spec)->stage_time(b) / ms(1),
              18.1025 + 0.10191 * 512 + 7.1223e-6 * 512 * 512, 0.01);
}

TEST(FittedBatchTime, DistServeDecodeSwitchesRegimeAtThreshold) {
  auto m = make_fitted_batch_time(*distserve_spec("opt-13b", 1, 1));
  BatchShape small, large;
  for (int i = 0; i < 94; ++i) small.add_decode(100);
  for (int i = 0; i < 95; ++i) large.add_decode(100);
  EXPECT_NEAR(small.decode_context * 6.269356524350583e-4 + 19.934702624895458 + 94 * 0.03850697740828398,
              m->stage_time(small) / ms(1), 1e-3);
  EXPECT_NEAR(7.1661889468253595 + 9500 * 5.798000403396046e-4 + 95 * 0.15831096191764046,
              m->stage_time(large) / ms(1), 1e-3);
}

TEST(FittedBatchTime, UnknownDistServeProfileListsKnownOnes) {
  auto spec = distserve_spec("opt-13b", 8, 1);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().hint().find("opt-13b tp2"), std::string::npos);
}

TEST(FitPrefill, RecoversExactQuadratic) {
  std::vector<std::pair<int64_t, double>> pts;
  for (int64_t l : {100, 400, 900, 2000}) pts.emplace_back(l, 5 + 0.1 * l + 1e-5 * l * l);
  auto fit = fit_prefill(pts);
  ASSERT_TRUE(fit.ok());
  EXPECT_NEAR(fit->a, 5, 1e-6);
  EXPECT_NEAR(fit->b, 0.1, 1e-9);
  EXPECT_NEAR(fit->c, 1e-5, 1e-12);
}

TEST(FitPrefill, RejectsTooFewPoints) { EXPECT_FALSE(fit_prefill({{1, 1.0}, {2, 2.0}}).ok()); }

TEST(RooflineBatchTime, DecodeTimeGrowsWithContext) {
  auto spec = model::resolve_model("llama2-7b");
  ASSERT_TRUE(spec.ok());
  auto m = make_roofline_batch_time(*spec, *hw::find_gpu("a100-80g"), {});
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  BatchShape short_ctx, long_ctx;
  for (int i = 0; i < 64; ++i) {
    short_ctx.add_decode(128);
    long_ctx.add_decode(4096);
  }
  EXPECT_LT((*m)->stage_time(short_ctx), (*m)->stage_time(long_ctx));
}

TEST(RooflineBatchTime, TensorParallelismShortensALongPrefill) {
  auto spec = *model::resolve_model("llama2-7b");
  auto tp1 = make_roofline_batch_time(spec, *hw::find_gpu("a100-80g"), {.tp = 1});
  auto tp2 = make_roofline_batch_time(spec, *hw::find_gpu("a100-80g"), {.tp = 2});
  BatchShape b;
  b.add_prefill(4096, 0);
  EXPECT_LT((*tp2)->stage_time(b), (*tp1)->stage_time(b));
  EXPECT_GT((*tp2)->stage_time(b), (*tp1)->stage_time(b) * 0.4);  // the all-reduces cost something
}

TEST(RooflineBatchTime, RejectsTpNotDividingHeads) {
  auto spec = *model::resolve_model("llama2-7b");
  auto m = make_roofline_batch_time(spec, *hw::find_gpu("a100-80g"), {.tp = 3});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().where().file, "--tp");
}

// ---- memory planner ----------------------------------------------------------------------------

TEST(MemoryPlanner, VidurLlama2_7bOnA100Gives7424Blocks) {
  auto plan = plan_kv_cache(*model::resolve_model("llama2-7b"), GiB(80), {.tp = 1, .max_tokens = 4096});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_EQ(plan->max_batch, 29);
  EXPECT_EQ(plan->num_blocks, 7424);
}

TEST(MemoryPlanner, VidurLlama2_70bTp4Gives32768Blocks) {
  auto plan = plan_kv_cache(*model::resolve_model("llama2-70b"), GiB(80), {.tp = 4, .max_tokens = 4096});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_EQ(plan->max_batch, 128);
  EXPECT_EQ(plan->num_blocks, 32768);
}

TEST(MemoryPlanner, ModelThatDoesNotFitShowsTheArithmetic) {
  auto plan = plan_kv_cache(*model::resolve_model("llama2-70b"), GiB(80), {.tp = 1});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("weights"), std::string::npos);
  EXPECT_NE(plan.error().message().find("GiB"), std::string::npos);
}

TEST(MemoryPlanner, VllmModeLeavesFewerBlocksThanVidurForTheSameGpu) {
  auto spec = *model::resolve_model("llama2-7b");
  auto vidur = plan_kv_cache(spec, GiB(80), {});
  auto vllm = plan_kv_cache(spec, GiB(80), {.mode = MemoryPlanMode::kVllm});
  ASSERT_TRUE(vllm.ok());
  EXPECT_GT(vllm->num_blocks, 0);
  EXPECT_LT(vllm->num_blocks, vidur->num_blocks + 1000);
}

// ---- schedulers --------------------------------------------------------------------------------

TEST(SarathiScheduler, ChunksANewPromptIntoTheBudgetLeftByDecodes) {
  // 10 requests decoding, then a 2000-token prompt: 10 decode tokens + a 502-token chunk.
  std::vector<Request> rs;
  for (int i = 0; i < 10; ++i) rs.push_back(req(i, 0, 16, 100));
  rs.push_back(req(10, 0.05, 2000, 2));
  SimConfig c = config(SchedulerKind::kSarathi, 10000);
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  std::vector<int32_t> chunks;
  for (const IterationRecord& it : r->iterations_log) {
    if (it.start >= sec(0.05) && it.prefill_tokens > 0) chunks.push_back(it.prefill_tokens);
  }
  ASSERT_GE(chunks.size(), 4u);
  EXPECT_EQ(chunks[0], 502);
  EXPECT_EQ(chunks[1], 502);
  EXPECT_EQ(chunks[2], 502);
  EXPECT_EQ(chunks[3], 494);
}

TEST(SarathiScheduler, NoIterationExceedsTheTokenBudget) {
  std::vector<Request> rs;
  RngStream rng(1, "test");
  for (int i = 0; i < 200; ++i)
    rs.push_back(req(i, i * 0.01, rng.uniform_int(1, 3000), rng.uniform_int(1, 200)));
  SimConfig c = config(SchedulerKind::kSarathi, 4000);
  c.options.token_budget = 256;
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finished, 200);
  for (const IterationRecord& it : r->iterations_log) EXPECT_LE(it.prefill_tokens + it.decode_requests, 256);
}

TEST(VllmScheduler, NeverMixesPrefillAndDecode) {
  std::vector<Request> rs;
  for (int i = 0; i < 50; ++i) rs.push_back(req(i, i * 0.003, 100 + i, 20));
  auto r = simulate(make(rs), config(SchedulerKind::kVllm, 2000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finished, 50);
  for (const IterationRecord& it : r->iterations_log)
    EXPECT_TRUE(it.prefill_requests == 0 || it.decode_requests == 0);
}

TEST(VllmScheduler, PreemptsTheLatestArrivalWhenBlocksRunOut) {
  // Three requests of 16 prompt tokens and 40 outputs need 4 blocks each at the end; 9 blocks hold
  // two of them, so the third (latest) is preempted and recomputed, and all finish.
  std::vector<Request> rs = {req(0, 0, 16, 40), req(1, 0, 16, 40), req(2, 0, 16, 40)};
  SimConfig c = config(SchedulerKind::kVllm, 9);
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_GE(r->preemptions, 1);
  EXPECT_EQ(r->finished, 3);
  // The oldest request is never the victim: it finishes first, with no gap longer than one step.
  Summary s = r->metrics.summary({});
  EXPECT_EQ(s.requests, 3);
}

TEST(VllmScheduler, IgnoresPromptLongerThanTheWholeCache) {
  std::vector<Request> rs = {req(0, 0, 1000, 5), req(1, 0, 16, 5)};
  auto r = simulate(make(rs), config(SchedulerKind::kVllm, 10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ignored, 1);
  EXPECT_EQ(r->finished, 1);
}

TEST(VllmScheduler, SwapModeMovesBlocksInsteadOfRecomputing) {
  std::vector<Request> rs = {req(0, 0, 16, 40), req(1, 0, 16, 40), req(2, 0, 16, 40)};
  SimConfig c = config(SchedulerKind::kVllm, 9);
  c.options.swap = true;
  c.options.swap_blocks = 100;
  c.options.block_bytes = MiB(1);
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_GE(r->swaps, 1);
  EXPECT_EQ(r->finished, 3);
}

TEST(OrcaScheduler, NeverPreemptsAndMixesPrefillsWithDecodes) {
  std::vector<Request> rs;
  for (int i = 0; i < 40; ++i) rs.push_back(req(i, i * 0.005, 64, 30));
  SimConfig c = config(SchedulerKind::kOrca, 2000);
  c.options.max_model_len = 256;
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->preemptions, 0);
  EXPECT_EQ(r->finished, 40);
  bool mixed = false;
  for (const IterationRecord& it : r->iterations_log)
    mixed = mixed || (it.prefill_requests > 0 && it.decode_requests > 0);
  EXPECT_TRUE(mixed);
}

TEST(FasterTransformerScheduler, AdmitsNothingWhileABatchIsUnfinished) {
  // Request 1 arrives while request 0 (100 outputs) runs: it starts only after 0 finishes.
  std::vector<Request> rs = {req(0, 0, 16, 100), req(1, 0.001, 16, 2)};
  auto r = simulate(make(rs), config(SchedulerKind::kFasterTransformer, 1000));
  ASSERT_TRUE(r.ok());
  for (const IterationRecord& it : r->iterations_log) {
    if (it.start < ms(1000)) {
      EXPECT_LE(it.prefill_requests + it.decode_requests, 1);
    }
  }
  EXPECT_EQ(r->iterations, 100 + 2);
}

// Tracks, for every pair of clients, the service each received while both were backlogged.
class PairService final : public SimObserver {
 public:
  explicit PairService(int clients)
      : n_(clients), backlogged_(clients, false), served_(clients, 0.0), mark_(clients * clients, 0.0) {}
  void on_service(int64_t client, double w, Time) override {
    served_[client] += w;
    update();
  }
  void on_backlog(int64_t client, bool b, Time) override {
    backlogged_[client] = b;
    // A pair's interval restarts whenever one of its clients becomes backlogged again.
    for (int o = 0; o < n_; ++o) mark_[client * n_ + o] = served_[client] - served_[o];
    for (int o = 0; o < n_; ++o) mark_[o * n_ + client] = served_[o] - served_[client];
  }
  double max_difference = 0;

 private:
  void update() {
    for (int f = 0; f < n_; ++f) {
      for (int g = 0; g < n_; ++g) {
        if (f == g || !backlogged_[f] || !backlogged_[g]) continue;
        max_difference = std::max(max_difference, std::abs(served_[f] - served_[g] - mark_[f * n_ + g]));
      }
    }
  }
  int n_;
  std::vector<bool> backlogged_;
  std::vector<double> served_;
  std::vector<double> mark_;
};

Workload overload(uint64_t seed, int clients, int64_t max_in, int64_t max_out) {
  RngStream rng(seed, "vtc");
  std::vector<Request> rs;
  double t = 0;
  for (int i = 0; i < 400; ++i) {
    t += rng.exponential(200.0);
    rs.push_back(
        req(i, t, rng.uniform_int(1, max_in), rng.uniform_int(1, max_out), rng.uniform_int(0, clients - 1)));
  }
  return make(rs, clients);
}

TEST(VirtualTokenCounter, ServiceDifferenceStaysWithinTwoU) {
  // U = max(w_in · L_in, w_out · M) with M the tokens a batch can hold (KV capacity).
  const int64_t blocks = 64, block = 16, max_in = 64, max_out = 64;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    PairService obs(3);
    SimConfig c = config(SchedulerKind::kVtc, blocks);
    c.options.block_size = block;
    c.observer = &obs;
    auto r = simulate(overload(seed, 3, max_in, max_out), c);
    ASSERT_TRUE(r.ok());
    const double u = std::max(1.0 * max_in, 2.0 * static_cast<double>(blocks * block));
    EXPECT_LE(obs.max_difference, 2 * u) << seed;
    EXPECT_GT(obs.max_difference, 0) << seed;
  }
}

// Client 0 is served alone for a long time; client 1 then arrives. Without the counter lift
// (LCF), client 1 monopolises the server until its counter catches up: while both are backlogged
// client 0 falls behind by far more than 2U. VTC's lift keeps the two even.
Workload late_comer() {
  std::vector<Request> rs;
  int64_t id = 0;
  for (int i = 0; i < 300; ++i) rs.push_back(req(id++, i * 0.01, 32, 8, 0));
  for (int i = 0; i < 300; ++i) rs.push_back(req(id++, 3.0 + i * 0.001, 32, 8, 1));
  for (int i = 0; i < 300; ++i) rs.push_back(req(id++, 3.0 + i * 0.001, 32, 8, 0));
  std::stable_sort(rs.begin(), rs.end(),
                   [](const Request& a, const Request& b) { return a.arrival < b.arrival; });
  for (size_t i = 0; i < rs.size(); ++i) rs[i].id = static_cast<int64_t>(i);
  return make(rs, 2);
}

double late_comer_difference(SchedulerKind kind) {
  PairService obs(2);
  SimConfig c = config(kind, 16);
  c.options.block_size = 16;
  c.options.max_num_seqs = 4;
  c.observer = &obs;
  auto r = simulate(late_comer(), c);
  EXPECT_TRUE(r.ok());
  return obs.max_difference;
}

TEST(LeastCounterFirst, BreaksTheTwoUBoundWhenAClientReturns) {
  const double u = std::max(1.0 * 32, 2.0 * 16 * 16);
  EXPECT_GT(late_comer_difference(SchedulerKind::kLcf), 2 * u);
  EXPECT_LE(late_comer_difference(SchedulerKind::kVtc), 2 * u);
}

TEST(RpmScheduler, AbortsRequestsOverTheLimit) {
  std::vector<Request> rs;
  for (int i = 0; i < 10; ++i) rs.push_back(req(i, i * 0.1, 16, 2, 0));
  SimConfig c = config(SchedulerKind::kRpm, 1000);
  c.options.rpm_limit = 4;
  auto r = simulate(make(rs, 1), c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->aborted, 6);
  EXPECT_EQ(r->finished, 4);
}

// ---- queueing, routing, DistServe --------------------------------------------------------------

TEST(PrefillServer, MatchesTheMD1ClosedForm) {
  // One request at a time, D = 100 ms per prefill, Poisson arrivals at R = 5/s:
  // mean TTFT = D + R D^2 / (2 (1 - R D)) = 0.15 s.
  RngStream rng(7, "md1");
  std::vector<Request> rs;
  double t = 0;
  for (int i = 0; i < 40000; ++i) {
    t += rng.exponential(5.0);
    rs.push_back(req(i, t, 100, 1));
  }
  SimConfig c = config(SchedulerKind::kVllm, 100000, 100);
  c.options.max_num_seqs = 1;
  c.record_iterations = false;
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->metrics.summary({}).ttft.mean, 0.15, 0.15 * 0.03);
}

TEST(Router, RoundRobinSpreadsRequestsEvenly) {
  std::vector<Request> rs;
  for (int i = 0; i < 30; ++i) rs.push_back(req(i, i * 0.01, 16, 4));
  SimConfig c = config(SchedulerKind::kSarathi, 1000);
  c.replicas = 3;
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->instances.size(), 3u);
  for (const InstanceStats& s : r->instances) EXPECT_EQ(s.requests, 10);
}

TEST(Router, LeastOutstandingAvoidsTheBusyReplica) {
  // A long request lands on replica 0; later short ones all go to replica 1 while it runs.
  std::vector<Request> rs = {req(0, 0, 16, 1000)};
  for (int i = 1; i < 10; ++i) rs.push_back(req(i, 0.1 * i, 16, 2));
  SimConfig c = config(SchedulerKind::kSarathi, 1000);
  c.replicas = 2;
  c.router = RouterKind::kLeastOutstanding;
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->instances[0].requests, 1);
  EXPECT_EQ(r->instances[1].requests, 9);
}

TEST(DistServe, MovesEveryKvCacheAndFinishesAll) {
  std::vector<Request> rs;
  for (int i = 0; i < 100; ++i) rs.push_back(req(i, i * 0.02, 500, 50));
  SimConfig c{.scheduler = SchedulerKind::kDistServe};
  c.distserve = {.prefill_instances = 1,
                 .decode_instances = 2,
                 .prefill_time = make_fitted_batch_time(*distserve_spec("opt-13b", 2, 1)),
                 .decode_time = make_fitted_batch_time(*distserve_spec("opt-13b", 1, 1)),
                 .prefill_blocks = 10000,
                 .decode_blocks = 10000,
                 .kv_bytes_per_token = kv_bytes(*model::resolve_model("opt-13b"), 1),
                 .kv_link = GBps(1)};
  auto r = simulate(make(rs), c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->finished, 100);
  EXPECT_EQ(r->kv_transfers, 100);
  // 500 tokens of OPT-13B KV (800 KiB per token) over 1 GB/s is ~0.41 s each.
  EXPECT_NEAR(r->kv_transfer_time / sec(100), 0.41, 0.02);
  ASSERT_EQ(r->instances.size(), 3u);
  EXPECT_EQ(r->instances[1].requests + r->instances[2].requests, 100);
}

TEST(Simulator, SameInputsGiveTheSameResult) {
  Workload w = overload(3, 2, 500, 100);
  SimConfig c = config(SchedulerKind::kSarathi, 500);
  auto a = simulate(w, c);
  auto b = simulate(w, c);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->end_time, b->end_time);
  EXPECT_EQ(a->iterations, b->iterations);
  EXPECT_EQ(a->metrics.summary({}).tbt.p99, b->metrics.summary({}).tbt.p99);
}

TEST(Simulator, RejectsZeroKvBlocks) {
  auto r = simulate(make({req(0, 0, 1, 1)}), config(SchedulerKind::kVllm, 0));
  EXPECT_FALSE(r.ok());
}

TEST(Simulator, RejectsNonPositiveTokenBudget) {
  SimConfig c = config(SchedulerKind::kSarathi, 10);
  c.options.token_budget = 0;
  auto r = simulate(make({req(0, 0, 1, 1)}), c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("token_budget"), std::string::npos);
}

}  // namespace
}  // namespace mlsys::serve
