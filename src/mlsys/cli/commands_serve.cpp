// mlsys serve sim | capacity | place: the LLM serving simulator, capacity search by bisection
// and DistServe placement search.

#include <algorithm>
#include <cmath>
#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/chrome_trace.h"
#include "mlsys/core/svg_plot.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/model/model.h"
#include "mlsys/serve/batch_time.h"
#include "mlsys/serve/capacity.h"
#include "mlsys/serve/memory_planner.h"
#include "mlsys/serve/simulator.h"
#include "mlsys/serve/workload.h"

namespace mlsys::cli {
namespace {

using serve::SchedulerKind;

std::vector<OptionSpec> deployment_options(bool with_scheduler) {
  std::vector<OptionSpec> o = {
      {.name = "model",
       .type = OptionType::kString,
       .default_value = "llama2-7b",
       .description = "zoo name (mlsys model list) or HF config.json path"},
      {.name = "gpu",
       .type = OptionType::kString,
       .default_value = "a100-80g",
       .description = "GPU name or alias (mlsys hw list)"},
      {.name = "tp",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "tensor-parallel degree per replica"},
      {.name = "pp",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "pipeline stages per replica"},
      {.name = "cost",
       .type = OptionType::kString,
       .default_value = "roofline",
       .description = "batch-time source: roofline (model/ ops on the GPU) or fitted (Sarathi Yi-34B TP2 "
                      "measurements, DistServe OPT coefficients)",
       .choices = {"roofline", "fitted"}},
      {.name = "workload",
       .type = OptionType::kString,
       .default_value = "azure-code",
       .description = "azure-code | azure-conv | FILE.csv | FILE.jsonl | "
                      "poisson:rate=R[,n=N,prompt=D,output=D] | gamma:..."},
      {.name = "max-requests",
       .type = OptionType::kInt,
       .default_value = "0",
       .description = "first N requests (0: all)"},
      {.name = "start",
       .type = OptionType::kTime,
       .default_value = "0s",
       .description = "window start on the trace's clock (from its first arrival), e.g. 10min"},
      {.name = "duration",
       .type = OptionType::kTime,
       .description = "window length, e.g. 1h (default: to the end of the trace)"},
      {.name = "rate-scale",
       .type = OptionType::kReal,
       .default_value = "1",
       .description = "compress trace arrivals by this factor"},
      {.name = "clients",
       .type = OptionType::kString,
       .default_value = "none",
       .description = "client ids when the trace has none: none | round-robin:N | uniform:N | zipf:N,s=S"},
      {.name = "skip-bad-rows",
       .type = OptionType::kFlag,
       .default_value = "false",
       .description = "skip malformed trace rows (counted)"},
      {.name = "token-budget",
       .type = OptionType::kInt,
       .default_value = "512",
       .description = "Sarathi chunk size (tokens per iteration)"},
      {.name = "max-num-seqs",
       .type = OptionType::kInt,
       .default_value = "128",
       .description = "running requests per replica"},
      {.name = "max-batched-tokens",
       .type = OptionType::kInt,
       .default_value = "4096",
       .description = "vLLM prefill batch limit (tokens)"},
      {.name = "max-tokens",
       .type = OptionType::kInt,
       .default_value = "4096",
       .description =
           "longest request (max_model_len): longer prompts are ignored; the memory plan sizes for it"},
      {.name = "block-size",
       .type = OptionType::kInt,
       .default_value = "16",
       .description = "paged-KV block size (tokens)"},
      {.name = "memory-plan",
       .type = OptionType::kString,
       .default_value = "vidur",
       .description =
           "KV capacity rule: vidur (10% margin, weights only) or vllm (0.9 utilisation, activation peak)",
       .choices = {"vidur", "vllm"}},
      {.name = "swap",
       .type = OptionType::kBytes,
       .default_value = "0B",
       .description = "CPU swap space per replica (vLLM swap preemption); 0: recompute"},
      {.name = "replicas",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "replicas behind the router"},
      {.name = "router",
       .type = OptionType::kString,
       .default_value = "rr",
       .description = "global router",
       .choices = {"rr", "least"}},
      {.name = "rpm-limit",
       .type = OptionType::kInt,
       .default_value = "30",
       .description = "rpm scheduler: requests per client per minute"},
      {.name = "prefill-tp",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "distserve: prefill instance TP"},
      {.name = "prefill-pp",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "distserve: prefill instance PP"},
      {.name = "decode-tp",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "distserve: decode instance TP"},
      {.name = "decode-pp",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "distserve: decode instance PP"},
      {.name = "prefill-instances",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "distserve: prefill instances"},
      {.name = "decode-instances",
       .type = OptionType::kInt,
       .default_value = "1",
       .description = "distserve: decode instances"},
      {.name = "kv-link",
       .type = OptionType::kBandwidth,
       .default_value = "300GBps",
       .description =
           "distserve: KV-cache transfer bandwidth (NVLink in a node; 25Gbps across nodes in the paper)"},
      {.name = "slo-ttft",
       .type = OptionType::kTime,
       .description = "TTFT SLO, e.g. 2s (attainment, goodput)"},
      {.name = "slo-tpot", .type = OptionType::kTime, .description = "TPOT SLO, e.g. 100ms"},
      {.name = "slo-tbt",
       .type = OptionType::kTime,
       .description = "P99 time-between-tokens SLO, e.g. 200ms"},
  };
  if (with_scheduler) {
    o.insert(o.begin() + 4,
             {.name = "scheduler",
              .type = OptionType::kString,
              .default_value = "sarathi",
              .description = "replica scheduler",
              .choices = {"fcfs", "orca", "vllm", "sarathi", "vtc", "lcf", "rpm", "distserve"}});
  }
  return o;
}

Result<int64_t> positive(const OptionValues& o, const char* name) {
  const int64_t v = o.integer(name);
  if (v < 1)
    return invalid_input("--" + std::string(name) + " must be >= 1 (got " + std::to_string(v) + ")", {},
                         {"--" + std::string(name)});
  return v;
}

struct Deployment {
  model::ModelSpec spec;
  hw::GpuSpec gpu;
  std::string cost;
  serve::KvPlanOptions plan_options;
};

Result<Deployment> read_deployment(const OptionValues& o) {
  Deployment d;
  auto spec = model::resolve_model(o.text("model"));
  if (!spec) return spec.error().at({"--model"});
  d.spec = *spec;
  auto gpu = hw::find_gpu(o.text("gpu"));
  if (!gpu) return gpu.error().at({"--gpu"});
  d.gpu = *gpu;
  d.cost = o.text("cost");
  MLSYS_ASSIGN_OR_RETURN(int64_t block, positive(o, "block-size"));
  MLSYS_ASSIGN_OR_RETURN(int64_t max_tokens, positive(o, "max-tokens"));
  d.plan_options = {
      .block_size = block,
      .max_tokens = max_tokens,
      .mode = o.text("memory-plan") == "vllm" ? serve::MemoryPlanMode::kVllm : serve::MemoryPlanMode::kVidur,
      .max_batched_tokens = o.integer("max-batched-tokens")};
  return d;
}

// Time model and KV blocks of one instance at (tp, pp).
Result<serve::InstanceModel> instance(const Deployment& d, int64_t tp, int64_t pp, const std::string& role) {
  serve::KvPlanOptions p = d.plan_options;
  p.tp = tp;
  p.pp = pp;
  auto plan = serve::plan_kv_cache(d.spec, d.gpu.hbm_capacity, p);
  if (!plan) return plan.error().context(role);
  serve::InstanceModel m{.blocks = plan->num_blocks};
  if (d.cost == "fitted") {
    if (d.spec.name == "yi-34b" && tp == 2 && pp == 1) {
      m.time = serve::make_fitted_batch_time(serve::sarathi_yi34b_tp2_spec());
      return m;
    }
    auto fit = serve::distserve_spec(d.spec.name, tp, pp);
    if (!fit) {
      return invalid_input(
          "no fitted batch-time data for " + d.spec.name + " at TP" + std::to_string(tp),
          "fitted data: yi-34b tp2 (Sarathi-Serve), " + fit.error().hint() + "; or use --cost roofline",
          {"--cost"});
    }
    m.time = serve::make_fitted_batch_time(*fit);
    return m;
  }
  auto t = serve::make_roofline_batch_time(d.spec, d.gpu, {.tp = tp, .pp = pp});
  if (!t) return t.error();
  m.time = std::shared_ptr<const serve::BatchTimeModel>(std::move(*t));
  return m;
}

serve::WorkloadOptions workload_options(const Context& ctx) {
  return {.max_requests = ctx.options.integer("max-requests"),
          .start = ctx.options.time("start"),
          .duration = ctx.options.has("duration") ? ctx.options.time("duration") : Time::max(),
          .rate_scale = ctx.options.real("rate-scale"),
          .skip_bad_rows = ctx.options.flag("skip-bad-rows"),
          .seed = ctx.global.seed,
          .clients = ctx.options.text("clients")};
}

Result<serve::Workload> load(const Context& ctx, const std::string& spec, serve::WorkloadOptions wo) {
  auto w = serve::load_workload(spec, wo);
  if (!w) return w.error().at({"--workload"});
  if (w->requests.empty())
    return invalid_input("workload '" + spec + "' has no requests", {}, {"--workload"});
  (void)ctx;
  return std::move(*w);
}

serve::Slo read_slo(const OptionValues& o) {
  serve::Slo slo;
  if (o.has("slo-ttft")) slo.ttft = o.time("slo-ttft");
  if (o.has("slo-tpot")) slo.tpot = o.time("slo-tpot");
  if (o.has("slo-tbt")) slo.tbt_p99 = o.time("slo-tbt");
  return slo;
}

Result<serve::SimConfig> read_config(const Context& ctx, const Deployment& d, SchedulerKind kind,
                                     std::string& describe) {
  const OptionValues& o = ctx.options;
  serve::SimConfig c{.scheduler = kind};
  MLSYS_ASSIGN_OR_RETURN(c.options.token_budget, positive(o, "token-budget"));
  MLSYS_ASSIGN_OR_RETURN(c.options.max_num_seqs, positive(o, "max-num-seqs"));
  MLSYS_ASSIGN_OR_RETURN(c.options.max_batched_tokens, positive(o, "max-batched-tokens"));
  MLSYS_ASSIGN_OR_RETURN(c.options.rpm_limit, positive(o, "rpm-limit"));
  MLSYS_ASSIGN_OR_RETURN(c.replicas, positive(o, "replicas"));
  c.options.block_size = d.plan_options.block_size;
  c.options.max_model_len = d.plan_options.max_tokens;
  MLSYS_ASSIGN_OR_RETURN(c.router, serve::parse_router(o.text("router")));
  if (kind == SchedulerKind::kDistServe) {
    MLSYS_ASSIGN_OR_RETURN(int64_t ptp, positive(o, "prefill-tp"));
    MLSYS_ASSIGN_OR_RETURN(int64_t ppp, positive(o, "prefill-pp"));
    MLSYS_ASSIGN_OR_RETURN(int64_t dtp, positive(o, "decode-tp"));
    MLSYS_ASSIGN_OR_RETURN(int64_t dpp, positive(o, "decode-pp"));
    MLSYS_ASSIGN_OR_RETURN(serve::InstanceModel pre, instance(d, ptp, ppp, "prefill instance"));
    MLSYS_ASSIGN_OR_RETURN(serve::InstanceModel dec, instance(d, dtp, dpp, "decode instance"));
    MLSYS_ASSIGN_OR_RETURN(c.distserve.prefill_instances, positive(o, "prefill-instances"));
    MLSYS_ASSIGN_OR_RETURN(c.distserve.decode_instances, positive(o, "decode-instances"));
    c.distserve.prefill_time = pre.time;
    c.distserve.decode_time = dec.time;
    c.distserve.prefill_blocks = pre.blocks;
    c.distserve.decode_blocks = dec.blocks;
    c.distserve.kv_bytes_per_token = serve::kv_bytes(d.spec, 1);
    c.distserve.kv_link = o.bandwidth("kv-link");
    describe = "prefill " + pre.time->describe() + " x" + std::to_string(c.distserve.prefill_instances) +
               " (" + std::to_string(pre.blocks) + " blocks), decode " + dec.time->describe() + " x" +
               std::to_string(c.distserve.decode_instances) + " (" + std::to_string(dec.blocks) + " blocks)";
    return c;
  }
  MLSYS_ASSIGN_OR_RETURN(int64_t tp, positive(o, "tp"));
  MLSYS_ASSIGN_OR_RETURN(int64_t pp, positive(o, "pp"));
  MLSYS_ASSIGN_OR_RETURN(serve::InstanceModel m, instance(d, tp, pp, "replica"));
  c.time = m.time;
  c.num_blocks = m.blocks;
  const Bytes swap = o.bytes("swap");
  if (swap.count() > 0) {
    serve::KvPlanOptions p = d.plan_options;
    p.tp = tp;
    p.pp = pp;
    MLSYS_ASSIGN_OR_RETURN(serve::KvPlan plan, serve::plan_kv_cache(d.spec, d.gpu.hbm_capacity, p));
    c.options.swap = true;
    c.options.block_bytes = plan.block_bytes;
    c.options.swap_blocks = swap.count() / plan.block_bytes.count();
  }
  describe = m.time->describe() + ", " + std::to_string(m.blocks) + " KV blocks of " +
             std::to_string(d.plan_options.block_size) + " tokens";
  return c;
}

void write_summary_json(JsonWriter& w, const serve::SimResult& r, const serve::Summary& s) {
  w.field("requests", r.requests)
      .field("finished", r.finished)
      .field("ignored", r.ignored)
      .field("aborted", r.aborted);
  w.field("ttft_p50_s", s.ttft.p50)
      .field("ttft_p90_s", s.ttft.p90)
      .field("ttft_p99_s", s.ttft.p99)
      .field("ttft_mean_s", s.ttft.mean);
  w.field("tbt_p50_s", s.tbt.p50).field("tbt_p99_s", s.tbt.p99);
  w.field("tpot_p50_s", s.tpot.p50).field("tpot_p99_s", s.tpot.p99);
  w.field("e2e_p50_s", s.e2e.p50).field("e2e_p99_s", s.e2e.p99);
  w.field("normalized_e2e_p50_s", s.normalized_e2e.p50);
  w.field("scheduling_delay_p50_s", s.scheduling_delay.p50)
      .field("scheduling_delay_p99_s", s.scheduling_delay.p99);
  w.field("throughput_rps", s.throughput_rps).field("output_tokens_per_s", s.output_tokens_per_s);
  w.field("slo_attainment", s.slo_attainment).field("goodput_rps", s.goodput_rps);
  w.field("max_service_difference", s.max_service_difference);
  w.field("preemptions", r.preemptions).field("swaps", r.swaps).field("iterations", r.iterations);
  w.field("kv_transfers", r.kv_transfers).field("duration_s", s.duration_s);
  w.field("events", static_cast<int64_t>(r.events));
}

Status run_serve_sim(Context& ctx) {
  const OptionValues& o = ctx.options;
  MLSYS_ASSIGN_OR_RETURN(SchedulerKind kind, serve::parse_scheduler(o.text("scheduler")));
  MLSYS_ASSIGN_OR_RETURN(Deployment d, read_deployment(o));
  std::string describe;
  MLSYS_ASSIGN_OR_RETURN(serve::SimConfig c, read_config(ctx, d, kind, describe));
  MLSYS_ASSIGN_OR_RETURN(serve::Workload w, load(ctx, o.text("workload"), workload_options(ctx)));
  c.record_iterations = !ctx.global.trace.empty() || !ctx.global.plot.empty();
  const serve::Slo slo = read_slo(o);
  MLSYS_ASSIGN_OR_RETURN(serve::SimResult r, serve::simulate(w, c));
  const serve::Summary s = r.metrics.summary(slo);

  if (!ctx.global.trace.empty()) {
    ChromeTrace trace;
    for (size_t i = 0; i < r.instances.size(); ++i)
      trace.set_thread_name(0, static_cast<int>(i), r.instances[i].name);
    for (const serve::IterationRecord& it : r.iterations_log) {
      const std::string name = it.prefill_requests > 0 && it.decode_requests > 0 ? "hybrid"
                               : it.prefill_requests > 0                         ? "prefill"
                                                                                 : "decode";
      Value args = Value::object();
      args.set("prefill_tokens", Value::integer(it.prefill_tokens));
      args.set("decode_requests", Value::integer(it.decode_requests));
      trace.add_complete(0, it.instance, name, "iteration", it.start, it.end - it.start, std::move(args));
    }
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.trace, trace.to_string(), "trace"));
  }
  if (!ctx.global.plot.empty()) {
    LinePlot plot("tokens per iteration, " + std::string(serve::to_string(kind)) + " on " + w.name,
                  {.label = "time (s)"}, {.label = "tokens in the iteration"});
    std::vector<double> x, y;
    for (const serve::IterationRecord& it : r.iterations_log) {
      if (it.instance != 0 || x.size() >= 20000) continue;
      x.push_back(it.start.seconds());
      y.push_back(it.prefill_tokens + it.decode_requests);
    }
    plot.add_series(r.instances.empty() ? "replica 0" : r.instances[0].name, std::move(x), std::move(y));
    MLSYS_ASSIGN_OR_RETURN(std::string svg, plot.render());
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.plot, svg, "plot"));
  }

  if (ctx.global.json) {
    JsonWriter jw(ctx.out);
    begin_json_result(jw, ctx);
    jw.field("model", d.spec.name)
        .field("gpu", d.gpu.name)
        .field("scheduler", std::string(serve::to_string(kind)));
    jw.field("deployment", describe).field("workload", w.name);
    write_summary_json(jw, r, s);
    jw.end_object();
    ctx.out << "\n";
    return {};
  }
  TableWriter t({"quantity", "value"});
  t.set_title("serve sim: " + d.spec.name + " on " + d.gpu.name + ", " + std::string(serve::to_string(kind)) +
              ", " + w.name);
  t.add_row({"deployment", describe});
  t.add_row(
      {"requests (finished / offered)", std::to_string(r.finished) + " / " + std::to_string(r.requests)});
  if (r.ignored > 0)
    t.add_row({"ignored (longer than --max-tokens or the cache)", std::to_string(r.ignored)});
  if (r.aborted > 0) t.add_row({"aborted by the RPM limit", std::to_string(r.aborted)});
  t.add_row(
      {"TTFT p50 / p90 / p99", fmt(s.ttft.p50) + " / " + fmt(s.ttft.p90) + " / " + fmt(s.ttft.p99) + " s"});
  t.add_row({"TBT p50 / p99", fmt(s.tbt.p50 * 1e3) + " / " + fmt(s.tbt.p99 * 1e3) + " ms"});
  t.add_row({"TPOT p50 / p99", fmt(s.tpot.p50 * 1e3) + " / " + fmt(s.tpot.p99 * 1e3) + " ms"});
  t.add_row({"end-to-end p50 / p99", fmt(s.e2e.p50) + " / " + fmt(s.e2e.p99) + " s"});
  t.add_row({"scheduling delay p50 / p99",
             fmt(s.scheduling_delay.p50) + " / " + fmt(s.scheduling_delay.p99) + " s"});
  t.add_row(
      {"throughput", fmt(s.throughput_rps) + " req/s, " + fmt(s.output_tokens_per_s) + " output tokens/s"});
  if (slo.ttft || slo.tpot || slo.tbt_p99) {
    t.add_row(
        {"SLO attainment / goodput", fmt(s.slo_attainment * 100) + "% / " + fmt(s.goodput_rps) + " req/s"});
  }
  if (w.clients > 1) t.add_row({"max service difference (weighted tokens)", fmt(s.max_service_difference)});
  t.add_row({"preemptions", std::to_string(r.preemptions) +
                                (r.swaps > 0 ? " (" + std::to_string(r.swaps) + " swaps)" : "")});
  if (kind == SchedulerKind::kDistServe) {
    t.add_row(
        {"KV transfers (mean time)",
         std::to_string(r.kv_transfers) + " (" +
             format_time(r.kv_transfer_time / static_cast<double>(std::max<int64_t>(1, r.kv_transfers))) +
             ")"});
  }
  t.add_row({"iterations", std::to_string(r.iterations)});
  t.add_row({"simulated / wall time", fmt(r.end_time.seconds()) + " s / " + fmt(r.wall_seconds) + " s (" +
                                          std::to_string(r.events) + " events)"});
  ctx.out << t.render();
  return {};
}

// The workload at a total rate: generators get rate=R, traces are compressed.
serve::WorkloadAtRate workload_at_rate(const Context& ctx, const std::string& spec, double& natural_rate,
                                       Status& status) {
  serve::WorkloadOptions wo = workload_options(ctx);
  const bool generator = spec.rfind("poisson:", 0) == 0 || spec.rfind("gamma:", 0) == 0;
  if (!generator) {
    auto w = serve::load_workload(spec, wo);
    if (!w) {
      status = w.error().at({"--workload"});
    } else if (w->requests.size() < 2) {
      status = invalid_input("workload '" + spec + "' needs at least 2 requests", {}, {"--workload"});
    } else {
      const double span = (w->requests.back().arrival - w->requests.front().arrival).seconds();
      natural_rate = span > 0 ? static_cast<double>(w->requests.size() - 1) / span : 1.0;
    }
  }
  return [spec, wo, generator, &natural_rate](double rate) -> Result<serve::Workload> {
    serve::WorkloadOptions o = wo;
    std::string s = spec;
    if (generator) {
      const size_t at = s.find("rate=");
      if (at == std::string::npos) {
        s.insert(s.find(':') + 1, "rate=" + std::to_string(rate) + ",");
      } else {
        size_t end = s.find(',', at);
        if (end == std::string::npos) end = s.size();
        s.replace(at, end - at, "rate=" + std::to_string(rate));
      }
    } else {
      o.rate_scale = wo.rate_scale * rate / natural_rate;
    }
    auto w = serve::load_workload(s, o);
    if (!w) return w.error().at({"--workload"});
    return std::move(*w);
  };
}

Result<serve::CapacityOptions> capacity_options(const OptionValues& o) {
  serve::CapacityOptions c{.slo = read_slo(o),
                           .start_rate = o.real("start-rate"),
                           .max_rate = o.real("max-rate"),
                           .tolerance = o.real("tolerance")};
  c.attainment = o.real("attainment");
  c.criterion = o.text("criterion") == "distserve" ? serve::CapacityCriterion::kDistServe
                                                   : serve::CapacityCriterion::kSarathi;
  if (c.criterion == serve::CapacityCriterion::kSarathi && !c.slo.tbt_p99) {
    return invalid_input("the sarathi criterion needs --slo-tbt", "e.g. --slo-tbt 100ms", {"--slo-tbt"});
  }
  if (c.criterion == serve::CapacityCriterion::kDistServe && (!c.slo.ttft || !c.slo.tpot)) {
    return invalid_input("the distserve criterion needs --slo-ttft and --slo-tpot",
                         "e.g. --slo-ttft 250ms --slo-tpot 100ms",
                         {c.slo.ttft ? "--slo-tpot" : "--slo-ttft"});
  }
  if (!(c.attainment > 0 && c.attainment <= 1))
    return invalid_input("--attainment must be in (0, 1]", {}, {"--attainment"});
  if (!(c.tolerance > 0 && c.tolerance < 1))
    return invalid_input("--tolerance must be in (0, 1)", {}, {"--tolerance"});
  return c;
}

std::vector<OptionSpec> search_options() {
  return {
      {.name = "criterion",
       .type = OptionType::kString,
       .default_value = "sarathi",
       .description =
           "sarathi: P99 TBT <= --slo-tbt and median scheduling delay <= 2 s; distserve: >= --attainment "
           "of requests within --slo-ttft and within --slo-tpot",
       .choices = {"sarathi", "distserve"}},
      {.name = "attainment",
       .type = OptionType::kReal,
       .default_value = "0.9",
       .description = "distserve: fraction that must meet each SLO"},
      {.name = "start-rate",
       .type = OptionType::kReal,
       .default_value = "1",
       .description = "first rate tried (req/s)"},
      {.name = "max-rate",
       .type = OptionType::kReal,
       .default_value = "10000",
       .description = "highest rate tried (req/s)"},
      {.name = "tolerance",
       .type = OptionType::kReal,
       .default_value = "0.025",
       .description = "stop when (hi - lo) / hi is below this"},
  };
}

Status run_serve_capacity(Context& ctx) {
  const OptionValues& o = ctx.options;
  MLSYS_ASSIGN_OR_RETURN(SchedulerKind kind, serve::parse_scheduler(o.text("scheduler")));
  MLSYS_ASSIGN_OR_RETURN(Deployment d, read_deployment(o));
  std::string describe;
  MLSYS_ASSIGN_OR_RETURN(serve::SimConfig c, read_config(ctx, d, kind, describe));
  MLSYS_ASSIGN_OR_RETURN(serve::CapacityOptions co, capacity_options(o));
  double natural = 1;
  Status status;
  serve::WorkloadAtRate at = workload_at_rate(ctx, o.text("workload"), natural, status);
  MLSYS_RETURN_IF_ERROR(status);
  MLSYS_ASSIGN_OR_RETURN(serve::CapacityResult r, serve::find_capacity(at, c, co));
  if (!ctx.global.plot.empty()) {
    LinePlot plot(
        "capacity search trials", {.label = "rate (req/s)"},
        {.label = co.criterion == serve::CapacityCriterion::kSarathi ? "P99 TBT (s)" : "TTFT attainment"});
    std::vector<double> x, y;
    for (const serve::CapacityTrial& t : r.trials) {
      x.push_back(t.rate);
      y.push_back(co.criterion == serve::CapacityCriterion::kSarathi ? t.tbt_p99_s : t.ttft_attainment);
    }
    plot.add_series("trials", std::move(x), std::move(y));
    MLSYS_ASSIGN_OR_RETURN(std::string svg, plot.render());
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.plot, svg, "plot"));
  }
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("model", d.spec.name)
        .field("scheduler", std::string(serve::to_string(kind)))
        .field("deployment", describe);
    w.field("capacity_rps", r.capacity_rps);
    w.key("trials").begin_array();
    for (const serve::CapacityTrial& t : r.trials) {
      w.begin_object().field("rate", t.rate).field("ok", t.ok).field("tbt_p99_s", t.tbt_p99_s);
      w.field("scheduling_delay_p50_s", t.scheduling_delay_p50_s).field("ttft_attainment", t.ttft_attainment);
      w.field("tpot_attainment", t.tpot_attainment).end_object();
    }
    w.end_array();
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  TableWriter t({"rate (req/s)", "meets SLO", "P99 TBT (ms)", "median sched. delay (s)", "TTFT attain.",
                 "TPOT attain."});
  t.set_title("serve capacity: " + d.spec.name + ", " + std::string(serve::to_string(kind)) + " (" +
              describe + ")");
  for (const serve::CapacityTrial& tr : r.trials) {
    t.add_row({fmt(tr.rate), tr.ok ? "yes" : "no", fmt(tr.tbt_p99_s * 1e3), fmt(tr.scheduling_delay_p50_s),
               fmt(tr.ttft_attainment), fmt(tr.tpot_attainment)});
  }
  ctx.out << t.render() << "capacity: " << fmt(r.capacity_rps) << " req/s\n";
  return {};
}

Status run_serve_place(Context& ctx) {
  const OptionValues& o = ctx.options;
  MLSYS_ASSIGN_OR_RETURN(Deployment d, read_deployment(o));
  MLSYS_ASSIGN_OR_RETURN(serve::CapacityOptions co, capacity_options(o));
  MLSYS_ASSIGN_OR_RETURN(int64_t gpus, positive(o, "gpus"));
  double natural = 1;
  Status status;
  serve::WorkloadAtRate at = workload_at_rate(ctx, o.text("workload"), natural, status);
  MLSYS_RETURN_IF_ERROR(status);
  serve::PlacementOptions po{.gpus = gpus, .capacity = co};
  po.scheduler.max_num_seqs = o.integer("max-num-seqs");
  po.scheduler.max_batched_tokens = o.integer("max-batched-tokens");
  po.scheduler.block_size = d.plan_options.block_size;
  po.scheduler.max_model_len = d.plan_options.max_tokens;
  po.base.kv_bytes_per_token = serve::kv_bytes(d.spec, 1);
  po.base.kv_link = o.bandwidth("kv-link");
  auto factory = [&d](int64_t tp, int64_t pp) { return instance(d, tp, pp, "instance"); };
  MLSYS_ASSIGN_OR_RETURN(serve::PlacementResult r, serve::search_placement(at, factory, po));
  const auto& best = r.candidates.front();
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("model", d.spec.name).field("gpus", gpus);
    w.key("best").begin_object().field("prefill_tp", best.prefill_tp).field("prefill_pp", best.prefill_pp);
    w.field("decode_tp", best.decode_tp).field("decode_pp", best.decode_pp).field("gpus", best.gpus);
    w.field("pair_rps", best.pair_rps).field("goodput_per_gpu", best.goodput_per_gpu).end_object();
    w.key("candidates").begin_array();
    for (const auto& c : r.candidates) {
      w.begin_object()
          .field("prefill_tp", c.prefill_tp)
          .field("prefill_pp", c.prefill_pp)
          .field("decode_tp", c.decode_tp);
      w.field("decode_pp", c.decode_pp)
          .field("gpus", c.gpus)
          .field("goodput_per_gpu", c.goodput_per_gpu)
          .end_object();
    }
    w.end_array();
    w.field("skipped", r.skipped);
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  TableWriter t(
      {"prefill TP", "prefill PP", "decode TP", "decode PP", "GPUs", "pair goodput (req/s)", "per GPU"});
  t.set_title("serve place: DistServe placements for " + d.spec.name + " on " + std::to_string(gpus) + " x " +
              d.gpu.name);
  const size_t shown = std::min<size_t>(r.candidates.size(), 10);
  for (size_t i = 0; i < shown; ++i) {
    const auto& c = r.candidates[i];
    t.add_row({std::to_string(c.prefill_tp), std::to_string(c.prefill_pp), std::to_string(c.decode_tp),
               std::to_string(c.decode_pp), std::to_string(c.gpus), fmt(c.pair_rps), fmt(c.goodput_per_gpu)});
  }
  ctx.out << t.render() << "best: prefill TP" << best.prefill_tp << " PP" << best.prefill_pp << ", decode TP"
          << best.decode_tp << " PP" << best.decode_pp << ": " << fmt(best.goodput_per_gpu)
          << " req/s per GPU (" << r.candidates.size() << " placements simulated, " << r.skipped
          << " unavailable)\n";
  return {};
}

}  // namespace

std::vector<Command> serve_commands() {
  std::vector<OptionSpec> capacity = deployment_options(true);
  for (OptionSpec& s : search_options()) capacity.push_back(std::move(s));
  std::vector<OptionSpec> place = deployment_options(false);
  for (OptionSpec& s : search_options()) place.push_back(std::move(s));
  place.push_back({.name = "gpus",
                   .type = OptionType::kInt,
                   .default_value = "8",
                   .description = "GPUs one prefill + one decode instance may use (one node)"});
  for (OptionSpec& s : place) {
    if (s.name == "criterion") s.default_value = "distserve";
    if (s.name == "cost") s.default_value = "fitted";
    if (s.name == "model") s.default_value = "opt-13b";
    if (s.name == "max-tokens") s.default_value = "2048";
  }
  return {
      {.group = "serve",
       .name = "sim",
       .summary = "simulate LLM serving: replicas, KV cache, a scheduler, a trace; latency percentiles",
       .description =
           "Replays a workload through replicas doing iteration-level batching (Vidur's design): batch time "
           "from\n"
           "the roofline over the model's operators (--cost roofline) or published measurements (--cost "
           "fitted),\n"
           "KV blocks from Vidur's memory planner, and a scheduler: fcfs (FasterTransformer, "
           "request-level),\n"
           "orca, vllm (prefill-first, recompute preemption), sarathi (chunked prefill, stall-free, "
           "--token-budget),\n"
           "vtc / lcf / rpm (fairness queues on vLLM batching) or distserve (prefill and decode instances "
           "with\n"
           "their own TP/PP and a KV transfer over --kv-link). --trace writes a Chrome trace of every "
           "iteration.\n"
           "The workload option is --workload (--trace is the global timeline output).\n"
           "Examples:\n"
           "  mlsys serve sim --model llama2-7b --workload azure-code --scheduler sarathi --replicas 2\n"
           "  mlsys serve sim --model opt-13b --cost fitted --scheduler distserve --prefill-tp 2 \\\n"
           "      --workload poisson:rate=4,n=500 --slo-ttft 250ms --slo-tpot 100ms --json",
       .options = deployment_options(true),
       .run = run_serve_sim},
      {.group = "serve",
       .name = "capacity",
       .summary = "highest request rate meeting an SLO, by bisection over simulations",
       .description =
           "Doubles the rate from --start-rate until the SLO fails, then bisects to --tolerance. Generators "
           "get\n"
           "rate=R; traces are compressed in time. Criteria: sarathi (Sarathi-Serve: P99 TBT <= --slo-tbt "
           "and\n"
           "median scheduling delay <= 2 s) or distserve (>= --attainment of requests within --slo-ttft and\n"
           "within --slo-tpot).\n"
           "Example: mlsys serve capacity --model mistral-7b --scheduler sarathi --slo-tbt 100ms \\\n"
           "           --workload poisson:n=512,prompt=lognormal:mean=1024,output=lognormal:mean=256",
       .options = capacity,
       .run = run_serve_capacity},
      {.group = "serve",
       .name = "place",
       .summary = "search DistServe placements (prefill/decode TP and PP) for the best goodput per GPU",
       .description =
           "DistServe's high node-affinity search on one node: every (prefill TP, PP, decode TP, PP) that "
           "fits\n"
           "--gpus and memory is simulated as one prefill + one decode instance and its goodput (>= "
           "--attainment\n"
           "within --slo-ttft and --slo-tpot) found by bisection; printed best first, per GPU.\n"
           "Example: mlsys serve place --model opt-13b --cost fitted --gpus 4 --slo-ttft 250ms --slo-tpot "
           "100ms \\\n"
           "           --workload poisson:n=300,prompt=lognormal:mean=700,output=lognormal:mean=200",
       .options = place,
       .run = run_serve_place},
  };
}

}  // namespace mlsys::cli
