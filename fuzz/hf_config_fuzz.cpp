// HuggingFace config.json importer (model/model.h): never crashes; every error names the file;
// an imported model validates, has a positive finite parameter count whose parts add up, and its
// op list has finite FLOPs and bytes.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/model/model.h"
#include "mlsys/model/ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const mlsys::Result<std::vector<mlsys::model::ModelSpec>> models =
      mlsys::model::parse_hf_configs(text, "fuzz.json");
  if (!models) {
    FUZZ_CHECK(!models.error().message().empty(), "an error says what went wrong");
    FUZZ_CHECK(models.error().where().file == "fuzz.json", "an error names the file");
    return 0;
  }
  FUZZ_CHECK(!models->empty(), "a config holds at least one model");
  for (const mlsys::model::ModelSpec& m : *models) {
    FUZZ_CHECK(mlsys::model::validate(m).ok(), "an imported model validates");
    const mlsys::model::ParameterCount c = mlsys::model::parameter_count(m);
    FUZZ_CHECK(std::isfinite(c.total) && c.total > 0, "positive finite parameter count");
    FUZZ_CHECK(c.active <= c.total, "active parameters are a subset");
    const mlsys::model::Shape shape{.batch = 1, .seq = std::min<int64_t>(mlsys::model::tokens_per_sample(m), 64)};
    for (const mlsys::model::Op& op : mlsys::model::layer_ops(m, shape)) {
      FUZZ_CHECK(std::isfinite(op.flops) && op.flops >= 0, "finite FLOPs");
      FUZZ_CHECK(std::isfinite(op.bytes) && op.bytes >= 0, "finite bytes");
    }
  }
  return 0;
}
