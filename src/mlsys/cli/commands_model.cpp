// mlsys model list | model show NAME|FILE

#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/model/model.h"
#include "mlsys/model/ops.h"

namespace mlsys::cli {
namespace {

constexpr int64_t kMaxSeq = int64_t{1} << 24;
constexpr int64_t kMaxBatch = int64_t{1} << 20;

/// "6.74B", "303.2M".
std::string format_params(double n) {
  if (n >= 1e9) return fmt(n / 1e9, 4) + "B";
  if (n >= 1e6) return fmt(n / 1e6, 4) + "M";
  return fmt(n, 4);
}

std::string ffn_text(const model::ModelSpec& m) {
  if (!m.is_moe()) return std::to_string(m.ffn);
  std::string s = std::to_string(m.moe.experts) + "x" + std::to_string(m.moe.expert_ffn) + " top" +
                  std::to_string(m.moe.top_k);
  if (m.moe.shared_experts > 0) s += "+" + std::to_string(m.moe.shared_experts) + "sh";
  return s;
}

void write_shape_json(JsonWriter& w, const model::ModelSpec& m) {
  w.field("name", m.name).field("display_name", m.display_name).field("architecture", m.architecture);
  w.field("source", m.source);
  w.key("aliases").begin_array();
  for (const std::string& a : m.aliases) w.value(a);
  w.end_array();
  w.field("hidden", m.hidden).field("layers", m.layers).field("heads", m.heads).field("kv_heads", m.kv_heads);
  w.field("head_dim", m.head_dim).field("ffn", m.ffn).field("vocab", m.vocab).field("max_seq", m.max_seq);
  w.field("mlp", std::string(model::to_string(m.mlp))).field("norm", std::string(model::to_string(m.norm)));
  w.field("position", std::string(model::to_string(m.position)));
  w.field("bias", m.bias).field("tied_embeddings", m.tied_embeddings).field("causal", m.causal);
  w.field("sliding_window", m.sliding_window);
  if (m.is_moe()) {
    w.key("moe").begin_object().field("experts", m.moe.experts).field("top_k", m.moe.top_k);
    w.field("expert_ffn", m.moe.expert_ffn).field("shared_experts", m.moe.shared_experts).end_object();
  }
  if (m.is_vision()) {
    w.field("image_size", m.image_size).field("patch_size", m.patch_size).field("channels", m.channels);
  }
}

void write_params_json(JsonWriter& w, const model::ParameterCount& c) {
  w.key("parameters").begin_object();
  w.field("embedding", c.embedding).field("per_layer", c.per_layer).field("layers", c.layers);
  w.field("head", c.head).field("total", c.total).field("active", c.active);
  w.end_object();
}

Status run_model_list(Context& ctx) {
  const std::vector<model::ModelSpec>& zoo = model::zoo();
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.key("models").begin_array();
    for (const model::ModelSpec& m : zoo) {
      w.begin_object();
      write_shape_json(w, m);
      write_params_json(w, model::parameter_count(m));
      w.end_object();
    }
    w.end_array();
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  TableWriter t({"name", "params", "active", "layers", "hidden", "heads/kv", "ffn", "vocab", "context", "source"});
  t.set_title("Model zoo (" + std::to_string(zoo.size()) + " models; `mlsys model show NAME` for details)");
  for (const model::ModelSpec& m : zoo) {
    const model::ParameterCount c = model::parameter_count(m);
    std::string source = m.source;
    if (source.size() > 60) source = source.substr(0, 57) + "...";
    t.add_row({m.name, format_params(c.total), m.is_moe() ? format_params(c.active) : "", std::to_string(m.layers),
               std::to_string(m.hidden), std::to_string(m.heads) + "/" + std::to_string(m.kv_heads), ffn_text(m),
               m.vocab > 0 ? std::to_string(m.vocab) : "-", std::to_string(m.max_seq), source});
  }
  ctx.out << t.render();
  return {};
}

struct ShowRequest {
  int64_t batch = 1;
  int64_t seq = 0;  // 0: the model's own context
  int64_t tp = 1;
  bool sp = false;
};

Result<model::Shape> shape_for(const model::ModelSpec& m, const ShowRequest& r) {
  model::Shape s;
  s.batch = r.batch;
  s.seq = r.seq > 0 ? r.seq : model::tokens_per_sample(m);
  s.tp = r.tp;
  s.sequence_parallel = r.sp;
  if (m.is_vision() && r.seq > 0 && r.seq != model::tokens_per_sample(m)) {
    return invalid_input("--seq " + std::to_string(r.seq) + " does not match the vision tower's " +
                             std::to_string(model::tokens_per_sample(m)) + " tokens per image",
                         "leave --seq out for vision towers", {"--seq"});
  }
  if (m.heads % r.tp != 0) {
    return invalid_input("--tp " + std::to_string(r.tp) + " does not divide the " + std::to_string(m.heads) +
                             " attention heads of " + m.name,
                         {}, {"--tp"});
  }
  return s;
}

std::string gemm_shape(const model::Op& op) {
  if (op.kind != model::OpKind::kGemm) return "";
  return std::to_string(op.m) + "x" + std::to_string(op.n) + "x" + std::to_string(op.k);
}

std::string_view stage_name(model::Stage s) {
  switch (s) {
    case model::Stage::kEmbedding: return "embedding";
    case model::Stage::kLayer: return "layer";
    case model::Stage::kHead: return "head";
  }
  return "?";
}

void write_op_json(JsonWriter& w, const model::Op& op) {
  w.begin_object().field("stage", std::string(stage_name(op.stage))).field("name", op.name);
  w.field("kind", std::string(model::to_string(op.kind)));
  if (op.kind == model::OpKind::kGemm) w.field("m", op.m).field("n", op.n).field("k", op.k);
  w.field("flops", op.flops).field("bytes", op.bytes).field("params", op.params).field("saved_bytes", op.saved_bytes);
  w.field("recomputed_by_selective", op.recomputed_by_selective).end_object();
}

void show_one(Context& ctx, const model::ModelSpec& m, const model::Shape& s, JsonWriter* w) {
  const model::ParameterCount c = model::parameter_count(m);
  std::vector<model::Op> ops = model::embedding_ops(m, s);
  const std::vector<model::Op> layer = model::layer_ops(m, s);
  const std::vector<model::Op> head = model::head_ops(m, s);
  ops.insert(ops.end(), layer.begin(), layer.end());
  ops.insert(ops.end(), head.begin(), head.end());
  double layer_flops = 0, layer_bytes = 0, layer_saved = 0, layer_selective = 0;
  for (const model::Op& op : layer) {
    layer_flops += op.flops;
    layer_bytes += op.bytes;
    layer_saved += op.saved_bytes;
    if (op.recomputed_by_selective) layer_selective += op.saved_bytes;
  }
  const double megatron = model::model_flops_per_iteration(m, 1, s.seq, model::FlopConvention::kMegatron);
  const double sc21 = model::model_flops_per_iteration(m, 1, s.seq, model::FlopConvention::kSc21);
  const double tokens = static_cast<double>(s.seq);

  if (w != nullptr) {
    w->begin_object();
    write_shape_json(*w, m);
    write_params_json(*w, c);
    w->key("shape").begin_object().field("batch", s.batch).field("seq", s.seq).field("tp", s.tp);
    w->field("sequence_parallel", s.sequence_parallel).field("bytes_per_element", s.bytes_per_element).end_object();
    w->key("ops").begin_array();
    for (const model::Op& op : ops) write_op_json(*w, op);
    w->end_array();
    w->key("layer_totals").begin_object().field("flops", layer_flops).field("bytes", layer_bytes);
    w->field("saved_bytes", layer_saved).field("saved_bytes_selective_recompute", layer_saved - layer_selective);
    w->end_object();
    w->key("training_flops_per_sequence").begin_object().field("megatron", megatron).field("sc21", sc21).end_object();
    w->key("training_flops_per_token").begin_object().field("megatron", megatron / tokens).field("sc21", sc21 / tokens);
    w->end_object();
    w->end_object();
    return;
  }

  TableWriter shape({"quantity", "value"});
  shape.set_title(m.display_name + " (" + m.name + ")");
  shape.add_row({"architecture", m.architecture});
  shape.add_row({"source", m.source});
  shape.add_row({"hidden / layers", std::to_string(m.hidden) + " / " + std::to_string(m.layers)});
  shape.add_row({"heads / kv heads / head dim",
                 std::to_string(m.heads) + " / " + std::to_string(m.kv_heads) + " / " + std::to_string(m.head_dim)});
  shape.add_row({"mlp", ffn_text(m) + " " + std::string(model::to_string(m.mlp))});
  shape.add_row({"norm / position", std::string(model::to_string(m.norm)) + " / " + std::string(model::to_string(m.position))});
  shape.add_row({"vocab", m.vocab > 0 ? std::to_string(m.vocab) : "-"});
  shape.add_row({"context", std::to_string(m.max_seq) + (m.causal ? " (causal)" : " (bidirectional)")});
  if (m.sliding_window > 0) shape.add_row({"sliding window", std::to_string(m.sliding_window)});
  if (m.is_vision()) {
    shape.add_row({"image / patch", std::to_string(m.image_size) + " px / " + std::to_string(m.patch_size) + " px"});
  }
  ctx.out << shape.render() << "\n";

  TableWriter params({"part", "parameters"});
  params.set_title("Parameters");
  params.add_row({"embedding", format_params(c.embedding)});
  params.add_row({"one layer", format_params(c.per_layer)});
  params.add_row({"all layers", format_params(c.layers)});
  params.add_row({"head", format_params(c.head)});
  params.add_row({"total", format_params(c.total) + " (" + fmt(c.total, 10) + ")"});
  if (m.is_moe()) params.add_row({"active per token", format_params(c.active)});
  ctx.out << params.render() << "\n";

  TableWriter table({"stage", "op", "kind", "m x n x k", "GFLOP", "MB", "params", "saved MB"});
  table.set_title("Forward ops on one TP rank: batch " + std::to_string(s.batch) + ", seq " + std::to_string(s.seq) +
                  ", tp " + std::to_string(s.tp) + (s.sequence_parallel ? " + SP" : "") + ", 16-bit");
  for (const model::Op& op : ops) {
    table.add_row({std::string(stage_name(op.stage)), op.name + (op.recomputed_by_selective ? " (sel)" : ""),
                   std::string(model::to_string(op.kind)), gemm_shape(op), fmt(op.flops / 1e9),
                   fmt(op.bytes / 1e6), op.params > 0 ? format_params(op.params) : "", fmt(op.saved_bytes / 1e6)});
  }
  ctx.out << table.render();
  ctx.out << "one layer: " << fmt(layer_flops / 1e9) << " GFLOP, " << fmt(layer_bytes / 1e6) << " MB moved, "
          << fmt(layer_saved / 1e6) << " MB saved (" << fmt((layer_saved - layer_selective) / 1e6)
          << " MB with selective recompute; (sel) = dropped)\n\n";

  TableWriter flops({"convention", "per sequence", "per token"});
  flops.set_title("Training FLOPs (forward + backward, no recompute, whole model)");
  flops.add_row({"Megatron (causal half, GQA, SwiGLU, top-k)", fmt(megatron), fmt(megatron / tokens)});
  flops.add_row({"SC'21 (full s^2 square)", fmt(sc21), fmt(sc21 / tokens)});
  ctx.out << flops.render();
}

Status run_model_show(Context& ctx) {
  const std::string target = ctx.options.text("model");
  ShowRequest r;
  r.batch = ctx.options.integer("batch");
  r.seq = ctx.options.has("seq") ? ctx.options.integer("seq") : 0;
  r.tp = ctx.options.integer("tp");
  r.sp = ctx.options.flag("sp");
  if (r.batch < 1 || r.batch > kMaxBatch) {
    return invalid_input("--batch must be in [1, " + std::to_string(kMaxBatch) + "]", {}, {"--batch"});
  }
  if (ctx.options.has("seq") && (r.seq < 1 || r.seq > kMaxSeq)) {
    return invalid_input("--seq must be in [1, " + std::to_string(kMaxSeq) + "]", {}, {"--seq"});
  }
  if (r.tp < 1 || r.tp > 1024) return invalid_input("--tp must be in [1, 1024]", {}, {"--tp"});

  std::vector<model::ModelSpec> models;
  if (Result<model::ModelSpec> z = model::find_model(target); z) {
    models.push_back(*z);
  } else if (target.find('#') != std::string::npos) {
    MLSYS_ASSIGN_OR_RETURN(model::ModelSpec one, model::load_model(target));
    models.push_back(std::move(one));
  } else if (target.find('/') != std::string::npos || target.find(".json") != std::string::npos) {
    MLSYS_ASSIGN_OR_RETURN(models, model::load_models(target));
  } else {
    return z.error();
  }

  std::vector<model::Shape> shapes;
  for (const model::ModelSpec& m : models) {
    MLSYS_ASSIGN_OR_RETURN(model::Shape s, shape_for(m, r));
    shapes.push_back(s);
  }
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.key("models").begin_array();
    for (size_t i = 0; i < models.size(); ++i) show_one(ctx, models[i], shapes[i], &w);
    w.end_array();
    w.end_object();
    ctx.out << "\n";
    return {};
  }
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) ctx.out << "\n";
    show_one(ctx, models[i], shapes[i], nullptr);
  }
  return {};
}

}  // namespace

std::vector<Command> model_commands() {
  return {
      {.group = "model",
       .name = "list",
       .summary = "list the model zoo: parameters, layers, hidden, heads, ffn, vocab, source",
       .description =
           "Every built-in architecture with its exact parameter count (Megatron/SC'21 convention for GPT,\n"
           "the Llama formula for gated MLPs; MoE models also show active parameters per token).\n"
           "Names and aliases are case-insensitive wherever a model is asked for.\n"
           "Example: mlsys model list --json",
       .options = {},
       .run = run_model_list},
      {.group = "model",
       .name = "show",
       .summary = "show a model's shape, parameter breakdown, per-layer ops with FLOPs/bytes and training FLOPs",
       .description =
           "MODEL is a zoo name or alias (see `mlsys model list`) or a HuggingFace config.json\n"
           "(llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, gpt2, clip; a CLIP file shows both towers,\n"
           "FILE#text or FILE#vision picks one). Prints the forward op list of one transformer layer on one\n"
           "tensor-parallel rank (GEMM m x n x k, FLOPs, bytes moved, weights, activation bytes saved for\n"
           "backward in Korthikanti's accounting; '(sel)' marks what selective recompute drops), the\n"
           "embedding and head ops, and training FLOPs per sequence in the Megatron (causal half) and\n"
           "SC'21 (full square) conventions.\n"
           "Examples: mlsys model show llama2-70b --seq 4096 --tp 8 --sp\n"
           "          mlsys model show path/to/config.json --json",
       .options = {{.name = "model", .type = OptionType::kString, .description = "zoo name or alias, or a config.json path",
                    .required = true, .positional = true},
                   {.name = "seq", .type = OptionType::kInt,
                    .description = "tokens per sequence; default the model's context (vision: patches + 1)"},
                   {.name = "batch", .type = OptionType::kInt, .default_value = "1", .description = "sequences per micro-batch"},
                   {.name = "tp", .type = OptionType::kInt, .default_value = "1",
                    .description = "tensor-parallel degree; must divide the attention heads"},
                   {.name = "sp", .type = OptionType::kFlag, .default_value = "false",
                    .description = "sequence parallelism: norms and dropout split over the TP ranks"}},
       .run = run_model_show},
  };
}

}  // namespace mlsys::cli
