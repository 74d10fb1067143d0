// Models the serving papers evaluate that the model/ zoo does not (yet) hold: Mistral-7B
// (Sarathi-Serve), Yi-34B (Sarathi-Serve), OPT-13B/66B (DistServe). Zoo names and config.json
// paths go through model::resolve_model first.
//
//   MLSYS_ASSIGN_OR_RETURN(model::ModelSpec m, resolve_serving_model("mistral-7b"));
//   m.kv_heads;   // 8
//   resolve_serving_model("llama2-7b");   // the zoo entry
#pragma once

#include <string_view>

#include "mlsys/core/result.h"
#include "mlsys/model/model.h"

namespace mlsys::serve {

/// A zoo name, a config.json path, or one of mistral-7b, yi-34b, opt-13b, opt-66b. Errors are
/// model::resolve_model's, with these extra names listed in the hint.
Result<model::ModelSpec> resolve_serving_model(std::string_view name);

}  // namespace mlsys::serve
