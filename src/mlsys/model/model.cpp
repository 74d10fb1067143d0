#include "mlsys/model/model.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "mlsys/core/file_io.h"
#include "mlsys/core/json_reader.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/value.h"

namespace mlsys::model {

std::string_view to_string(Mlp mlp) {
  switch (mlp) {
    case Mlp::kGelu: return "gelu";
    case Mlp::kSwiGlu: return "swiglu";
    case Mlp::kQuickGelu: return "quick_gelu";
  }
  return "?";
}

std::string_view to_string(Norm norm) {
  switch (norm) {
    case Norm::kLayerNorm: return "layernorm";
    case Norm::kRmsNorm: return "rmsnorm";
  }
  return "?";
}

std::string_view to_string(Position position) {
  switch (position) {
    case Position::kLearned: return "learned";
    case Position::kRope: return "rope";
    case Position::kNone: return "none";
  }
  return "?";
}

int64_t tokens_per_sample(const ModelSpec& model) {
  if (model.is_vision()) {
    const int64_t side = model.image_size / model.patch_size;
    return side * side + 1;
  }
  return model.max_seq;
}

// ---------------------------------------------------------------------------------------------
// Parameter counts.

namespace {

double norm_params(const ModelSpec& m, int64_t width) {
  return m.norm == Norm::kLayerNorm ? 2.0 * static_cast<double>(width) : static_cast<double>(width);
}

/// One MLP of intermediate width `ffn` (a dense MLP or one expert).
double mlp_params(const ModelSpec& m, int64_t ffn) {
  const double h = static_cast<double>(m.hidden);
  const double f = static_cast<double>(ffn);
  const double matrices = m.mlp == Mlp::kSwiGlu ? 3.0 : 2.0;
  double p = matrices * h * f;
  if (m.bias) p += (matrices - 1.0) * f + h;  // up (and gate) biases of width f, down bias h
  return p;
}

double attention_params(const ModelSpec& m) {
  const double h = static_cast<double>(m.hidden);
  const double q = static_cast<double>(m.heads * m.head_dim);
  const double kv = static_cast<double>(m.kv_heads * m.head_dim);
  double p = h * q + 2.0 * h * kv + q * h;
  if (m.bias || m.qkv_bias) p += q + 2.0 * kv;
  if (m.bias) p += h;
  if (m.qk_norm) p += 2.0 * static_cast<double>(m.head_dim);
  return p;
}

}  // namespace

ParameterCount parameter_count(const ModelSpec& m) {
  ParameterCount c;
  const double h = static_cast<double>(m.hidden);
  const double layers = static_cast<double>(m.layers);

  // Embedding: tokens, learned positions; vision towers embed patches with a conv (no bias in
  // CLIP), a class token and normalise before the first layer (CLIP's pre_layrnorm).
  if (m.vocab > 0) c.embedding += static_cast<double>(m.vocab) * h;
  if (m.position == Position::kLearned) c.embedding += static_cast<double>(tokens_per_sample(m)) * h;
  if (m.is_vision()) {
    c.embedding += static_cast<double>(m.channels * m.patch_size * m.patch_size) * h + h;
    c.embedding += norm_params(m, m.hidden);
  }

  const double attention = attention_params(m);
  const double norms = 2.0 * norm_params(m, m.hidden);
  double mlp_all = 0;
  double mlp_active = 0;
  if (m.is_moe()) {
    const double expert = mlp_params(m, m.moe.expert_ffn);
    const double router = h * static_cast<double>(m.moe.experts);
    const double shared = static_cast<double>(m.moe.shared_experts) * expert;
    mlp_all = static_cast<double>(m.moe.experts) * expert + shared + router;
    mlp_active = static_cast<double>(m.moe.top_k) * expert + shared + router;
  } else {
    mlp_all = mlp_params(m, m.ffn);
    mlp_active = mlp_all;
  }
  c.per_layer = attention + norms + mlp_all;
  c.layers = c.per_layer * layers;

  // Head: the final norm, plus the vocabulary projection unless it is tied to the embedding.
  c.head = norm_params(m, m.hidden);
  if (m.vocab > 0 && m.lm_head && !m.tied_embeddings) c.head += static_cast<double>(m.vocab) * h;

  c.total = c.embedding + c.layers + c.head;
  c.active = c.embedding + (attention + norms + mlp_active) * layers + c.head;
  return c;
}

// ---------------------------------------------------------------------------------------------
// The zoo.

namespace {

constexpr int64_t kGptVocabPadded = 51200;  // GPT-2 BPE (50257) padded to a multiple of 1024
constexpr int64_t kGptSeq = 2048;

ModelSpec gpt(std::string name, std::string display, std::string source, int64_t hidden,
              int64_t layers, int64_t heads, std::vector<std::string> aliases = {}) {
  ModelSpec m;
  m.name = std::move(name);
  m.display_name = std::move(display);
  m.source = std::move(source);
  m.architecture = "gpt";
  m.aliases = std::move(aliases);
  m.hidden = hidden;
  m.layers = layers;
  m.heads = heads;
  m.kv_heads = heads;
  m.head_dim = hidden / heads;
  m.ffn = 4 * hidden;
  m.vocab = kGptVocabPadded;
  m.max_seq = kGptSeq;
  m.mlp = Mlp::kGelu;
  m.norm = Norm::kLayerNorm;
  m.position = Position::kLearned;
  m.bias = true;
  m.tied_embeddings = true;
  m.dropout = true;
  return m;
}

ModelSpec llama(std::string name, std::string display, std::string source, int64_t hidden,
                int64_t layers, int64_t heads, int64_t kv_heads, int64_t ffn, int64_t vocab,
                int64_t max_seq, std::vector<std::string> aliases) {
  ModelSpec m;
  m.name = std::move(name);
  m.display_name = std::move(display);
  m.source = std::move(source);
  m.architecture = "llama";
  m.aliases = std::move(aliases);
  m.hidden = hidden;
  m.layers = layers;
  m.heads = heads;
  m.kv_heads = kv_heads;
  m.head_dim = hidden / heads;
  m.ffn = ffn;
  m.vocab = vocab;
  m.max_seq = max_seq;
  m.mlp = Mlp::kSwiGlu;
  m.norm = Norm::kRmsNorm;
  m.position = Position::kRope;
  m.bias = false;
  m.tied_embeddings = false;
  m.dropout = false;
  return m;
}

std::vector<ModelSpec> build_zoo() {
  std::vector<ModelSpec> z;
  const std::string sc21 =
      "Narayanan et al. SC'21 Table 1 (Megatron-LM examples/academic_paper_scripts/sc21); V=51200, s=2048";
  z.push_back(gpt("gpt3-175b", "GPT-3 175B",
                  "Brown et al. 2020 Table 2.1; Calculon models/gpt3-175B.json; vocab padded to 51200",
                  12288, 96, 96, {"gpt3", "gpt-3", "gpt-3-175b", "gpt-175b", "gpt3-175B"}));
  struct Row {
    const char* name;
    const char* display;
    int64_t heads, hidden, layers;
    std::vector<std::string> aliases;
  };
  const std::vector<Row> rows = {
      {"gpt-1.7b", "GPT 1.7B (SC'21)", 24, 2304, 24, {"sc21-1.7b"}},
      {"gpt-3.6b", "GPT 3.6B (SC'21)", 32, 3072, 30, {"sc21-3.6b"}},
      {"gpt-7.5b", "GPT 7.5B (SC'21)", 32, 4096, 36, {"sc21-7.5b"}},
      {"gpt-18.4b", "GPT 18.4B (SC'21)", 48, 6144, 40, {"sc21-18.4b"}},
      {"gpt-39.1b", "GPT 39.1B (SC'21)", 64, 8192, 48, {"sc21-39.1b"}},
      {"gpt-76.1b", "GPT 76.1B (SC'21)", 80, 10240, 60, {"sc21-76.1b"}},
      {"gpt-145.6b", "GPT 145.6B (SC'21)", 96, 12288, 80, {"sc21-145.6b"}},
      {"gpt-310.1b", "GPT 310.1B (SC'21)", 128, 16384, 96, {"sc21-310.1b"}},
      {"gpt-529.6b", "GPT 529.6B (SC'21)", 128, 20480, 105, {"sc21-529.6b"}},
      {"gpt-1t", "GPT 1T (SC'21)", 160, 25600, 128, {"gpt-1008b", "sc21-1t", "gpt-1008.0b"}},
  };
  for (const Row& r : rows) z.push_back(gpt(r.name, r.display, sc21, r.hidden, r.layers, r.heads, r.aliases));

  z.push_back(gpt("mt-nlg-530b", "Megatron-Turing NLG 530B",
                  "Smith et al. 2022 (arXiv 2201.11990); Calculon models/turing-530B.json; vocab padded to 51200",
                  20480, 105, 128, {"mt-nlg", "megatron-turing-530b", "turing-530b", "530b"}));

  // Aceso's GPT shapes (L, h from Aceso aceso_utils.py); heads as in GPT-3 Table 2.1 [recalled].
  const std::string aceso = "Aceso (EuroSys'24) aceso_utils.py (L, h); heads from GPT-3 Table 2.1 [recalled]";
  z.push_back(gpt("gpt-350m-aceso", "GPT 350M (Aceso)", aceso, 1024, 24, 16, {"aceso-350m"}));
  z.push_back(gpt("gpt-1.3b-aceso", "GPT 1.3B (Aceso)", aceso, 2048, 24, 16, {"aceso-1.3b"}));
  z.push_back(gpt("gpt-2.6b-aceso", "GPT 2.6B (Aceso)", aceso, 2560, 32, 32, {"aceso-2.6b"}));
  z.push_back(gpt("gpt-6.7b-aceso", "GPT 6.7B (Aceso)", aceso, 4096, 32, 32, {"aceso-6.7b"}));
  z.push_back(gpt("gpt-13b-aceso", "GPT 13B (Aceso)", aceso, 5120, 40, 40, {"aceso-13b"}));

  const std::string l2 = "meta-llama/Llama-2-*-hf config.json (7B, 70B copied in shared/data/models)";
  z.push_back(llama("llama2-7b", "Llama-2 7B", l2, 4096, 32, 32, 32, 11008, 32000, 4096,
                    {"llama-2-7b", "llama-2-7b-hf", "llama2-7b-hf"}));
  z.push_back(llama("llama2-13b", "Llama-2 13B", "meta-llama/Llama-2-13b-hf config.json [recalled]", 5120,
                    40, 40, 40, 13824, 32000, 4096, {"llama-2-13b", "llama-2-13b-hf", "llama2-13b-hf"}));
  z.push_back(llama("llama2-70b", "Llama-2 70B", l2, 8192, 80, 64, 8, 28672, 32000, 4096,
                    {"llama-2-70b", "llama-2-70b-hf", "llama2-70b-hf"}));
  z.push_back(llama("llama3-8b", "Llama-3 8B",
                    "meta-llama/Meta-Llama-3-8B config.json (shape = Llama-3.1-8B copied; context 8192)",
                    4096, 32, 32, 8, 14336, 128256, 8192, {"llama-3-8b", "meta-llama-3-8b"}));
  z.push_back(llama("llama3-70b", "Llama-3 70B", "meta-llama/Meta-Llama-3-70B config.json [recalled]",
                    8192, 80, 64, 8, 28672, 128256, 8192, {"llama-3-70b", "meta-llama-3-70b"}));
  z.push_back(llama("llama3.1-8b", "Llama-3.1 8B", "meta-llama/Llama-3.1-8B config.json (copied)", 4096,
                    32, 32, 8, 14336, 128256, 131072, {"llama-3.1-8b", "meta-llama-3.1-8b"}));
  z.push_back(llama("llama3.1-70b", "Llama-3.1 70B", "meta-llama/Llama-3.1-70B config.json [recalled]",
                    8192, 80, 64, 8, 28672, 128256, 131072, {"llama-3.1-70b", "meta-llama-3.1-70b"}));
  z.push_back(llama("llama3.1-405b", "Llama-3.1 405B", "meta-llama/Llama-3.1-405B config.json [recalled]",
                    16384, 126, 128, 8, 53248, 128256, 131072,
                    {"llama-3.1-405b", "meta-llama-3.1-405b", "llama3-405b"}));

  // Models the serving papers evaluate: Mistral-7B and Yi-34B (Sarathi-Serve), OPT (DistServe).
  z.push_back(llama("mistral-7b", "Mistral-7B-Instruct-v0.2",
                    "mistralai/Mistral-7B-Instruct-v0.2 config.json (no sliding window) [recalled]", 4096, 32,
                    32, 8, 14336, 32000, 32768, {"mistral-7b-instruct", "mistral-7b-v0.2"}));
  z.push_back(llama("yi-34b", "Yi-34B", "01-ai/Yi-34B config.json [recalled]", 7168, 60, 56, 8, 20480, 64000,
                    4096, {"yi-34b-chat"}));
  for (const auto& [name, display, hidden, layers, heads] :
       {std::tuple{"opt-13b", "OPT-13B", 5120, 40, 40}, std::tuple{"opt-66b", "OPT-66B", 9216, 64, 72}}) {
    // OPT: learned positions, LayerNorm, biases, tied head, ReLU MLP (same shapes and FLOPs as GELU).
    ModelSpec m = gpt(name, display, std::string("facebook/") + name + " config.json (OPT paper Table 1) [recalled]",
                      hidden, layers, heads, {std::string("facebook/") + name});
    m.architecture = "opt";
    m.vocab = 50272;
    m.dropout = false;
    z.push_back(m);
  }

  ModelSpec mixtral = llama("mixtral-8x7b", "Mixtral 8x7B",
                            "mistralai/Mixtral-8x7B-Instruct-v0.1 config.json (copied)", 4096, 32, 32,
                            8, 14336, 32000, 32768, {"mixtral", "mixtral-8x7b-v0.1", "mixtral-8x7b-instruct"});
  mixtral.architecture = "mixtral";
  mixtral.moe = {.experts = 8, .top_k = 2, .expert_ffn = 14336, .shared_experts = 0};
  z.push_back(mixtral);

  // CLIP ViT-L/14: the two towers are separate models (DistMM trains them as such).
  const std::string clip = "openai/clip-vit-large-patch14 config.json (copied) + transformers CLIP defaults";
  ModelSpec vision;
  vision.name = "clip-vit-l14-vision";
  vision.display_name = "CLIP ViT-L/14 vision";
  vision.source = clip;
  vision.architecture = "clip-vision";
  vision.aliases = {"clip-vision", "clip-vit-large-patch14-vision", "vit-l14"};
  vision.hidden = 1024;
  vision.layers = 24;
  vision.heads = 16;
  vision.kv_heads = 16;
  vision.head_dim = 64;
  vision.ffn = 4096;
  vision.vocab = 0;
  vision.image_size = 224;
  vision.patch_size = 14;
  vision.channels = 3;
  vision.max_seq = tokens_per_sample(vision);
  vision.mlp = Mlp::kQuickGelu;
  vision.norm = Norm::kLayerNorm;
  vision.position = Position::kLearned;
  vision.bias = true;
  vision.causal = false;
  vision.dropout = false;
  vision.lm_head = false;
  z.push_back(vision);

  ModelSpec text = vision;
  text.name = "clip-vit-l14-text";
  text.display_name = "CLIP ViT-L/14 text";
  text.architecture = "clip-text";
  text.aliases = {"clip-text", "clip-vit-large-patch14-text"};
  text.hidden = 768;
  text.layers = 12;
  text.heads = 12;
  text.kv_heads = 12;
  text.head_dim = 64;
  text.ffn = 3072;
  text.vocab = 49408;
  text.max_seq = 77;
  text.image_size = 0;
  text.patch_size = 0;
  text.channels = 0;
  text.causal = true;  // CLIP's text transformer uses a causal mask
  z.push_back(text);
  return z;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::vector<ModelSpec>& zoo() {
  static const std::vector<ModelSpec> kZoo = build_zoo();
  return kZoo;
}

Result<ModelSpec> find_model(std::string_view name) {
  const std::string key = lower(name);
  std::vector<std::string> names;
  for (const ModelSpec& m : zoo()) {
    if (lower(m.name) == key) return m;
    for (const std::string& alias : m.aliases) {
      if (lower(alias) == key) return m;
    }
    names.push_back(m.name);
  }
  std::vector<std::string> candidates = names;
  for (const ModelSpec& m : zoo()) candidates.insert(candidates.end(), m.aliases.begin(), m.aliases.end());
  std::string hint = did_you_mean(name, candidates);
  if (!hint.empty()) hint += "; ";
  hint += "`mlsys model list` shows the zoo, or pass a HuggingFace config.json";
  return not_found("unknown model '" + std::string(name) + "' (known: " + join(names, ", ") + ")", hint);
}

Status validate(const ModelSpec& m) {
  const Location where{m.name, 0};
  auto positive = [&](int64_t v, const char* what) -> Status {
    if (v <= 0) return invalid_input(std::string(what) + " must be positive, got " + std::to_string(v), {}, where);
    return {};
  };
  MLSYS_RETURN_IF_ERROR(positive(m.hidden, "hidden size"));
  MLSYS_RETURN_IF_ERROR(positive(m.layers, "layers"));
  MLSYS_RETURN_IF_ERROR(positive(m.heads, "attention heads"));
  MLSYS_RETURN_IF_ERROR(positive(m.kv_heads, "key/value heads"));
  MLSYS_RETURN_IF_ERROR(positive(m.head_dim, "head dimension"));
  MLSYS_RETURN_IF_ERROR(positive(m.max_seq, "maximum sequence length"));
  if (m.heads % m.kv_heads != 0) {
    return invalid_input("attention heads (" + std::to_string(m.heads) + ") must be a multiple of key/value heads (" +
                             std::to_string(m.kv_heads) + ")",
                         {}, where);
  }
  if (m.vocab < 0) return invalid_input("vocabulary size must not be negative", {}, where);
  if (m.sliding_window < 0) return invalid_input("sliding window must not be negative", {}, where);
  if (m.is_moe()) {
    MLSYS_RETURN_IF_ERROR(positive(m.moe.top_k, "experts per token (top_k)"));
    MLSYS_RETURN_IF_ERROR(positive(m.moe.expert_ffn, "expert intermediate size"));
    if (m.moe.top_k > m.moe.experts) {
      return invalid_input("top_k (" + std::to_string(m.moe.top_k) + ") exceeds the number of experts (" +
                               std::to_string(m.moe.experts) + ")",
                           {}, where);
    }
    if (m.moe.shared_experts < 0) return invalid_input("shared experts must not be negative", {}, where);
  } else {
    MLSYS_RETURN_IF_ERROR(positive(m.ffn, "MLP intermediate size"));
    if (m.moe.experts < 0) return invalid_input("experts must not be negative", {}, where);
  }
  if (m.is_vision()) {
    MLSYS_RETURN_IF_ERROR(positive(m.image_size, "image size"));
    MLSYS_RETURN_IF_ERROR(positive(m.channels, "image channels"));
    if (m.image_size % m.patch_size != 0) {
      return invalid_input("image size " + std::to_string(m.image_size) + " is not a multiple of the patch size " +
                               std::to_string(m.patch_size),
                           {}, where);
    }
  } else if (m.vocab == 0) {
    return invalid_input("a model needs a vocabulary or an image patch embedding", {}, where);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// HuggingFace config.json import.

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> kTypes = {
      "gpt2",  "llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3_moe",
      "clip",  "clip_text_model", "clip_vision_model"};
  return kTypes;
}

namespace {

/// Sanity bound on any dimension read from a file, so a hostile config cannot make later
/// products overflow (2^24 = 16.7M is far above any real hidden size, vocabulary or context).
constexpr int64_t kMaxDimension = int64_t{1} << 24;

std::string supported_list() { return "supported: " + join(supported_model_types(), ", "); }

/// A config being read: the object, the file name and a growing list of required keys read.
class ConfigReader {
 public:
  explicit ConfigReader(const Value& object) : object_(object) {}

  Result<int64_t> required(std::string_view key) const {
    const Value* v = object_.find(key);
    if (v == nullptr) {
      return invalid_input("missing key '" + std::string(key) + "'", "the config must give it", object_.location());
    }
    return checked(*v, key);
  }
  /// The key's integer value; `fallback` when absent or null.
  Result<int64_t> optional(std::string_view key, int64_t fallback) const {
    const Value* v = object_.find(key);
    if (v == nullptr || v->is_null()) return fallback;
    return checked(*v, key);
  }
  Result<bool> flag(std::string_view key, bool fallback) const {
    const Value* v = object_.find(key);
    if (v == nullptr || v->is_null()) return fallback;
    Result<bool> b = v->as_bool();
    if (!b) return b.error().context("key '" + std::string(key) + "'");
    return *b;
  }
  Result<std::string> text(std::string_view key, std::string fallback) const {
    const Value* v = object_.find(key);
    if (v == nullptr || v->is_null()) return fallback;
    Result<std::string> s = v->as_string();
    if (!s) return s.error().context("key '" + std::string(key) + "'");
    return *s;
  }
  Result<double> number(std::string_view key, double fallback) const {
    const Value* v = object_.find(key);
    if (v == nullptr || v->is_null()) return fallback;
    Result<double> d = v->as_number();
    if (!d) return d.error().context("key '" + std::string(key) + "'");
    return *d;
  }
  const Value& object() const { return object_; }

 private:
  static Result<int64_t> checked(const Value& v, std::string_view key) {
    Result<int64_t> i = v.as_int64();
    if (!i) return i.error().context("key '" + std::string(key) + "'");
    if (*i < 0 || *i > kMaxDimension) {
      return invalid_input("key '" + std::string(key) + "' = " + std::to_string(*i) + " is out of range",
                           "expected 0.." + std::to_string(kMaxDimension), v.location());
    }
    return *i;
  }
  const Value& object_;
};

std::string file_stem(std::string_view file) {
  std::string_view s = file;
  if (const size_t slash = s.find_last_of('/'); slash != std::string_view::npos) s = s.substr(slash + 1);
  for (std::string_view suffix : {std::string_view(".json"), std::string_view(".config"), std::string_view("config")}) {
    if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) s.remove_suffix(suffix.size());
  }
  while (!s.empty() && (s.back() == '.' || s.back() == '-' || s.back() == '_')) s.remove_suffix(1);
  return s.empty() ? std::string("config") : std::string(s);
}

Status check_activation(const std::string& act, const Value& where, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (act == a) return {};
  }
  std::vector<std::string> names(allowed.begin(), allowed.end());
  const Value* node = where.find("hidden_act");
  if (node == nullptr) node = where.find("activation_function");
  return unsupported("activation '" + act + "' is not supported for this model_type",
                     "supported: " + join(names, ", "), node != nullptr ? node->location() : where.location());
}

/// Llama-family decoders: llama, mistral, mixtral, qwen2, qwen3, qwen3_moe.
Result<ModelSpec> parse_llama_family(const ConfigReader& c, const std::string& type) {
  ModelSpec m;
  m.architecture = type == "qwen3_moe" ? "qwen3-moe" : type;
  m.mlp = Mlp::kSwiGlu;
  m.norm = Norm::kRmsNorm;
  m.position = Position::kRope;
  m.bias = false;
  m.dropout = false;
  MLSYS_ASSIGN_OR_RETURN(m.hidden, c.required("hidden_size"));
  MLSYS_ASSIGN_OR_RETURN(m.layers, c.required("num_hidden_layers"));
  MLSYS_ASSIGN_OR_RETURN(m.heads, c.required("num_attention_heads"));
  MLSYS_ASSIGN_OR_RETURN(m.kv_heads, c.optional("num_key_value_heads", m.heads));
  if (m.heads == 0) {
    return invalid_input("num_attention_heads must be positive", {}, c.object().find("num_attention_heads")->location());
  }
  MLSYS_ASSIGN_OR_RETURN(m.head_dim, c.optional("head_dim", m.hidden / m.heads));
  MLSYS_ASSIGN_OR_RETURN(m.vocab, c.required("vocab_size"));
  MLSYS_ASSIGN_OR_RETURN(m.max_seq, c.required("max_position_embeddings"));
  MLSYS_ASSIGN_OR_RETURN(m.tied_embeddings, c.flag("tie_word_embeddings", false));
  MLSYS_ASSIGN_OR_RETURN(const std::string act, c.text("hidden_act", "silu"));
  // Gated MLPs with another activation (gelu) still hold three matrices of the same shape.
  MLSYS_RETURN_IF_ERROR(check_activation(act, c.object(), {"silu", "swish", "gelu", "gelu_pytorch_tanh"}));
  MLSYS_ASSIGN_OR_RETURN(const bool attention_bias, c.flag("attention_bias", false));
  MLSYS_ASSIGN_OR_RETURN(const bool mlp_bias, c.flag("mlp_bias", false));
  if (mlp_bias) {
    return unsupported("mlp_bias = true is not modelled", "only attention biases are counted",
                       c.object().find("mlp_bias")->location());
  }
  m.qkv_bias = attention_bias || type == "qwen2";  // Qwen2 always biases q, k and v
  m.qk_norm = type == "qwen3" || type == "qwen3_moe";
  MLSYS_ASSIGN_OR_RETURN(const double attention_dropout, c.number("attention_dropout", 0.0));
  m.dropout = attention_dropout > 0;

  // Sliding-window attention: Mistral gives the window directly; Qwen only with use_sliding_window.
  bool window_on = type == "mistral" || type == "mixtral";
  if (type == "qwen2" || type == "qwen3" || type == "qwen3_moe") {
    MLSYS_ASSIGN_OR_RETURN(window_on, c.flag("use_sliding_window", false));
    if (window_on) {
      MLSYS_ASSIGN_OR_RETURN(const int64_t max_window_layers, c.optional("max_window_layers", m.layers));
      if (max_window_layers < m.layers) {
        return unsupported("sliding window on only the first max_window_layers layers is not modelled",
                           "mlsys applies one attention pattern to every layer",
                           c.object().find("max_window_layers")->location());
      }
    }
  }
  if (window_on) {
    MLSYS_ASSIGN_OR_RETURN(m.sliding_window, c.optional("sliding_window", 0));
  }

  MLSYS_ASSIGN_OR_RETURN(m.ffn, c.required("intermediate_size"));
  if (type == "mixtral") {
    MLSYS_ASSIGN_OR_RETURN(m.moe.experts, c.required("num_local_experts"));
    MLSYS_ASSIGN_OR_RETURN(m.moe.top_k, c.required("num_experts_per_tok"));
    m.moe.expert_ffn = m.ffn;
  } else if (type == "qwen3_moe") {
    MLSYS_ASSIGN_OR_RETURN(m.moe.experts, c.required("num_experts"));
    MLSYS_ASSIGN_OR_RETURN(m.moe.top_k, c.required("num_experts_per_tok"));
    MLSYS_ASSIGN_OR_RETURN(m.moe.expert_ffn, c.required("moe_intermediate_size"));
    MLSYS_ASSIGN_OR_RETURN(const int64_t step, c.optional("decoder_sparse_step", 1));
    if (step != 1) {
      return unsupported("decoder_sparse_step = " + std::to_string(step) + " (dense layers between MoE layers) is not modelled",
                         "mlsys models every layer alike", c.object().find("decoder_sparse_step")->location());
    }
    if (const Value* dense = c.object().find("mlp_only_layers"); dense != nullptr && dense->size() > 0) {
      return unsupported("mlp_only_layers (dense layers among MoE layers) is not modelled",
                         "mlsys models every layer alike", dense->location());
    }
    m.ffn = m.moe.expert_ffn;  // intermediate_size is the unused dense width
  }
  return m;
}

Result<ModelSpec> parse_gpt2(const ConfigReader& c) {
  ModelSpec m;
  m.architecture = "gpt";
  m.mlp = Mlp::kGelu;
  m.norm = Norm::kLayerNorm;
  m.position = Position::kLearned;
  m.bias = true;
  m.tied_embeddings = true;
  MLSYS_ASSIGN_OR_RETURN(m.hidden, c.required("n_embd"));
  MLSYS_ASSIGN_OR_RETURN(m.layers, c.required("n_layer"));
  MLSYS_ASSIGN_OR_RETURN(m.heads, c.required("n_head"));
  if (m.heads == 0) return invalid_input("n_head must be positive", {}, c.object().find("n_head")->location());
  m.kv_heads = m.heads;
  m.head_dim = m.hidden / m.heads;
  MLSYS_ASSIGN_OR_RETURN(m.ffn, c.optional("n_inner", 4 * m.hidden));
  MLSYS_ASSIGN_OR_RETURN(m.vocab, c.required("vocab_size"));
  MLSYS_ASSIGN_OR_RETURN(m.max_seq, c.optional("n_positions", 1024));
  MLSYS_ASSIGN_OR_RETURN(const std::string act, c.text("activation_function", "gelu_new"));
  MLSYS_RETURN_IF_ERROR(check_activation(act, c.object(), {"gelu_new", "gelu", "gelu_fast", "gelu_pytorch_tanh"}));
  MLSYS_ASSIGN_OR_RETURN(const double pdrop, c.number("attn_pdrop", 0.1));
  m.dropout = pdrop > 0;
  return m;
}

// transformers' CLIPTextConfig / CLIPVisionConfig defaults; the compact CLIP export relies on
// them (shared/data/models/SOURCES.md lists the ones the ViT-L/14 file omits).
constexpr int64_t kClipTextVocab = 49408;
constexpr int64_t kClipTextHidden = 512;
constexpr int64_t kClipTextFfn = 2048;
constexpr int64_t kClipTextLayers = 12;
constexpr int64_t kClipTextHeads = 8;
constexpr int64_t kClipTextPositions = 77;
constexpr int64_t kClipVisionHidden = 768;
constexpr int64_t kClipVisionFfn = 3072;
constexpr int64_t kClipVisionLayers = 12;
constexpr int64_t kClipVisionHeads = 12;
constexpr int64_t kClipVisionChannels = 3;
constexpr int64_t kClipVisionImage = 224;
constexpr int64_t kClipVisionPatch = 32;

Result<ModelSpec> parse_clip_tower(const ConfigReader& c, bool vision) {
  ModelSpec m;
  m.architecture = vision ? "clip-vision" : "clip-text";
  m.norm = Norm::kLayerNorm;
  m.position = Position::kLearned;
  m.bias = true;
  m.lm_head = false;
  MLSYS_ASSIGN_OR_RETURN(const std::string act, c.text("hidden_act", "quick_gelu"));
  MLSYS_RETURN_IF_ERROR(check_activation(act, c.object(), {"quick_gelu", "gelu"}));
  m.mlp = act == "quick_gelu" ? Mlp::kQuickGelu : Mlp::kGelu;
  MLSYS_ASSIGN_OR_RETURN(const double drop, c.number("dropout", 0.0));
  m.dropout = drop > 0;
  if (vision) {
    MLSYS_ASSIGN_OR_RETURN(m.hidden, c.optional("hidden_size", kClipVisionHidden));
    MLSYS_ASSIGN_OR_RETURN(m.ffn, c.optional("intermediate_size", kClipVisionFfn));
    MLSYS_ASSIGN_OR_RETURN(m.layers, c.optional("num_hidden_layers", kClipVisionLayers));
    MLSYS_ASSIGN_OR_RETURN(m.heads, c.optional("num_attention_heads", kClipVisionHeads));
    MLSYS_ASSIGN_OR_RETURN(m.channels, c.optional("num_channels", kClipVisionChannels));
    MLSYS_ASSIGN_OR_RETURN(m.image_size, c.optional("image_size", kClipVisionImage));
    MLSYS_ASSIGN_OR_RETURN(m.patch_size, c.optional("patch_size", kClipVisionPatch));
    m.causal = false;
    if (m.patch_size == 0) return invalid_input("patch_size must be positive", {}, c.object().location());
    m.max_seq = tokens_per_sample(m);
  } else {
    MLSYS_ASSIGN_OR_RETURN(m.hidden, c.optional("hidden_size", kClipTextHidden));
    MLSYS_ASSIGN_OR_RETURN(m.ffn, c.optional("intermediate_size", kClipTextFfn));
    MLSYS_ASSIGN_OR_RETURN(m.layers, c.optional("num_hidden_layers", kClipTextLayers));
    MLSYS_ASSIGN_OR_RETURN(m.heads, c.optional("num_attention_heads", kClipTextHeads));
    MLSYS_ASSIGN_OR_RETURN(m.vocab, c.optional("vocab_size", kClipTextVocab));
    MLSYS_ASSIGN_OR_RETURN(m.max_seq, c.optional("max_position_embeddings", kClipTextPositions));
    m.causal = true;
  }
  if (m.heads == 0) return invalid_input("num_attention_heads must be positive", {}, c.object().location());
  m.kv_heads = m.heads;
  m.head_dim = m.hidden / m.heads;
  return m;
}

Result<ModelSpec> finish(ModelSpec m, std::string name, std::string_view file, const Value& root) {
  m.name = std::move(name);
  m.display_name = m.name;
  m.source = "HuggingFace config " + std::string(file);
  Status ok = validate(m);
  if (!ok) return Error(ok.error().code(), ok.error().message(), ok.error().hint(), root.location());
  return m;
}

Result<std::vector<ModelSpec>> parse_root(const Value& root, std::string_view file) {
  if (!root.is_object()) {
    return invalid_input("expected a JSON object (a HuggingFace config.json), got " + std::string(root.kind_name()), {},
                         root.location());
  }
  const Value* type_node = root.find("model_type");
  if (type_node == nullptr) {
    return invalid_input("missing key 'model_type'", supported_list(), root.location());
  }
  MLSYS_ASSIGN_OR_RETURN(const std::string type, type_node->as_string());
  const ConfigReader c(root);
  const std::string stem = file_stem(file);

  if (type == "deepseek_v2" || type == "deepseek_v3") {
    return unsupported("model_type '" + type +
                           "' (multi-head latent attention: q_lora_rank/kv_lora_rank low-rank Q/KV) is not supported",
                       supported_list(), type_node->location());
  }
  if (type == "clip") {
    std::vector<ModelSpec> towers;
    for (const bool vision : {false, true}) {
      const char* key = vision ? "vision_config" : "text_config";
      const Value* sub = root.find(key);
      if (sub == nullptr) return invalid_input(std::string("missing key '") + key + "'", "a CLIP config has two towers", root.location());
      if (!sub->is_object()) return invalid_input(std::string("key '") + key + "' must be an object", {}, sub->location());
      MLSYS_ASSIGN_OR_RETURN(ModelSpec tower, parse_clip_tower(ConfigReader(*sub), vision));
      MLSYS_ASSIGN_OR_RETURN(ModelSpec done, finish(std::move(tower), stem + (vision ? "-vision" : "-text"), file, *sub));
      towers.push_back(std::move(done));
    }
    return towers;
  }
  Result<ModelSpec> m = [&]() -> Result<ModelSpec> {
    if (type == "gpt2") return parse_gpt2(c);
    if (type == "clip_text_model") return parse_clip_tower(c, false);
    if (type == "clip_vision_model") return parse_clip_tower(c, true);
    if (type == "llama" || type == "mistral" || type == "mixtral" || type == "qwen2" || type == "qwen3" ||
        type == "qwen3_moe") {
      return parse_llama_family(c, type);
    }
    return unsupported("model_type '" + type + "' is not supported", supported_list(), type_node->location());
  }();
  if (!m) return m.error();
  MLSYS_ASSIGN_OR_RETURN(ModelSpec done, finish(std::move(*m), stem, file, root));
  return std::vector<ModelSpec>{std::move(done)};
}

/// Splits "path#tower" into path and tower ("" when absent).
std::pair<std::string, std::string> split_tower(std::string_view spec) {
  const size_t hash = spec.rfind('#');
  if (hash == std::string_view::npos) return {std::string(spec), ""};
  return {std::string(spec.substr(0, hash)), lower(spec.substr(hash + 1))};
}

Result<ModelSpec> pick(std::vector<ModelSpec> models, const std::string& tower, std::string_view file) {
  if (tower.empty()) {
    if (models.size() == 1) return std::move(models.front());
    std::vector<std::string> names;
    for (const ModelSpec& m : models) names.push_back(m.architecture.substr(m.architecture.rfind('-') + 1));
    return invalid_input("the config holds " + std::to_string(models.size()) + " models (" + join(names, ", ") + ")",
                         "choose one: " + std::string(file) + "#" + names.front(), Location{std::string(file), 0});
  }
  for (ModelSpec& m : models) {
    const std::string suffix = "-" + tower;
    if (m.architecture.size() > suffix.size() && m.architecture.ends_with(suffix)) return std::move(m);
  }
  return not_found("no tower '" + tower + "' in this config", "use #text or #vision", Location{std::string(file), 0});
}

}  // namespace

Result<std::vector<ModelSpec>> parse_hf_configs(std::string_view text, std::string_view file) {
  MLSYS_ASSIGN_OR_RETURN(const Value root, parse_json(text, file));
  return parse_root(root, file);
}

Result<ModelSpec> parse_hf_config(std::string_view text, std::string_view file) {
  MLSYS_ASSIGN_OR_RETURN(std::vector<ModelSpec> models, parse_hf_configs(text, file));
  return pick(std::move(models), "", file);
}

Result<std::vector<ModelSpec>> load_models(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(const std::string text, read_text_file(path));
  return parse_hf_configs(text, path);
}

Result<ModelSpec> load_model(const std::string& path) {
  auto [file, tower] = split_tower(path);
  MLSYS_ASSIGN_OR_RETURN(const std::string text, read_text_file(file));
  MLSYS_ASSIGN_OR_RETURN(std::vector<ModelSpec> models, parse_hf_configs(text, file));
  return pick(std::move(models), tower, file);
}

Result<ModelSpec> resolve_model(std::string_view name_or_path) {
  Result<ModelSpec> zoo_entry = find_model(name_or_path);
  if (zoo_entry) return zoo_entry;
  const bool looks_like_path = name_or_path.find('/') != std::string_view::npos ||
                               name_or_path.find(".json") != std::string_view::npos;
  if (looks_like_path) return load_model(std::string(name_or_path));
  return zoo_entry.error();
}

}  // namespace mlsys::model
