#include "mlsys/serve/serving_models.h"

#include <cctype>
#include <string>
#include <vector>

namespace mlsys::serve {
namespace {

model::ModelSpec llama_like(std::string name, std::string display, std::string source, int64_t hidden, int64_t layers,
                            int64_t heads, int64_t kv_heads, int64_t ffn, int64_t vocab, int64_t max_seq) {
  model::ModelSpec m;
  m.name = std::move(name);
  m.display_name = std::move(display);
  m.source = std::move(source);
  m.architecture = "llama";
  m.hidden = hidden;
  m.layers = layers;
  m.heads = heads;
  m.kv_heads = kv_heads;
  m.head_dim = hidden / heads;
  m.ffn = ffn;
  m.vocab = vocab;
  m.max_seq = max_seq;
  m.mlp = model::Mlp::kSwiGlu;
  m.norm = model::Norm::kRmsNorm;
  m.position = model::Position::kRope;
  m.bias = false;
  return m;
}

model::ModelSpec opt(std::string name, std::string display, int64_t hidden, int64_t layers, int64_t heads) {
  model::ModelSpec m;
  m.name = std::move(name);
  m.display_name = std::move(display);
  m.source = "facebook/" + m.name + " config.json (OPT paper table 1 shapes) [recalled]";
  m.architecture = "gpt";
  m.hidden = hidden;
  m.layers = layers;
  m.heads = heads;
  m.kv_heads = heads;
  m.head_dim = hidden / heads;
  m.ffn = 4 * hidden;
  m.vocab = 50272;
  m.max_seq = 2048;
  m.mlp = model::Mlp::kGelu;  // OPT uses ReLU; same matrix shapes and FLOPs
  return m;
}

// Shapes the serving papers use; the model engineer owns the zoo and may adopt them there.
const std::vector<model::ModelSpec>& extra_models() {
  static const std::vector<model::ModelSpec> kModels = {
      llama_like("mistral-7b", "Mistral-7B-Instruct-v0.2",
                 "mistralai/Mistral-7B-Instruct-v0.2 config.json (no sliding window) [recalled]", 4096, 32, 32, 8,
                 14336, 32000, 32768),
      llama_like("yi-34b", "Yi-34B", "01-ai/Yi-34B config.json [recalled]", 7168, 60, 56, 8, 20480, 64000, 4096),
      opt("opt-13b", "OPT-13B", 5120, 40, 40),
      opt("opt-66b", "OPT-66B", 9216, 64, 72),
  };
  return kModels;
}

}  // namespace

Result<model::ModelSpec> resolve_serving_model(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("facebook/", 0) == 0) lower = lower.substr(9);
  for (const model::ModelSpec& m : extra_models()) {
    if (lower == m.name) return m;
  }
  Result<model::ModelSpec> r = model::resolve_model(name);
  if (r) return r;
  return Error(r.error().code(), r.error().message(),
               r.error().hint() + (r.error().hint().empty() ? "" : "; ") +
                   "serving models: mistral-7b, yi-34b, opt-13b, opt-66b",
               r.error().where());
}

}  // namespace mlsys::serve
