// mlsys train sim | plan: the iteration simulator and the parallel-plan search.

#include <algorithm>
#include <filesystem>
#include <functional>
#include <ostream>
#include <utility>
#include <string>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/chrome_trace.h"
#include "mlsys/core/file_io.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/model/model.h"
#include "mlsys/train/aceso.h"
#include "mlsys/train/adapipe.h"
#include "mlsys/train/grid.h"
#include "mlsys/train/simulate.h"

namespace mlsys::cli {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

Result<model::FlopConvention> flop_convention(const Context& ctx) {
  const std::string& f = ctx.options.text("flops");
  return f == "megatron" ? model::FlopConvention::kMegatron : model::FlopConvention::kSc21;
}

void write_memory(JsonWriter& w, const train::Memory& m) {
  w.begin_object()
      .field("weights", m.weights)
      .field("gradients", m.gradients)
      .field("optimizer", m.optimizer)
      .field("activations", m.activations)
      .field("buffers", m.buffers)
      .field("total", m.total())
      .end_object();
}

std::string gib(double bytes) { return fmt(bytes / kGiB) + " GiB"; }

Status run_train_sim(Context& ctx) {
  MLSYS_ASSIGN_OR_RETURN(const model::ModelSpec model, model::resolve_model(ctx.options.text("model")));
  auto gpu = hw::find_gpu(ctx.options.text("gpu"));
  if (!gpu) return gpu.error().at({"--gpu"});
  MLSYS_ASSIGN_OR_RETURN(const train::Cluster cluster, train::make_cluster(*gpu, ctx.options.integer("gpus")));
  train::Plan plan;
  plan.tp = ctx.options.integer("tp");
  plan.pp = ctx.options.integer("pp");
  plan.dp = ctx.options.integer("dp");
  plan.ep = ctx.options.integer("ep");
  plan.micro_batch = ctx.options.integer("mbs");
  plan.global_batch = ctx.options.integer("gbs");
  plan.seq = ctx.options.integer("seq");
  auto sched = train::parse_schedule(ctx.options.text("schedule"));
  if (!sched) return sched.error().at({"--schedule"});
  plan.schedule = sched->first;
  plan.virtual_stages = sched->second;
  auto rc = train::parse_recompute(ctx.options.text("recompute"));
  if (!rc) return rc.error().at({"--recompute"});
  plan.recompute = *rc;
  plan.zero_stage = static_cast<int>(ctx.options.integer("zero"));
  plan.sequence_parallel = !ctx.options.flag("no-sp");
  plan.sliding_window = ctx.options.integer("window");
  if (ctx.options.flag("megascale")) train::apply_megascale(plan);
  auto precision = hw::parse_precision(ctx.options.text("precision"));
  if (!precision) return precision.error().at({"--precision"});
  plan.precision = *precision;
  MLSYS_ASSIGN_OR_RETURN(const model::FlopConvention convention, flop_convention(ctx));

  ChromeTrace trace;
  const bool want_trace = !ctx.global.trace.empty();
  MLSYS_ASSIGN_OR_RETURN(const train::Prediction p,
                         train::simulate_iteration(model, cluster, plan,
                                                   {.convention = convention, .trace = want_trace ? &trace : nullptr}));
  if (want_trace) MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.trace, trace.to_string(), "trace"));
  const train::Breakdown& b = p.breakdown;
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("model", model.name).field("gpu", cluster.gpu.name).field("gpus", cluster.gpus);
    w.field("iteration_time_s", p.iteration_time.seconds());
    w.field("tokens_per_s", p.tokens_per_s);
    w.field("tflops_per_gpu", p.tflops_per_gpu);
    w.field("mfu", p.mfu).field("hfu", p.hfu);
    w.field("memory_per_gpu_bytes", p.memory.total());
    w.field("fits", p.fits);
    w.key("memory");
    write_memory(w, p.memory);
    w.key("memory_per_stage").begin_array();
    for (const train::Memory& m : p.memory_per_stage) write_memory(w, m);
    w.end_array();
    w.key("breakdown_s").begin_object()
        .field("compute", b.compute.seconds())
        .field("recompute", b.recompute.seconds())
        .field("bubble", b.bubble.seconds())
        .field("tp_exposed", b.tp_exposed.seconds())
        .field("pp_exposed", b.pp_exposed.seconds())
        .field("dp_exposed", b.dp_exposed.seconds())
        .field("ep_exposed", b.ep_exposed.seconds())
        .field("optimizer", b.optimizer.seconds())
        .end_object();
    w.field("megatron_flags", train::megatron_flags(model, plan));
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  TableWriter t({"quantity", "value"});
  t.set_title(model.display_name + " on " + std::to_string(cluster.gpus) + " x " + cluster.gpu.name + " (tp " +
              std::to_string(plan.tp) + ", pp " + std::to_string(plan.pp) + ", dp " + std::to_string(plan.dp) + ", " +
              ctx.options.text("schedule") + ", recompute " + std::string(train::to_string(plan.recompute)) + ")");
  t.add_row({"iteration time", format_time(p.iteration_time)});
  t.add_row({"tokens/s", fmt(p.tokens_per_s)});
  t.add_row({"TFLOP/s per GPU", fmt(p.tflops_per_gpu)});
  t.add_row({"MFU / HFU", fmt(100 * p.mfu, 3) + "% / " + fmt(100 * p.hfu, 3) + "%"});
  t.add_separator();
  t.add_row({"compute", format_time(b.compute)});
  t.add_row({"recompute", format_time(b.recompute)});
  t.add_row({"pipeline bubble", format_time(b.bubble)});
  t.add_row({"exposed TP / PP / DP / EP comm", format_time(b.tp_exposed) + " / " + format_time(b.pp_exposed) + " / " +
                                                   format_time(b.dp_exposed) + " / " + format_time(b.ep_exposed)});
  t.add_row({"optimizer step", format_time(b.optimizer)});
  t.add_separator();
  t.add_row({"memory per GPU (fullest stage)", gib(p.memory.total()) + (p.fits ? "" : "  DOES NOT FIT")});
  t.add_row({"  weights / grads / optimizer", gib(p.memory.weights) + " / " + gib(p.memory.gradients) + " / " +
                                                  gib(p.memory.optimizer)});
  t.add_row({"  activations / buffers", gib(p.memory.activations) + " / " + gib(p.memory.buffers)});
  t.add_row({"GPU memory", gib(static_cast<double>(cluster.gpu.hbm_capacity.count()))});
  ctx.out << t.render();
  ctx.out << "Megatron-LM flags: " << train::megatron_flags(model, plan) << "\n";
  return {};
}

// Megatron-LM flags for a possibly non-uniform plan, and what the flags cannot express.
// Megatron-LM has one recompute setting for every stage, so a mixed plan is launched with the most
// expensive stage's (never less memory-safe than the plan); its layer split is per first/last stage
// only (--decoder-first/last-pipeline-num-layers, Megatron-Core), so other splits are a note.
std::pair<std::string, std::string> plan_flags(const model::ModelSpec& model, const train::Plan& plan) {
  if (plan.layers_per_stage.empty() && plan.recompute_per_stage.empty()) return {train::megatron_flags(model, plan), ""};
  train::Plan uniform = plan;
  std::string note;
  if (!plan.recompute_per_stage.empty()) {
    uniform.recompute = *std::max_element(plan.recompute_per_stage.begin(), plan.recompute_per_stage.end());
    bool mixed = false;
    for (train::Recompute r : plan.recompute_per_stage) mixed = mixed || r != uniform.recompute;
    if (mixed) {
      note += "per-stage recompute is not a Megatron-LM flag: every stage gets '" +
              std::string(train::to_string(uniform.recompute)) +
              "' (slower than planned; set it per stage in a custom launcher to get the planned time). ";
    }
  }
  uniform.recompute_per_stage.clear();
  uniform.layers_per_stage.clear();
  std::string flags = train::megatron_flags(model, uniform);
  const std::vector<int64_t>& l = plan.layers_per_stage;
  if (!l.empty() && std::adjacent_find(l.begin(), l.end(), std::not_equal_to<>()) != l.end()) {
    const size_t p = l.size();
    bool middle_even = true;
    for (size_t k = 2; k + 1 < p; ++k) middle_even = middle_even && l[k] == l[1];
    if (p >= 2 && middle_even) {
      flags += " --decoder-first-pipeline-num-layers " + std::to_string(l.front()) +
               " --decoder-last-pipeline-num-layers " + std::to_string(l.back());
    } else {
      std::string split;
      for (int64_t n : l) split += (split.empty() ? "" : ",") + std::to_string(n);
      note += "layer split " + split +
              " is not expressible by Megatron-LM flags (only the first and last stage can differ). ";
    }
  }
  return {flags, note};
}

std::vector<int64_t> stage_layers(const model::ModelSpec& model, const train::Plan& p) {
  std::vector<int64_t> out;
  for (int64_t k = 0; k < p.pp; ++k) out.push_back(p.stage_layers(model.layers, k));
  return out;
}

Status print_plans(Context& ctx, const model::ModelSpec& model, const std::string& planner, const std::string& title,
                   const std::vector<train::RankedPlan>& plans, const std::vector<std::string>& origin,
                   int64_t candidates, int64_t fitting) {
  if (plans.empty()) return invalid_input("no plan fits in memory", "add GPUs or lower --gbs", {"--gbs"});
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("planner", planner).field("candidates", candidates).field("fitting", fitting);
    w.key("plans").begin_array();
    for (size_t i = 0; i < plans.size(); ++i) {
      const train::Plan& p = plans[i].plan;
      const train::Prediction& pr = plans[i].prediction;
      const auto [flags, note] = plan_flags(model, p);
      w.begin_object()
          .field("origin", origin[i])
          .field("tp", p.tp).field("pp", p.pp).field("dp", p.dp).field("mbs", p.micro_batch)
          .field("schedule", std::string(train::to_string(p.schedule)))
          .field("virtual_stages", p.virtual_stages)
          .field("recompute", std::string(train::to_string(p.recompute)))
          .field("zero", p.zero_stage)
          .field("iteration_time_s", pr.iteration_time.seconds())
          .field("mfu", pr.mfu)
          .field("memory_per_gpu_bytes", pr.memory.total());
      w.key("layers_per_stage").begin_array();
      for (int64_t n : stage_layers(model, p)) w.value(n);
      w.end_array();
      w.key("recompute_per_stage").begin_array();
      for (int64_t k = 0; k < p.pp; ++k) w.value(std::string(train::to_string(p.stage_recompute(k))));
      w.end_array();
      w.key("memory_per_stage_bytes").begin_array();
      for (const train::Memory& m : pr.memory_per_stage) w.value(m.total());
      w.end_array();
      w.field("megatron_flags", flags).field("megatron_note", note);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  const bool show_origin = planner != "grid";
  std::vector<std::string> head = {"#"};
  if (show_origin) head.push_back("from");
  for (const char* h : {"tp", "pp", "dp", "mbs", "schedule", "recompute", "zero", "iter time", "MFU", "mem/GPU"}) {
    head.push_back(h);
  }
  TableWriter t(head);
  t.set_title(title);
  for (size_t i = 0; i < plans.size(); ++i) {
    const train::Plan& p = plans[i].plan;
    std::string sched(train::to_string(p.schedule));
    if (p.schedule == train::Schedule::kInterleaved) sched += ":" + std::to_string(p.virtual_stages);
    std::string rc = p.recompute_per_stage.empty() ? std::string(train::to_string(p.recompute)) : "per stage";
    std::vector<std::string> row = {std::to_string(i + 1)};
    if (show_origin) row.push_back(origin[i]);
    for (const std::string& c :
         {std::to_string(p.tp), std::to_string(p.pp), std::to_string(p.dp), std::to_string(p.micro_batch), sched, rc,
          std::to_string(p.zero_stage), format_time(plans[i].prediction.iteration_time),
          fmt(100 * plans[i].prediction.mfu, 3) + "%", gib(plans[i].prediction.memory.total())}) {
      row.push_back(c);
    }
    t.add_row(row);
  }
  ctx.out << t.render();
  const train::Plan& best = plans.front().plan;
  if (show_origin) {
    TableWriter s({"stage", "layers", "recompute", "memory"});
    s.set_title("best plan per stage");
    const std::vector<int64_t> layers = stage_layers(model, best);
    for (int64_t k = 0; k < best.pp; ++k) {
      const auto& mem = plans.front().prediction.memory_per_stage;
      s.add_row({std::to_string(k), std::to_string(layers[static_cast<size_t>(k)]),
                 std::string(train::to_string(best.stage_recompute(k))),
                 k < static_cast<int64_t>(mem.size()) ? gib(mem[static_cast<size_t>(k)].total()) : "-"});
    }
    ctx.out << s.render();
  }
  const auto [flags, note] = plan_flags(model, best);
  ctx.out << "Megatron-LM flags (best): " << flags << "\n";
  if (!note.empty()) ctx.out << "Note: " << note << "\n";
  return {};
}

Status run_train_plan(Context& ctx) {
  MLSYS_ASSIGN_OR_RETURN(const model::ModelSpec model, model::resolve_model(ctx.options.text("model")));
  auto gpu = hw::find_gpu(ctx.options.text("gpu"));
  if (!gpu) return gpu.error().at({"--gpu"});
  MLSYS_ASSIGN_OR_RETURN(const train::Cluster cluster, train::make_cluster(*gpu, ctx.options.integer("gpus")));
  const std::string planner = ctx.options.text("planner");
  const std::string profiles = ctx.options.has("profiles") ? ctx.options.text("profiles") : std::string();
  if (!profiles.empty() && planner != "aceso") {
    return invalid_input("--profiles is read by the Aceso planner only", "add --planner aceso", {"--profiles"});
  }
  train::GridOptions o;
  o.global_batch = ctx.options.integer("gbs");
  o.seq = ctx.options.integer("seq");
  const int top = static_cast<int>(ctx.options.integer("top"));
  if (top < 1) return invalid_input("--top must be >= 1", {}, {"--top"});
  // AdaPipe and Aceso start from the best grid plans (and compete with them).
  constexpr int kBases = 8;
  o.top = planner == "grid" ? top : std::max(top, kBases);
  o.megascale = ctx.options.flag("megascale");
  MLSYS_ASSIGN_OR_RETURN(o.convention, flop_convention(ctx));
  MLSYS_ASSIGN_OR_RETURN(const train::GridResult r, train::grid_search(model, cluster, o));
  if (planner == "grid") {
    const std::string title = "grid: " + std::to_string(r.candidates) + " valid plans, " +
                              std::to_string(r.fitting) + " fit; best " + std::to_string(r.best.size());
    return print_plans(ctx, model, planner, title, r.best, std::vector<std::string>(r.best.size(), "grid"),
                       r.candidates, r.fitting);
  }
  const train::PlannerSearchOptions po{.bases = kBases, .top = top, .sim = {.convention = o.convention}};
  train::PlannerSearch s;
  if (planner == "adapipe") {
    MLSYS_ASSIGN_OR_RETURN(s, train::adapipe_search(model, cluster, r, po));
  } else if (profiles.empty()) {
    MLSYS_ASSIGN_OR_RETURN(s, train::aceso_plan_search(model, cluster, r, po));
  } else {
    // A bare name is looked up among the shipped profiles (data/train/<name>).
    std::string dir = profiles;
    if (!std::filesystem::exists(dir) && dir.find('/') == std::string::npos) dir = data_dir() + "/train/" + dir;
    auto db = model::ProfileDb::load_aceso_dir(dir);
    if (!db) return db.error().at({"--profiles"});
    MLSYS_ASSIGN_OR_RETURN(const train::AcesoProblem problem,
                           train::aceso_problem_from_profiles(*db, model.layers, o.global_batch));
    MLSYS_ASSIGN_OR_RETURN(s, train::aceso_plan_search(model, cluster, r, po, &problem));
  }
  const std::string title = planner + " from the best " + std::to_string(s.bases) + " grid plans: " +
                            std::to_string(s.planned) + " " + planner +
                            " plans fit; ranked with grid's by simulated iteration time (grid best " +
                            format_time(s.grid_best.prediction.iteration_time) + ")";
  return print_plans(ctx, model, planner, title, s.best, s.origin, r.candidates, r.fitting);
}

std::vector<OptionSpec> common_options() {
  return {{.name = "model", .type = OptionType::kString, .description = "zoo name (mlsys model list) or a config.json path",
           .required = true},
          {.name = "gpu", .type = OptionType::kString, .default_value = "a100", .description = "GPU name or alias"},
          {.name = "gpus", .type = OptionType::kInt, .description = "GPUs in the job (8 per node)", .required = true},
          {.name = "gbs", .type = OptionType::kInt, .description = "global batch in sequences", .required = true},
          {.name = "seq", .type = OptionType::kInt, .default_value = "2048", .description = "sequence length in tokens"},
          {.name = "megascale", .type = OptionType::kFlag, .default_value = "false",
           .description = "MegaScale options: parallel block, TP/PP/DP overlap, FlashAttention"},
          {.name = "flops", .type = OptionType::kString, .default_value = "sc21",
           .description = "FLOP convention for TFLOP/s and MFU", .choices = {"sc21", "megatron"}}};
}

}  // namespace

std::vector<Command> train_commands() {
  std::vector<OptionSpec> sim = common_options();
  for (OptionSpec o : std::vector<OptionSpec>{
           {.name = "tp", .type = OptionType::kInt, .default_value = "1", .description = "tensor-parallel size"},
           {.name = "pp", .type = OptionType::kInt, .default_value = "1", .description = "pipeline-parallel size"},
           {.name = "dp", .type = OptionType::kInt, .default_value = "1", .description = "data-parallel size"},
           {.name = "ep", .type = OptionType::kInt, .default_value = "1", .description = "expert-parallel size (MoE)"},
           {.name = "mbs", .type = OptionType::kInt, .default_value = "1", .description = "micro-batch size"},
           {.name = "schedule", .type = OptionType::kString, .default_value = "1f1b",
            .description = "pipeline schedule: gpipe, 1f1b, interleaved:V"},
           {.name = "recompute", .type = OptionType::kString, .default_value = "none",
            .description = "activation recomputation", .choices = {"none", "selective", "full"}},
           {.name = "zero", .type = OptionType::kInt, .default_value = "1",
            .description = "ZeRO stage 0-3 (1: Megatron distributed optimizer)"},
           {.name = "no-sp", .type = OptionType::kFlag, .default_value = "false",
            .description = "turn sequence parallelism off"},
           {.name = "window", .type = OptionType::kInt, .default_value = "0",
            .description = "sliding-window attention width in tokens (0: the model's)"},
           {.name = "precision", .type = OptionType::kString, .default_value = "bf16",
            .description = "training precision", .choices = {"bf16", "fp16", "fp32"}}}) {
    sim.push_back(o);
  }
  std::vector<OptionSpec> plan = common_options();
  plan.push_back({.name = "planner", .type = OptionType::kString, .default_value = "grid",
                  .description = "search: grid (every valid uniform plan), adapipe, aceso (non-uniform stages)",
                  .choices = {"grid", "adapipe", "aceso"}});
  plan.push_back({.name = "top", .type = OptionType::kInt, .default_value = "5", .description = "plans to print"});
  plan.push_back({.name = "profiles", .type = OptionType::kString, .default_value = "",
                  .description = "Aceso profile directory (per-op CSVs): --planner aceso prices with them instead "
                                 "of the roofline; a bare name is looked up under the shipped data/train/ (aceso_gpt1.3b_v100_4gpu)"});
  return {
      {.group = "train",
       .name = "sim",
       .summary = "simulate one training iteration of a parallel plan: time, MFU, memory, breakdown",
       .description =
           "Simulates one iteration of one representative pipeline (pp stages, each with compute, PP-send\n"
           "and DP streams) on the event engine: compute from the model's operator list on a roofline\n"
           "(data/model/efficiency.csv), TP/PP/DP/EP communication from coll/'s cost model on NVLink and\n"
           "the NICs (data/train/network.csv). Memory per GPU by Korthikanti et al.; a plan that does\n"
           "not fit is reported. --trace writes a Perfetto timeline (one track per stage and stream).\n"
           "Examples:\n"
           "  mlsys train sim --model gpt3-175b --gpus 1024 --tp 8 --pp 16 --dp 8 --gbs 1536 --recompute full\n"
           "  mlsys train sim --model gpt3-175b --gpus 12288 --tp 8 --pp 8 --dp 192 --gbs 6144 \\\n"
           "      --schedule interleaved:2 --recompute selective --megascale --json",
       .options = sim,
       .run = run_train_sim},
      {.group = "train",
       .name = "plan",
       .summary = "search parallel plans and print the fastest that fit, with Megatron-LM flags",
       .description =
           "grid: every valid uniform plan (tp dividing the node, pp dividing the layers, dp, micro-batch,\n"
           "1f1b/gpipe/interleaved:V, recompute none/selective/full, ZeRO 0-3), priced in closed form,\n"
           "the best re-timed by the event simulator, ranked by iteration time among plans that fit.\n"
           "adapipe (Sun et al., ASPLOS'24): per-stage recompute and layer partition by its two-level\n"
           "dynamic programme, started from each of the best 8 grid plans (as 1F1B).\n"
           "aceso (Liu et al., EuroSys'24): bottleneck alleviation (move layers, recompute, micro-batch)\n"
           "from balanced starts and the best grid plans, one tp x dp for all stages so Megatron-LM can run\n"
           "it; --profiles DIR prices the search with measured Aceso profiles instead of the roofline.\n"
           "Every plan printed is priced by the same event simulator as grid, and grid's plans compete in\n"
           "the same list, so adapipe/aceso never print a best plan slower than grid's. Per-stage layers\n"
           "and recompute are shown for the best; what Megatron-LM flags cannot express is noted.\n"
           "Examples:\n"
           "  mlsys train plan --model gpt3-175b --gpus 1024 --gbs 1536 --top 5\n"
           "  mlsys train plan --model gpt3-175b --gpus 64 --gbs 64 --planner adapipe --json\n"
           "  mlsys train plan --model gpt-1.3b-aceso --gpu v100 --gpus 4 --gbs 512 --planner aceso \\\n"
           "      --profiles aceso_gpt1.3b_v100_4gpu     # the shipped GPT-1.3B V100 profiles (MIT)",
       .options = plan,
       .run = run_train_plan},
  };
}

}  // namespace mlsys::cli
