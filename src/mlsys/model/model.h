// Model architectures: one description of a transformer that training and serving both use.
//
// A ModelSpec is a decoder (or encoder) stack of identical layers plus embedding and head. The
// zoo holds the published shapes (GPT-3, SC'21 GPTs, MT-NLG, Llama-2/3/3.1, Mixtral, CLIP); HF
// config.json files import into the same struct, or are refused with the reason.
//
//   Result<ModelSpec> m = find_model("llama2-7b");         // zoo name or alias, any case
//   Result<ModelSpec> f = load_model("config.json");        // HuggingFace config
//   Result<ModelSpec> any = resolve_model("gpt3-175b");     // zoo name, else a file path
//   double n = parameter_count(*m).total;                   // 6.738e9
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"

namespace mlsys::model {

enum class Mlp { kGelu, kSwiGlu, kQuickGelu };  // kSwiGlu: gate, up, down (3 matrices)
enum class Norm { kLayerNorm, kRmsNorm };
enum class Position { kLearned, kRope, kNone };

std::string_view to_string(Mlp mlp);
std::string_view to_string(Norm norm);
std::string_view to_string(Position position);

/// Mixture-of-experts MLP: every layer's MLP is `experts` copies of width expert_ffn, of which
/// each token visits top_k, plus `shared_experts` always-on experts; a linear router picks them.
struct MoeSpec {
  int64_t experts = 0;         // 0: dense model
  int64_t top_k = 0;
  int64_t expert_ffn = 0;      // intermediate width of one expert
  int64_t shared_experts = 0;
};

struct ModelSpec {
  std::string name;            // canonical zoo name ("llama2-7b") or the file stem
  std::string display_name;    // "Llama-2 7B"
  std::string source;          // where the shape comes from (paper, HF config, ...)
  std::string architecture;    // "gpt", "llama", "mixtral", "clip-vision", "clip-text", ...
  std::vector<std::string> aliases;  // other names find_model accepts (zoo entries only)

  int64_t hidden = 0;          // h
  int64_t layers = 0;          // L
  int64_t heads = 0;           // a (query heads)
  int64_t kv_heads = 0;        // = heads without GQA
  int64_t head_dim = 0;        // usually hidden / heads
  int64_t ffn = 0;             // MLP intermediate width (dense models)
  int64_t vocab = 0;           // 0: no embedding/head (vision tower: patch embedding instead)
  int64_t max_seq = 0;         // context length the model was trained for
  Mlp mlp = Mlp::kGelu;
  Norm norm = Norm::kLayerNorm;
  Position position = Position::kLearned;
  bool bias = true;            // linear layers carry biases (GPT); Llama has none
  bool qkv_bias = false;       // only the Q/K/V projections carry biases (Qwen2); implied by bias
  bool qk_norm = false;        // RMSNorm over each head's query and key (Qwen3)
  bool dropout = true;         // trained with dropout (GPT, Korthikanti's masks); Llama: none
  bool lm_head = true;         // false: a tower without a vocabulary projection (CLIP text)
  bool tied_embeddings = false;
  bool causal = true;          // decoder (causal mask) vs encoder (full attention)
  int64_t sliding_window = 0;  // 0: full attention; else each token attends to this many
  MoeSpec moe;
  // Vision encoders: the input is image_size^2 / patch^2 patches (+1 CLS token).
  int64_t image_size = 0;
  int64_t patch_size = 0;
  int64_t channels = 0;

  bool is_moe() const { return moe.experts > 0; }
  bool is_vision() const { return patch_size > 0; }
};

/// Tokens one input occupies: (image_size / patch_size)^2 + 1 (CLS) for a vision tower, else
/// max_seq.
int64_t tokens_per_sample(const ModelSpec& model);

/// Parameter counts (elements, not bytes).
struct ParameterCount {
  double embedding = 0;   // token (+ learned position, + patch) embeddings
  double per_layer = 0;   // one transformer layer, all experts
  double layers = 0;      // per_layer * L
  double head = 0;        // LM head (0 when tied) + final norm
  double total = 0;
  double active = 0;      // per token: only top_k (+ shared) experts counted
};

/// The Megatron/SC'21 convention for GPT (P = 12Lh^2(1 + 13/(12h) + (V+s)/(12Lh)) with the padded
/// vocabulary), the Llama formula for gated-MLP models.
ParameterCount parameter_count(const ModelSpec& model);

/// Every zoo entry, in listing order.
const std::vector<ModelSpec>& zoo();
/// Zoo lookup by canonical name or alias (case-insensitive); kNotFound lists names and suggests.
Result<ModelSpec> find_model(std::string_view name);
/// Imports a HuggingFace config.json. Errors name the file, the key and what is supported:
/// "config.json: model_type 'deepseek_v3' (multi-head latent attention) is not supported
/// (supported: gpt2, llama, mistral, mixtral, qwen2, qwen3, qwen3_moe, clip_vision_model, ...)".
Result<ModelSpec> load_model(const std::string& path);
/// Same, from text; `file` names the source in errors.
Result<ModelSpec> parse_hf_config(std::string_view text, std::string_view file);
/// Every model in a config.json: one, or CLIP's two towers (text first, then vision) named
/// "<stem>-text" / "<stem>-vision". load_model() on a CLIP file needs a tower: "clip.json#vision".
Result<std::vector<ModelSpec>> load_models(const std::string& path);
Result<std::vector<ModelSpec>> parse_hf_configs(std::string_view text, std::string_view file);
/// A zoo name, else a path to a config.json (with an optional "#text"/"#vision" tower suffix).
Result<ModelSpec> resolve_model(std::string_view name_or_path);
/// HF model_type values parse_hf_config accepts, in the order errors list them.
const std::vector<std::string>& supported_model_types();

/// Checks internal consistency (positive sizes, heads divisible by kv_heads, top_k <= experts).
Status validate(const ModelSpec& model);

}  // namespace mlsys::model
